import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BatchStream } from '../lib/batch/stream';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { batchActivities } from '../lib/orchestration/batch-activities';
import { createBatchOrchestrators } from '../lib/orchestration/batch-orchestrator';
import { ingestRecords } from '../lib/orchestration/intake';
import { INGEST_TRIGGER_RETRY } from '../lib/orchestration/trigger-retry';
import type { Services } from '../lib/services';
import { DurableBackend } from './durable-backend';
import { orchestrationHandler } from './durable-engine';
import { FileHistoryStore, MemoryHistoryStore } from './history-store';
import { startKafkaStream } from './kafka';
import { InProcessStream } from './stream';

export interface LocalBatchPipeline {
  orchestrations: DurableBackend;
  stream: BatchStream & { joined?: Promise<void>; idle?: () => Promise<void>; compact?: () => Promise<void> };
  describe: string[];
  stop(): Promise<void>;
}

/**
 * The batch path of the local host: a stream (in-process, or Kafka when KAFKA_BROKERS is set) feeding the same
 * ingest handler as the Event Hubs trigger, with its retry policy, and a Durable backend running the same
 * orchestrators and activities as Durable Functions through durable-functions' replay engine. With
 * LOCAL_STORAGE_PATH the stream's log and the orchestration histories are kept on disk, and a restart carries on.
 */
export async function startBatchPipeline(services: Services, config: Config, log: Logger): Promise<LocalBatchPipeline> {
  const folder = config.local.storagePath;
  const orchestrations = new DurableBackend({
    orchestrations: Object.fromEntries(Object.entries(createBatchOrchestrators()).map(([name, generator]) => [name, orchestrationHandler(generator)])),
    activities: batchActivities(services, log),
    store: folder ? new FileHistoryStore(join(folder, 'orchestrations')) : new MemoryHistoryStore(),
    // sharp runs on libuv's thread pool: a few more activities than cores keeps it busy without thrashing.
    activityConcurrency: availableParallelism() + 2,
    log,
  });
  // Running instances resume before the stream delivers anything that could start one.
  await orchestrations.resume();
  const handler = (records: Parameters<typeof ingestRecords>[1]) => ingestRecords({ services, starter: orchestrations, log }, records);
  const brokers = config.local.kafkaBrokers;
  const stream = brokers
    ? await startKafkaStream({ brokers, topic: config.eventHubName, groupId: config.eventHubConsumerGroup, handler, retry: INGEST_TRIGGER_RETRY, log })
    : await InProcessStream.open({ handler, log, retry: INGEST_TRIGGER_RETRY, folder: folder && join(folder, 'stream') });
  return {
    orchestrations,
    stream,
    describe: [`Batch stream: ${stream.description}`, `Batch orchestrations: ${orchestrations.description}`],
    async stop() {
      await stream.close();
      await orchestrations.stop();
    },
  };
}
