import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { recordsFromEventHub, type EventHubTriggerMetadata } from '../lib/batch/event-hub-records';
import { ingestRecords } from '../lib/orchestration/intake';
import { INGEST_TRIGGER_RETRY } from '../lib/orchestration/trigger-retry';
import type { OrchestrationStarter } from '../lib/orchestration/starter';
import { azureServices } from './services';

/** Durable's client as the ingest handler's starter: the instance id is the batch id, started at most once. */
export function durableStarter(client: Pick<df.DurableClient, 'getStatus' | 'startNew'>): OrchestrationStarter {
  // getStatus answers (any state) when the instance exists and throws on 404.
  const status = async (instanceId: string) => {
    try {
      return await client.getStatus(instanceId);
    } catch (error) {
      if (/\b404\b/.test((error as Error).message)) return undefined;
      throw error;
    }
  };
  return {
    async startOnce(name, instanceId, input) {
      // startNew would restart a finished instance: only a missing one is started.
      if ((await status(instanceId))?.runtimeStatus) return false;
      try {
        await client.startNew(name, { instanceId, input });
        return true;
      } catch (error) {
        // Another trigger instance won the race between our getStatus and startNew.
        if (/already exists|409|Conflict/i.test((error as Error).message)) return false;
        throw error;
      }
    },
    async getStatus(instanceId) {
      const found = await status(instanceId);
      if (!found?.runtimeStatus) return undefined;
      // A failed orchestration's output is its error message.
      const failed = found.runtimeStatus === df.OrchestrationRuntimeStatus.Failed;
      return { runtimeStatus: found.runtimeStatus, output: failed ? undefined : found.output, failure: failed ? String(found.output) : undefined, customStatus: found.customStatus };
    },
  };
}

app.eventHub('ingestBatchRecords', {
  connection: 'EVENTHUB_CONNECTION',
  eventHubName: '%EVENTHUB_NAME%',
  consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
  cardinality: 'many',
  // The checkpoint moves on even when the function throws: only this runs the same records again first.
  retry: INGEST_TRIGGER_RETRY,
  // Kafka record values are bytes: without this a JPEG would be decoded as a UTF-8 string. (Not in the typed
  // options, but passed through to the binding as function.json's dataType.)
  ...({ dataType: 'binary' } as object),
  extraInputs: [df.input.durableClient()],
  handler: async (messages: unknown, context) => {
    const records = recordsFromEventHub(messages as unknown[], context.triggerMetadata as EventHubTriggerMetadata);
    const result = await ingestRecords({ services: await azureServices(), starter: durableStarter(df.getClient(context)), log: context }, records);
    context.log(`ingested ${records.length} records: ${result.accepted} new, ${result.duplicates} redelivered, ${result.unplaceable} unplaceable; started ${result.started.length} batches`);
  },
});
