import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { maintenanceJobs, runDueJobs } from '../lib/jobs/maintenance';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

// Every minute (a timer trigger runs once across all instances): the jobs of src/lib/jobs/maintenance.ts that are due.
app.timer('maintenance', {
  schedule: '0 * * * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const services = await azureServices();
    const log = invocationLogger(context);
    await runDueJobs(maintenanceJobs({ services, starter: invocationStarter(context), log }), new Date(), log);
  },
});
