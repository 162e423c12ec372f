import { EventHubProducerClient, type EventDataBatch } from '@azure/event-hubs';
import { credentialFor } from '../azure-credential';
import type { Connection } from '../config';
import { headersAsBytes, type OutgoingRecord } from './record';
import type { BatchStream } from './stream';

/**
 * Publishes records to the event hub over AMQP. The partition key is the record key (the batch id), as a Kafka
 * producer's key would be, and the headers go as binary application properties, which is what Kafka headers are:
 * the ingest trigger sees the same thing whichever protocol the producer spoke.
 */
export function eventHubBatchStream(connection: Connection, eventHubName: string): BatchStream {
  let client: EventHubProducerClient | undefined;
  // Created on first use, so a host that never takes a web batch upload never opens an AMQP connection.
  const producer = () =>
    (client ??=
      connection.kind === 'connectionString'
        ? new EventHubProducerClient(connection.value, eventHubName)
        : new EventHubProducerClient(connection.endpoint, eventHubName, credentialFor(connection)));
  return {
    description: `Event Hubs ${connection.kind === 'identity' ? connection.endpoint : '(connection string)'} / ${eventHubName}`,
    async publish(records) {
      const byKey = new Map<string, OutgoingRecord[]>();
      for (const record of records) byKey.set(record.key, [...(byKey.get(record.key) ?? []), record]);
      for (const [partitionKey, list] of byKey) {
        let batch: EventDataBatch = await producer().createBatch({ partitionKey });
        for (const record of list) {
          const event = { body: record.value, properties: headersAsBytes(record.headers) };
          if (batch.tryAdd(event)) continue;
          if (batch.count === 0) throw new Error(`A record of ${record.value.length} bytes is over the event size limit.`);
          await producer().sendBatch(batch);
          batch = await producer().createBatch({ partitionKey });
          if (!batch.tryAdd(event)) throw new Error(`A record of ${record.value.length} bytes is over the event size limit.`);
        }
        if (batch.count > 0) await producer().sendBatch(batch);
      }
    },
    async close() {
      await client?.close();
    },
  };
}
