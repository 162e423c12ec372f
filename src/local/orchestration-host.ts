import { availableParallelism } from 'node:os';
import { ingestRecords } from '../lib/orchestration/intake';
import type { BatchStream } from '../lib/batch/stream';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { batchActivities } from '../lib/orchestration/batch-activities';
import { createBatchOrchestrators } from '../lib/orchestration/batch-orchestrator';
import type { Services } from '../lib/services';
import { startKafkaStream } from './kafka';
import { OrchestrationRunner } from './orchestration-runner';
import { InProcessStream } from './stream';

export interface LocalBatchPipeline {
  runner: OrchestrationRunner;
  stream: BatchStream & { joined?: Promise<void>; idle?: () => Promise<void> };
  describe: string[];
  stop(): Promise<void>;
}

/**
 * The batch path of the local host: a stream (in-process, or Kafka when KAFKA_BROKERS is set) feeding the same
 * ingest handler as the Event Hubs trigger, and the orchestration runner running the same orchestrators and
 * activities as Durable Functions.
 */
export async function startBatchPipeline(services: Services, config: Config, log: Logger): Promise<LocalBatchPipeline> {
  const runner = new OrchestrationRunner({
    orchestrations: createBatchOrchestrators(),
    activities: batchActivities(services, log),
    // sharp runs on libuv's thread pool: a few more activities than cores keeps it busy without thrashing.
    activityConcurrency: availableParallelism() + 2,
    log,
  });
  const handler = (records: Parameters<typeof ingestRecords>[1]) => ingestRecords({ services, starter: runner, log }, records);
  const brokers = config.local.kafkaBrokers;
  const stream = brokers
    ? await startKafkaStream({ brokers, topic: config.eventHubName, groupId: config.eventHubConsumerGroup, handler, log })
    : new InProcessStream(handler, log);
  return {
    runner,
    stream,
    describe: [`Batch stream: ${stream.description}`, 'Batch orchestrations: in-process runner (not durable across restarts)'],
    async stop() {
      await stream.close();
      await runner.stop();
    },
  };
}
