import './telemetry';
import * as df from 'durable-functions';
import { batchActivities } from '../lib/orchestration/batch-activities';
import { BATCH_ACTIVITIES, createBatchOrchestrators, ITEM_RETRY } from '../lib/orchestration/batch-orchestrator';
import type { OrchestrationContextLike } from '../lib/orchestration/context';
import { azureServices, invocationLogger } from './services';

// durable-functions checks for a RetryOptions; the policy itself is src/lib's ITEM_RETRY.
const retry = Object.assign(new df.RetryOptions(ITEM_RETRY.firstRetryIntervalInMilliseconds, ITEM_RETRY.maxNumberOfAttempts), {
  backoffCoefficient: ITEM_RETRY.backoffCoefficient,
  maxRetryIntervalInMilliseconds: ITEM_RETRY.maxRetryIntervalInMilliseconds,
});

for (const [name, orchestrator] of Object.entries(createBatchOrchestrators(retry))) {
  // The assignment type-checks that durable-functions' context provides everything the orchestrators use.
  df.app.orchestration(name, function* (context: df.OrchestrationContext) {
    const shared: OrchestrationContextLike = context;
    return yield* orchestrator(shared);
  });
}

for (const name of Object.values(BATCH_ACTIVITIES)) {
  df.app.activity(name, {
    handler: async (input: unknown, context) => {
      const activities = batchActivities(await azureServices(), invocationLogger(context));
      return activities[name](input);
    },
  });
}
