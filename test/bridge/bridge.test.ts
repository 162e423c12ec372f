import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import { Kafka, logLevel, Partitioners, type Admin, type IHeaders, type Producer } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, registerBatch } from '../../src/cli/api-client';
import { startBridge, type Bridge } from '../../src/cli/bridge';
import { registeringAttribute } from '../../src/cli/bridge-record';
import { BLOB_REF_CONTENT_TYPE, buildRecord, headersAsBytes, MAX_INLINE_BYTES, type OutgoingRecord } from '../../src/lib/batch/record';
import { largePng, mixedBatch, type TestFile } from '../batch/batch-images';
import { hasKcat, startMockCluster, type MockCluster } from '../batch/kafka-mock';
import { startBatchHost, waitForBatch, type BatchView } from '../batch/host';
import { cuttableLink } from './link';

// In CI the bridge must be tested (.ci/run installs kcat); elsewhere a missing kcat only skips, loudly.
const skip = !hasKcat() && !process.env.CI;
if (skip) console.warn('test/bridge/bridge.test.ts skipped: kcat (librdkafka mock cluster) is not installed; apt-get install -y kcat');

const IN_HOUSE_TOPIC = 'image-batches';
const CLOUD_TOPIC = 'image-batches-cloud';
const CLI = join(__dirname, 'cli-process.cjs');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Records of a batch as an in-house producer sends them (format v1), `count` items cycling through `files`. */
const records = (batchId: string, files: TestFile[], count = files.length): OutgoingRecord[] =>
  Array.from({ length: count }, (_, index) => {
    const file = files[index % files.length];
    return buildRecord({ batchId, index, count, fileName: file.name, contentType: file.type, bytes: file.bytes });
  });

