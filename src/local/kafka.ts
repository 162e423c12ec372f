import { Kafka, logLevel, Partitioners, type KafkaMessage } from 'kafkajs';
import { headersAsBytes, type RawRecord } from '../lib/batch/record';
import type { BatchStream } from '../lib/batch/stream';
import type { Logger } from '../lib/logger';
import type { TriggerRetryPolicy } from '../lib/orchestration/trigger-retry';
import type { RecordHandler } from './stream';
import { invokeTrigger } from './trigger-retry';

/** A Kafka message as the ingest handler takes it: headers as byte arrays, as the Event Hubs trigger passes them. */
export function fromKafkaMessage(message: KafkaMessage, partition: number): RawRecord {
  const headers: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = new Uint8Array(Buffer.isBuffer(first) ? first : Buffer.from(first));
  }
  return { key: message.key?.toString('utf8'), value: message.value ?? Buffer.alloc(0), headers, position: `partition ${partition} offset ${message.offset}` };
}

export interface KafkaStream extends BatchStream {
  /** Resolves once the consumer has joined its group and has partitions assigned. */
  joined: Promise<void>;
}

/**
 * Batch records over a real Kafka cluster: a kafkajs consumer group feeding the ingest handler with the Event Hubs
 * trigger's semantics (the offset moves on after the handler returns, or throws and has used up the retry policy),
 * and a producer for POST /api/batches.
 */
export async function startKafkaStream(options: {
  brokers: string[];
  topic: string;
  groupId: string;
  handler: RecordHandler;
  retry?: TriggerRetryPolicy;
  log: Logger;
}): Promise<KafkaStream> {
  const { brokers, topic, groupId, handler, log } = options;
  let closing = false;
  const kafka = new Kafka({
    clientId: 'image-pipeline-local',
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      if (level <= logLevel.WARN) log.warn(`kafka: ${entry.message}`);
    },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true });
  await producer.connect();
  await consumer.connect();
  let markJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (markJoined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => markJoined());
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (!batch.messages.length) return;
      const records = batch.messages.map((message) => fromKafkaMessage(message, batch.partition));
      const what = `batch ingest of ${records.length} records on partition ${batch.partition}`;
      const invoke = async () => {
        // Retries can outlast the session timeout. A failed heartbeat (a rebalance) is no reason to skip the records.
        await heartbeat().catch(() => undefined);
        await handler(records);
      };
      // Never throws: a throw would make kafkajs seek back and deliver the batch again, which the trigger does not do.
      if ((await invokeTrigger(invoke, { policy: options.retry, what, log, stopping: () => closing })) === 'stopped') return;
      resolveOffset(batch.messages.at(-1)!.offset);
      await heartbeat();
    },
  });
  return {
    description: `Kafka ${brokers.join(',')} topic ${topic}, consumer group ${groupId}`,
    joined,
    async publish(records) {
      await producer.send({
        topic,
        messages: records.map((record) => ({ key: record.key, value: record.value, headers: headersAsBytes(record.headers) })),
      });
    },
    async close() {
      closing = true;
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    },
  };
}
