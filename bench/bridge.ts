import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBridge } from '../src/cli/bridge';
import { buildRecord, headersAsBytes } from '../src/lib/batch/record';
import { hasKcat, startMockCluster, type MockCluster } from '../test/batch/kafka-mock';

const PARTITIONS = 4; // the mock cluster auto-creates topics with 4 partitions
const RUNS = 3;

/** Two shapes of record: image-sized values and small ones (where per-record cost shows). About 4 MB a partition, under the mock's ~5 MiB. */
const SHAPES = [
  { label: '64 KiB values', valueBytes: 64 * 1024, perPartition: 60 },
  { label: '4 KiB values', valueBytes: 4 * 1024, perPartition: 900 },
];

interface Measurement {
  seconds: number;
  cpuSeconds: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function cloudRecords(cloud: MockCluster, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'bench', brokers: [cloud.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } catch {
    return 0; // not created yet
  } finally {
    await admin.disconnect();
  }
}

/** The bridge in this process, from the moment its consumer group has partitions (the join is a one-off) to the last acknowledgement. */
async function bridgeCopy(inHouse: MockCluster, cloud: MockCluster, topic: string, count: number, run: number): Promise<Measurement> {
  const bridge = await startBridge({
    from: { clientId: 'bench-bridge', brokers: [inHouse.brokers] },
    to: { clientId: 'bench-bridge', brokers: [cloud.brokers] },
    toDescription: 'cloud mock',
    topic,
    toTopic: `${topic}-bridge-${run}`,
    groupId: `bench-bridge-${run}`,
    progressEveryMs: 60_000,
    log: () => undefined,
  });
  try {
    // The group join is a one-off: the clock starts when partitions are assigned, which is when fetching begins.
    await bridge.joined;
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (bridge.totals().forwarded < count) await sleep(2);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if ((await cloudRecords(cloud, `${topic}-bridge-${run}`)) !== count) throw new Error('the bridge copy is incomplete');
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await bridge.stop();
  }
}

/**
 * kcat (librdkafka, C) consuming the topic to its end and piping key and value into a kcat producer (acks=all). kcat -P
 * cannot set headers per record, so it moves a little less; bash's `times` reports both processes' CPU time.
 */
async function kcatCopy(inHouse: MockCluster, cloud: MockCluster, topic: string, count: number, run: number): Promise<Measurement> {
  const delimiter = randomBytes(16).toString('hex'); // never occurs in the values
  const target = `${topic}-kcat-${run}`;
  const script =
    `kcat -C -b ${inHouse.brokers} -t ${topic} -o beginning -e -q -f '%k\\t%s${delimiter}' | ` +
    `kcat -P -b ${cloud.brokers} -t ${target} -K '\\t' -D '${delimiter}' -X acks=all; times`;
  const started = performance.now();
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { maxBuffer: 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const children = stdout.trim().split('\n').at(-1)!.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/)!;
  const cpuSeconds = Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]);
  if ((await cloudRecords(cloud, target)) !== count) throw new Error('the kcat copy is incomplete');
  return { seconds, cpuSeconds };
}

/**
 * `npm run bench` (bridge): records/s and MB/s of `image-pipeline bridge` copying a topic between two librdkafka mock
 * clusters, next to kcat copying the same records between the same two clusters in the same run (medians of 3).
 */
export async function benchBridge(): Promise<void> {
  if (!hasKcat()) {
    console.log('\nBridge: skipped, kcat (librdkafka mock cluster) is not installed: apt-get install -y kcat');
    return;
  }
  const [inHouse, cloud] = await Promise.all([startMockCluster(), startMockCluster()]);
  try {
    console.log(`\nBridge: in-house mock cluster -> cloud mock cluster (librdkafka mocks on this machine, acks=all), medians of ${RUNS} runs`);
    console.log('  records                 copier   records/s    MB/s   wall s   CPU s   CPU vs kcat');
    for (const shape of SHAPES) {
      const topic = `bench-${shape.valueBytes}`;
      const count = shape.perPartition * PARTITIONS;
      const producer = new Kafka({ clientId: 'bench', brokers: [inHouse.brokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const batchId = `bench-${partition}`;
        for (let index = 0; index < shape.perPartition; index += 50) {
          const messages = Array.from({ length: Math.min(50, shape.perPartition - index) }, (_, i) => {
            const record = buildRecord({ batchId, index: index + i, count: shape.perPartition, fileName: `${index + i}.jpg`, contentType: 'image/jpeg', bytes: randomBytes(shape.valueBytes) });
            return { partition, key: record.key, value: record.value, headers: headersAsBytes(record.headers) };
          });
          await producer.send({ topic, acks: -1, messages });
        }
      }
      await producer.disconnect();
      const kcat: Measurement[] = [];
      const bridge: Measurement[] = [];
      for (let run = 0; run < RUNS; run++) {
        kcat.push(await kcatCopy(inHouse, cloud, topic, count, run));
        bridge.push(await bridgeCopy(inHouse, cloud, topic, count, run));
      }
      const megabytes = (count * shape.valueBytes) / 1_000_000;
      const kcatCpu = median(kcat.map((m) => m.cpuSeconds));
      for (const [copier, runs] of [['kcat', kcat], ['bridge', bridge]] as const) {
        const seconds = median(runs.map((m) => m.seconds));
        const cpu = median(runs.map((m) => m.cpuSeconds));
        console.log(
          `  ${`${count} x ${shape.label}`.padEnd(22)}  ${copier.padEnd(6)}  ${(count / seconds).toFixed(0).padStart(10)}  ${(megabytes / seconds).toFixed(1).padStart(6)}  ${seconds.toFixed(2).padStart(7)}  ${cpu.toFixed(2).padStart(6)}  ${`${(cpu / kcatCpu).toFixed(1)}x`.padStart(11)}`,
        );
      }
    }
    console.log('  (MB/s counts record values; kcat copies key and value, the bridge also the ip-* headers)');
  } finally {
    inHouse.stop();
    cloud.stop();
  }
}
