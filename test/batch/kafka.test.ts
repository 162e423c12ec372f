import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, headersAsBytes, type OutgoingRecord } from '../../src/lib/batch/record';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { apiClient, registerBatch } from '../../src/cli/api-client';
import { collectFiles, sendBatch } from '../../src/cli/send';
import { mixedBatch } from './batch-images';
import { startBatchHost, waitForBatch } from './host';
import { hasKcat, startMockCluster, type MockCluster } from './kafka-mock';

// In CI the Kafka path must be tested (.ci/run installs kcat); elsewhere a missing kcat only skips, loudly.
const skip = !hasKcat() && !process.env.CI;
if (skip) console.warn('test/batch/kafka.test.ts skipped: kcat (librdkafka mock cluster) is not installed; apt-get install -y kcat');

const TOPIC = 'image-batches-test';

describe.skipIf(skip)('batches over Kafka (librdkafka mock cluster) into the local host', () => {
  let cluster: MockCluster;
  let host: Awaited<ReturnType<typeof startBatchHost>>;
  let producer: Producer;

  beforeAll(async () => {
    cluster = await startMockCluster();
    host = await startBatchHost({ KAFKA_BROKERS: cluster.brokers, EVENTHUB_NAME: TOPIC, EVENTHUB_CONSUMER_GROUP: 'image-pipeline-test' });
    await (host.services.batchStream as { joined?: Promise<void> }).joined;
    producer = new Kafka({ clientId: 'test', brokers: [cluster.brokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }, 60_000);
  afterAll(async () => {
    await producer?.disconnect();
    await host?.stop();
    cluster?.stop();
  });

  const send = (records: OutgoingRecord[]) =>
    producer.send({ topic: TOPIC, messages: records.map((r) => ({ key: r.key, value: r.value, headers: headersAsBytes(r.headers) })) });

  it('assembles a 20-image batch (3 invalid, redeliveries) and summarises it once', async () => {
    const { files, invalid, duplicateOf } = await mixedBatch(17);
    const batchId = 'kafka-batch-1';
    const records = files.map((f, index) => buildRecord({ batchId, index, count: files.length, fileName: f.name, contentType: f.type, bytes: f.bytes }));
    await send(records.slice(0, 19));
    // Redeliveries before and after the batch is complete: each item counts once.
    await send([records[0], records[5]]);
    await send([records[19], records[19]]);
    // A record that belongs to no batch is kept in the rejected-records store without disturbing the others.
    await send([{ key: 'x', value: Buffer.from('?'), headers: { 'ip-version': '1' } }]);

    const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`);
    expect(batch).toMatchObject({ itemCount: 20, received: 20, processed: 20, succeeded: 17, failed: 3 });
    expect(batch.summary!.counts).toEqual({ succeeded: 17, failed: 3, pending: 0 });
    expect(batch.summary!.failures.map((f) => f.index)).toEqual(invalid);
    expect(batch.summary!.failures.map((f) => f.fileName)).toEqual(['notes.txt', 'cut.jpg', 'bomb.png']);
    expect(batch.summary!.duplicateGroups).toEqual([{ perceptualHash: expect.any(String), items: duplicateOf }]);
    expect(Object.values(batch.summary!.formats).reduce((a, b) => a + b, 0)).toBe(17);
    expect(host.log.lines.filter((l) => l.includes(`batch ${batchId}: all 20 items received`))).toHaveLength(1);
    const unplaced: string[] = [];
    for await (const blob of host.services.blobs.list(BLOB_CONTAINERS.deadletter, 'unplaced/')) unplaced.push(blob.name);
    expect(unplaced).toHaveLength(1);
    const letter = JSON.parse((await host.services.blobs.get(BLOB_CONTAINERS.deadletter, unplaced[0]))!.bytes.toString('utf8'));
    expect(letter).toMatchObject({ key: 'x', headers: { 'ip-version': '1' }, value: Buffer.from('?').toString('base64'), reason: expect.stringContaining('cannot be placed') });
  });

  it('the CLI sends a folder as a batch (registered first with --api), and refuses large files without --storage-connection, before registering', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'batch-cli-'));
    try {
      const { files } = await mixedBatch(4);
      await Promise.all(files.map((f, i) => writeFile(join(folder, `${String(i).padStart(2, '0')}-${f.name}`), f.bytes)));
      expect((await collectFiles([folder])).length).toBe(7);
      const registered: string[] = [];
      const register = (id: string, count: number) => (registered.push(id), registerBatch(apiClient(host.apiUrl, async () => ({})), id, count));
      const sent = await sendBatch({ paths: [folder], kafka: { clientId: 'cli-test', brokers: [cluster.brokers] }, topic: TOPIC, register }, () => undefined);
      const batch = await waitForBatch(`${host.apiUrl}/batches/${sent.batchId}`);
      expect(batch.summary!.counts).toEqual({ succeeded: 4, failed: 3, pending: 0 });
      // Registered to the local host's one user (AUTH_MODE=open), and every record carried the token, or it would not have joined.
      expect(batch).toMatchObject({ owner: 'local-user', received: 7 });
      expect(registered).toEqual([sent.batchId]);

      await writeFile(join(folder, 'huge.bin'), Buffer.alloc(1024 * 1024));
      await expect(sendBatch({ paths: [folder], kafka: { clientId: 'cli-test', brokers: [cluster.brokers] }, topic: TOPIC, register }, () => undefined)).rejects.toThrow(/--storage-connection/);
      expect(registered).toHaveLength(1);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