/** In-house records the group has not committed: high watermark minus committed offset, summed over partitions. */
async function uncommitted(admin: Admin, groupId: string, topic: string): Promise<{ committed: number; lag: number }> {
  const [ends, offsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map(offsets[0].partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce(
    (sum, p) => ({ committed: sum.committed + (done.get(p.partition) ?? 0), lag: sum.lag + Number(p.high) - (done.get(p.partition) ?? 0) }),
    { committed: 0, lag: 0 },
  );
}

describe.skipIf(skip)('bridge: in-house Kafka -> cloud Kafka (two librdkafka mock clusters) -> local host', () => {
  let inHouse: MockCluster;
  let cloud: MockCluster;
  let host: Awaited<ReturnType<typeof startBatchHost>>;
  let storageConnection: string;
  let producer: Producer;
  let admin: Admin;
  const link = cuttableLink();
  let bridge: Bridge;
  const bridgeLog: string[] = [];
  const cliOutput: string[] = [];

  const produce = (topic: string, list: OutgoingRecord[]) =>
    producer.send({ topic, messages: list.map((r) => ({ key: r.key, value: r.value, headers: headersAsBytes(r.headers) })) });
  const batchView = async (batchId: string): Promise<Partial<BatchView>> => {
    const response = await fetch(`${host.apiUrl}/batches/${batchId}`);
    return response.status === 200 ? ((await response.json()) as BatchView) : {};
  };
  /** Every item index of the batch, page by page, as the API lists them. */
  const itemIndexes = async (batchId: string): Promise<number[]> => {
    const indexes: number[] = [];
    for (let url: string | undefined = `${host.apiUrl}/batches/${batchId}/items?limit=100`; url; ) {
      const page = (await (await fetch(url)).json()) as { items: Array<{ itemIndex: number }>; continuationToken?: string };
      indexes.push(...page.items.map((i) => i.itemIndex));
      url = page.continuationToken ? `${host.apiUrl}/batches/${batchId}/items?limit=100&continuationToken=${encodeURIComponent(page.continuationToken)}` : undefined;
    }
    return indexes;
  };
  const receivedOnce = (batchId: string, count: number) => host.log.lines.filter((l) => l.includes(`batch ${batchId}: all ${count} items received`)).length;

  beforeAll(async () => {
    // The cloud answers each request 100 ms late, like a WAN link: a batch takes several round trips to forward.
    [inHouse, cloud] = await Promise.all([startMockCluster(), startMockCluster({ 'test.mock.broker.rtt': 100 })]);
    host = await startBatchHost({ KAFKA_BROKERS: cloud.brokers, EVENTHUB_NAME: CLOUD_TOPIC, EVENTHUB_CONSUMER_GROUP: 'ingest' });
    storageConnection = (host.services.config.storage as { value: string }).value;
    const kafka = new Kafka({ clientId: 'in-house-producer', brokers: [inHouse.brokers], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect(), (host.services.batchStream as { joined?: Promise<void> }).joined]);
    bridge = await startBridge({
      from: { clientId: 'bridge-test', brokers: [inHouse.brokers] },
      to: { clientId: 'bridge-test', brokers: [cloud.brokers], socketFactory: link.socketFactory },
      toDescription: 'cloud mock',
      topic: IN_HOUSE_TOPIC,
      toTopic: CLOUD_TOPIC,
      groupId: 'bridge',
      batches: BlobServiceClient.fromConnectionString(storageConnection).getContainerClient('batches'),
      progressEveryMs: 200,
      backoff: { initialMs: 100, maxMs: 400 },
      log: (line) => bridgeLog.push(line),
    });
    await bridge.joined;
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.error(`bridge log:\n${bridgeLog.slice(-40).join('\n')}\nbridge process output:\n${cliOutput.slice(-40).join('\n')}`);
  });

  afterAll(async () => {
    try {
      await bridge?.stop();
      await producer?.disconnect();
      await admin?.disconnect();
      await host?.stop();
    } finally {
      // kcat processes outlive a failed teardown otherwise
      inHouse?.stop();
      cloud?.stop();
    }
  });

  it('forwards a batch unchanged, a value too big for Event Hubs as a blob reference, and the batch completes', async () => {
    const batchId = 'bridge-batch-1';
    const { files } = await mixedBatch(6);
    const large = await largePng();
    expect(large.length).toBeGreaterThan(MAX_INLINE_BYTES);
    files.push({ name: 'large.png', type: 'image/png', bytes: large });
    const sent = records(batchId, files);
    await produce(IN_HOUSE_TOPIC, sent);
    // A large record that belongs to no batch cannot travel and is skipped, as ingest would skip it.
    await produce(IN_HOUSE_TOPIC, [{ key: 'stray', value: large, headers: { 'ip-version': '1' } }]);

    const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`);
    expect(batch).toMatchObject({ itemCount: 10, received: 10, succeeded: 7, failed: 3 });
    const largeItem = (await (await fetch(`${host.apiUrl}/images/${batchId}_9`)).json()) as { status: string; metadata: { width: number; height: number } };
    expect(largeItem).toMatchObject({ status: 'succeeded', metadata: { width: 700, height: 700 } });

    // What the cloud holds: the in-house records byte for byte, except the large value, now a blob reference.
    const cloudConsumer = new Kafka({ clientId: 'reader', brokers: [cloud.brokers], logLevel: logLevel.NOTHING }).consumer({ groupId: 'reader-1' });
    const seen = new Map<number, { key?: string; value: Buffer; headers: IHeaders }>();
    await cloudConsumer.connect();
    await cloudConsumer.subscribe({ topic: CLOUD_TOPIC, fromBeginning: true });
    await cloudConsumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== batchId) return;
        seen.set(Number(message.headers!['ip-item-index']!.toString()), { key: message.key.toString(), value: message.value!, headers: message.headers! });
      },
    });
    await waitFor('the batch in the cloud topic', () => seen.size === sent.length);
    await cloudConsumer.disconnect();
    for (const [index, original] of sent.entries()) {
      const forwarded = seen.get(index)!;
      expect(forwarded.key).toBe(batchId);
      const headers = Object.fromEntries(Object.entries(forwarded.headers).map(([name, value]) => [name, value!.toString()]));
      if (index < 9) {
        expect(forwarded.value.equals(original.value), `item ${index} value`).toBe(true);
        expect(headers).toEqual(original.headers);
      } else {
        expect(JSON.parse(forwarded.value.toString())).toEqual({ blob: `batches/${batchId}/9` });
        expect(headers).toEqual({ ...original.headers, 'ip-content-type': BLOB_REF_CONTENT_TYPE });
        expect((await host.services.blobs.get('batches', `${batchId}/9`))!.bytes.equals(large)).toBe(true);
      }
    }
    await waitFor('the bridge to count the skipped record', () => bridge.totals().skipped === 1);
    expect(bridgeLog.some((l) => /skipped .*partition \d+ offset \d+: a \d+-byte value, too large for Event Hubs, in a record that belongs to no batch/.test(l))).toBe(true);
    expect(bridge.totals()).toMatchObject({ forwarded: 10, viaBlob: 1, skipped: 1 });
    expect(await uncommitted(admin, 'bridge', IN_HOUSE_TOPIC)).toMatchObject({ lag: 0 });
  });

  it('with --api, registers each new batch to its own identity and stamps the records; a record with its own token passes as it is', async () => {
    const topic = 'in-house-attributed';
    const { files } = await mixedBatch(2);
    // An in-house producer that registered its batch itself (the local host is AUTH_MODE=open: its one user).
    const api = apiClient(host.apiUrl, async () => ({}));
    const ownToken = await registerBatch(api, 'bridge-batch-own', 2);
    const own = records('bridge-batch-own', files.slice(0, 2)).map((r) => ({ ...r, headers: { ...r.headers, 'ip-batch-token': ownToken } }));
    await produce(topic, [...records('bridge-batch-6', files.slice(0, 2)), ...own]);
    const log: string[] = [];
    const registered: string[] = [];
    const attributing = await startBridge({
      from: { clientId: 'bridge-test', brokers: [inHouse.brokers] },
      to: { clientId: 'bridge-test', brokers: [cloud.brokers] },
      toDescription: 'cloud mock',
      topic,
      toTopic: CLOUD_TOPIC,
      groupId: 'bridge-attributed',
      progressEveryMs: 60_000,
      attribute: registeringAttribute((batchId, count) => (registered.push(batchId), registerBatch(api, batchId, count)), (line) => log.push(line)),
      log: (line) => log.push(line),
    });
    try {
      for (const batchId of ['bridge-batch-6', 'bridge-batch-own']) {
        expect(await waitForBatch(`${host.apiUrl}/batches/${batchId}`)).toMatchObject({ status: 'completed', owner: 'local-user', received: 2 });
      }
    } finally {
      await attributing.stop();
    }
    // Registered once, although two records came; the batch that had its token was left alone.
    expect(registered).toEqual(['bridge-batch-6']);
    // An unattributing bridge's batch belongs to nobody.
    expect(await batchView('bridge-batch-1')).toMatchObject({ owner: 'unattributed' });
  });

  it('keeps records in-house while the cloud is away mid-batch (a produce in flight), then delivers each item once', async () => {
    const batchId = 'bridge-batch-2';
    const { files } = await mixedBatch(8);
    const sent = records(batchId, files, 80);
    const before = bridge.totals();
    await produce(IN_HOUSE_TOPIC, sent.slice(0, 20));
    await waitFor('the first 20 items in the cloud', async () => (await batchView(batchId)).received === 20);
    await waitFor('their in-house offsets committed', async () => (await uncommitted(admin, 'bridge', IN_HOUSE_TOPIC)).lag === 0);

    // The link goes down just after the next produce request left: its acknowledgement never arrives.
    const failuresBefore = bridge.totals().failedAttempts;
    link.cutAfterNextProduce();
    await produce(IN_HOUSE_TOPIC, sent.slice(20));
    await waitFor('the cut', () => link.cuts === 1);
    await waitFor('three failed attempts while the cloud is away', () => bridge.totals().failedAttempts >= failuresBefore + 3);
    // Nothing after the cut was acknowledged, so all 60 records wait in-house; the bridge's progress says so too.
    expect(await uncommitted(admin, 'bridge', IN_HOUSE_TOPIC)).toMatchObject({ lag: 60 });
    await waitFor('a progress line with the lag during the outage', () => bridgeLog.some((l) => /lag 60 records; cloud away for \d+ s/.test(l)));
    const during = await batchView(batchId);
    expect(during.status).toBe('receiving');
    expect(during.received).toBeLessThan(80);
    expect(bridge.totals().forwarded).toBe(before.forwarded + 20);

    link.restore();
    const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`);
    expect(batch).toMatchObject({ itemCount: 80, received: 80, processed: 80 });
    const invalid = sent.filter((_, index) => index % files.length >= 8).length; // mixedBatch(8): files 8-10 are invalid
    expect(batch.summary!.counts).toEqual({ succeeded: 80 - invalid, failed: invalid, pending: 0 });
    expect((await itemIndexes(batchId)).sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(receivedOnce(batchId, 80)).toBe(1);
    expect(bridgeLog.some((l) => /the cloud answers again after \d+ s \(\d+ failed attempts\)/.test(l))).toBe(true);
    await waitFor('the in-house offsets committed', async () => (await uncommitted(admin, 'bridge', IN_HOUSE_TOPIC)).lag === 0);
  });

  it('starts while the cloud is unreachable, keeps the records in-house, and forwards them once it answers', async () => {
    const topic = 'in-house-late-cloud';
    const batchId = 'bridge-batch-5';
    const { files } = await mixedBatch(2);
    await produce(topic, records(batchId, files));
    const late = cuttableLink();
    late.cut();
    const log: string[] = [];
    const lateBridge = await startBridge({
      from: { clientId: 'bridge-test', brokers: [inHouse.brokers] },
      to: { clientId: 'bridge-test', brokers: [cloud.brokers], socketFactory: late.socketFactory },
      toDescription: 'cloud mock',
      topic,
      toTopic: CLOUD_TOPIC,
      groupId: 'bridge-late',
      progressEveryMs: 60_000,
      backoff: { initialMs: 100, maxMs: 400 },
      log: (line) => log.push(line),
    });
    try {
      expect(log[0]).toMatch(/^bridge: the cloud is not reachable yet \(.*ECONNREFUSED.*\); records wait in-house$/);
      await waitFor('two failed attempts', () => lateBridge.totals().failedAttempts >= 2);
      expect(await uncommitted(admin, 'bridge-late', topic)).toEqual({ committed: 0, lag: 5 });
      late.restore();
      const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`);
      expect(batch).toMatchObject({ itemCount: 5, received: 5, succeeded: 2, failed: 3 });
    } finally {
      await lateBridge.stop();
    }
    expect(await uncommitted(admin, 'bridge-late', topic)).toEqual({ committed: 5, lag: 0 });
  });

  it('stops with a clear error at a value too large for Event Hubs when it has no blob storage; that record waits in-house', async () => {
    const topic = 'in-house-no-storage';
    const batchId = 'bridge-batch-4';
    const { files } = await mixedBatch(2);
    const large = { name: 'large.png', type: 'image/png', bytes: await largePng() };
    await produce(topic, records(batchId, [files[0], large, files[1]]));
    const log: string[] = [];
    const noStorage = await startBridge({
      from: { clientId: 'bridge-test', brokers: [inHouse.brokers] },
      to: { clientId: 'bridge-test', brokers: [cloud.brokers] },
      toDescription: 'cloud mock',
      topic,
      toTopic: CLOUD_TOPIC,
      groupId: 'bridge-no-storage',
      progressEveryMs: 60_000,
      log: (line) => log.push(line),
    });
    const error = (await noStorage.done.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { totals: { forwarded: number; lag?: number } };
    expect(error.message).toMatch(
      /^in-house-no-storage partition \d+ offset 1 \(batch bridge-batch-4, item 1\) has a \d+-byte value, over the 921600-byte Event Hubs limit: restart the bridge with --storage-account \(or --storage-connection\)/,
    );
    // The record before it was forwarded; it and the one after it wait in-house.
    expect(error.totals).toMatchObject({ forwarded: 1, lag: 2 });
    expect(await uncommitted(admin, 'bridge-no-storage', topic)).toEqual({ committed: 1, lag: 2 });
    await waitFor('the first item in the cloud', async () => (await batchView(batchId)).received === 1);
  });

  it('a bridge process killed (SIGKILL) mid-batch and restarted loses nothing and counts nothing twice; SIGTERM prints totals', async () => {
    const topic = 'in-house-kill';
    const batchId = 'bridge-batch-3';
    const { files } = await mixedBatch(6);
    const sent = records(batchId, files, 120);
    await produce(topic, sent);
    const output = cliOutput;
    const startCli = (): ChildProcess => {
      const child = spawn(process.execPath, [CLI, 'bridge', '--from', inHouse.brokers, '--to', cloud.brokers, '--topic', topic, '--to-topic', CLOUD_TOPIC, '--group', 'bridge-cli', '--storage-connection', storageConnection, '--progress-seconds', '0.5'], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (chunk) => output.push(...String(chunk).split('\n').filter(Boolean)));
      return child;
    };

    const first = startCli();
    try {
      // Kill once the cloud acknowledged part of the batch (some offsets committed) and the rest is still in-house.
      const atKill = await waitFor('part of the batch committed', async () => {
        const state = await uncommitted(admin, 'bridge-cli', topic).catch(() => undefined);
        return state && state.committed > 0 && state.lag > 0 ? state : undefined;
      });
      first.kill('SIGKILL');
      await once(first, 'exit');
      const afterKill = await uncommitted(admin, 'bridge-cli', topic);
      expect(afterKill.committed).toBeLessThan(120);
      expect(afterKill.committed).toBeGreaterThanOrEqual(atKill.committed);
      expect(output.some((l) => l.startsWith('bridge totals'))).toBe(false);
    } finally {
      first.kill('SIGKILL');
    }

    const second = startCli();
    try {
      const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`, 90_000);
      expect(batch).toMatchObject({ itemCount: 120, received: 120, processed: 120 });
      expect((await itemIndexes(batchId)).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i));
      expect(receivedOnce(batchId, 120)).toBe(1);
      await waitFor('a progress line with lag 0', () => output.some((l) => / lag 0 records$/.test(l)));
      second.kill('SIGTERM');
      const [code] = await once(second, 'exit');
      expect(code).toBe(0);
      expect(output).toContain('bridge: SIGTERM, stopping (records not yet acknowledged stay in-house)');
      expect(output.find((l) => l.startsWith('bridge totals'))).toMatch(/^bridge totals: \d+ records forwarded \(.* MB, 0 via blob storage\), 0 skipped, 0 failed attempts, [\d.]+ s; lag at exit 0 records$/);
      expect(await uncommitted(admin, 'bridge-cli', topic)).toEqual({ committed: 120, lag: 0 });
    } finally {
      second.kill('SIGKILL');
    }
  }, 180_000);
});
