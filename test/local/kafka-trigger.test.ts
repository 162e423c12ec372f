import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, parseRecord, type RawRecord } from '../../src/lib/batch/record';
import { startKafkaStream, type KafkaStream } from '../../src/local/kafka';
import { quietLogger } from '../batch/host';
import { hasKcat, startMockCluster, type MockCluster } from '../batch/kafka-mock';
import { until } from '../support/until';

const skip = !hasKcat() && !process.env.CI;
if (skip) console.warn('test/local/kafka-trigger.test.ts skipped: kcat (librdkafka mock cluster) is not installed; apt-get install -y kcat');

const TOPIC = 'trigger-semantics';
const GROUP = 'trigger-semantics-group';


const key = (record: RawRecord) => {
  const parsed = parseRecord(record);
  return parsed.ok ? `${parsed.batchId}/${parsed.index}` : 'unparsed';
};

describe.skipIf(skip)('local Kafka consumer: the Event Hubs trigger\'s delivery semantics', () => {
  let cluster: MockCluster;
  const streams: KafkaStream[] = [];
  beforeAll(async () => {
    cluster = await startMockCluster();
  }, 30_000);
  afterAll(async () => {
    for (const stream of streams) await stream.close();
    cluster?.stop();
  });

  it('retries a throwing handler per the policy, then commits the offset anyway, so a restarted consumer starts after those records', async () => {
    const calls: string[][] = [];
    const log = quietLogger();
    const first = await startKafkaStream({
      brokers: [cluster.brokers],
      topic: TOPIC,
      groupId: GROUP,
      log,
      retry: { strategy: 'fixedDelay', maxRetryCount: 1, delayInterval: 10 },
      handler: async (records) => {
        calls.push(records.map(key));
        if (records.some((record) => key(record).startsWith('bad/'))) throw new Error('Cosmos DB unavailable');
      },
    });
    streams.push(first);
    await first.joined;
    await first.publish([buildRecord({ batchId: 'bad', index: 0, count: 1, bytes: Buffer.from('x') })]);
    await until(() => calls.length >= 2, { what: 'the retry', timeoutMs: 30_000, everyMs: 50 });
    await first.publish([buildRecord({ batchId: 'good', index: 0, count: 1, bytes: Buffer.from('y') })]);
    await until(() => calls.flat().includes('good/0'), { what: 'the next record', timeoutMs: 30_000, everyMs: 50 });
    // One call and one retry for the failing record, then it moved on.
    expect(calls.filter((call) => call.includes('bad/0'))).toHaveLength(2);
    expect(log.lines.some((line) => line.includes('moving on'))).toBe(true);
    await first.close();

    // The group's committed offsets are at the end of every partition: a restarted consumer starts after them.
    const admin = new Kafka({ clientId: 'test-admin', brokers: [cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(TOPIC);
      const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      const used = ends.filter((partition) => partition.high !== '0');
      expect(used.length).toBeGreaterThan(0);
      for (const partition of used) {
        expect(committed.partitions.find((p) => p.partition === partition.partition)?.offset).toBe(partition.high);
      }
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});
