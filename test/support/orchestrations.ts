import type { Logger } from '../../src/lib/logger';
import { batchActivities, type ActivityServices } from '../../src/lib/orchestration/batch-activities';
import { createBatchOrchestrators } from '../../src/lib/orchestration/batch-orchestrator';
import type { RetryPolicy } from '../../src/lib/orchestration/context';
import type { OrchestrationStarter } from '../../src/lib/orchestration/starter';
import { OrchestrationRunner } from '../../src/local/orchestration-runner';

/** Activity retries as in Azure (4 attempts, backoff), with millisecond delays so tests run fast. */
export const FAST_RETRY: RetryPolicy = { firstRetryIntervalInMilliseconds: 5, maxNumberOfAttempts: 4, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 20 };

export interface TestEngine {
  starter: OrchestrationStarter;
  /** Resolves once the instance has ended, completed or failed. */
  ended(instanceId: string): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The project's batch orchestrators and activities on an in-process engine. The one place tests choose the engine:
 * today the local runner (src/local/orchestration-runner.ts).
 */
export function orchestrationEngine(services: ActivityServices, log: Logger, retry: RetryPolicy = FAST_RETRY): TestEngine {
  const runner = new OrchestrationRunner({ orchestrations: createBatchOrchestrators(retry), activities: batchActivities(services, log), log });
  return { starter: runner, ended: (instanceId) => runner.waitFor(instanceId), stop: () => runner.stop() };
}
