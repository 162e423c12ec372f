import './telemetry';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { recordsFromEventHub, type EventHubTriggerMetadata } from '../lib/batch/event-hub-records';
import { ingestRecords } from '../lib/orchestration/intake';
import { INGEST_TRIGGER_RETRY } from '../lib/orchestration/trigger-retry';
import { invocationStarter } from './durable-starter';
import { azureServices, invocationLogger } from './services';

app.eventHub('ingestBatchRecords', {
  connection: 'EVENTHUB_CONNECTION',
  eventHubName: '%EVENTHUB_NAME%',
  consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
  cardinality: 'many',
  // Kafka record values are bytes: without this a JPEG would be decoded as a UTF-8 string. (Not in the typed
  // options, but passed through to the binding as function.json's dataType.)
  ...({ dataType: 'binary' } as object),
  extraInputs: [df.input.durableClient()],
  // The trigger checkpoints past a batch of events even when the function throws; this policy is the only
  // redelivery (the local stream and Kafka consumer apply the same one).
  retry: INGEST_TRIGGER_RETRY,
  handler: async (messages: unknown, context) => {
    const records = recordsFromEventHub(messages as unknown[], context.triggerMetadata as EventHubTriggerMetadata);
    const log = invocationLogger(context);
    const result = await ingestRecords({ services: await azureServices(), starter: invocationStarter(context), log }, records);
    log.info(
      `ingested ${records.length} records: ${result.accepted} new, ${result.duplicates} redelivered, ${result.rejected} rejected, ${result.deadLettered} dead-lettered; started ${result.started.length} batches`,
    );
  },
});
