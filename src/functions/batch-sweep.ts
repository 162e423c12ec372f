import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { sweepBatches } from '../lib/orchestration/batch-sweep';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

// Every minute (timer triggers run once across all instances): closes batches whose receive window ran out and
// ends batches whose orchestration failed without ending them. A batch closes within a minute after its timeout.
app.timer('sweepBatches', {
  schedule: '0 * * * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const services = await azureServices();
    await sweepBatches({ services, starter: invocationStarter(context), log: invocationLogger(context), timeoutSeconds: services.config.batchReceiveTimeoutSeconds });
  },
});
