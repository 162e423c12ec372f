import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { recordsFromEventHub, type EventHubTriggerMetadata } from '../lib/batch/event-hub-records';
import { ingestRecords } from '../lib/orchestration/intake';
import type { OrchestrationStarter } from '../lib/orchestration/starter';
import { azureServices } from './services';

/** Durable's client as the ingest handler's starter: the instance id is the batch id, started at most once. */
function durableStarter(context: InvocationContext): OrchestrationStarter {
  const client = df.getClient(context);
  return {
    async startOnce(name, instanceId, input) {
      try {
        // getStatus answers (any state) when the instance exists and throws on 404; startNew would restart a finished one.
        if ((await client.getStatus(instanceId)).runtimeStatus) return false;
      } catch (error) {
        if (!/\b404\b/.test((error as Error).message)) throw error;
      }
      try {
        await client.startNew(name, { instanceId, input });
        return true;
      } catch (error) {
        // Another trigger instance won the race between our getStatus and startNew.
        if (/already exists|409|Conflict/i.test((error as Error).message)) return false;
        throw error;
      }
    },
  };
}

app.eventHub('ingestBatchRecords', {
  connection: 'EVENTHUB_CONNECTION',
  eventHubName: '%EVENTHUB_NAME%',
  consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
  cardinality: 'many',
  // Kafka record values are bytes: without this a JPEG would be decoded as a UTF-8 string. (Not in the typed
  // options, but passed through to the binding as function.json's dataType.)
  ...({ dataType: 'binary' } as object),
  extraInputs: [df.input.durableClient()],
  handler: async (messages: unknown, context) => {
    const records = recordsFromEventHub(messages as unknown[], context.triggerMetadata as EventHubTriggerMetadata);
    const result = await ingestRecords({ services: await azureServices(), starter: durableStarter(context), log: context }, records);
    context.log(`ingested ${records.length} records: ${result.accepted} new, ${result.duplicates} redelivered, ${result.unplaceable} unplaceable; started ${result.started.length} batches`);
  },
});
