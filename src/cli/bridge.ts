import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerClient } from '@azure/storage-blob';
import { ConfigResourceTypes, Kafka, logLevel, Partitioners, type Admin, type KafkaConfig } from 'kafkajs';
import { BridgeStopError, forwardable, needsBlob, type Attribute, type Forward } from './bridge-record';
import { RequestGroup } from './request-group';

/** The privacy policy: batch images are deleted 7 days after upload, in-house copies included. */
export const PRIVACY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface BridgeOptions {
  /** The in-house cluster. */
  from: KafkaConfig;
  /** The cloud: Event Hubs' Kafka endpoint, or any Kafka cluster. */
  to: KafkaConfig;
  /** For the start line: what `to` is. */
  toDescription: string;
  topic: string;
  toTopic: string;
  groupId: string;
  /** Where values too large for Event Hubs go; without it such a record stops the bridge (it waits in-house). */
  batches?: ContainerClient;
  /** Registers each new batch to the bridge's identity and stamps its records with the ingest token (`--api`). */
  attribute?: Attribute;
  progressEveryMs: number;
  log: (line: string) => void;
  /** Waits between attempts while the cloud is away: doubling from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
}

export interface BridgeTotals {
  /** Records the cloud acknowledged (acks=all) and whose in-house offsets were committed after that. */
  forwarded: number;
  /** Key, value and header bytes of those records, as sent. */
  bytes: number;
  /** Of those, records whose value went to blob storage. */
  viaBlob: number;
  /** Records that cannot travel (too large and in no batch), logged and committed. */
  skipped: number;
  /** Failed attempts to reach the cloud (produce or blob upload). */
  failedAttempts: number;
  seconds: number;
  /** In-house records not yet forwarded, when known. */
  lag?: number;
}

export interface Bridge {
  /** Resolves once the consumer has joined its group on the in-house cluster. */
  joined: Promise<void>;
  totals(): BridgeTotals;
  /** Stops cleanly: the record in hand is not committed unless the cloud acknowledged it. */
  stop(): Promise<BridgeTotals>;
  /** Settles when the bridge stops: with the totals, or with the error that stopped it. */
  done: Promise<BridgeTotals>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);

/** In-house records not yet committed by the group: high watermark minus committed offset (or the log start). */
async function lagOf(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((sum, p) => {
    const next = done.get(p.partition) ?? -1;
    return sum + Math.max(0, Number(p.high) - (next >= 0 ? next : Number(p.low)));
  }, 0);
}

const retentionFix = (topic: string) =>
  `kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config retention.ms=${PRIVACY_RETENTION_MS}`;

/** The warning for an in-house topic whose retention.ms (-1: for ever) is longer than the privacy policy allows. */
export function retentionWarning(topic: string, retentionMs: number): string | undefined {
  if (retentionMs >= 0 && retentionMs <= PRIVACY_RETENTION_MS) return undefined;
  const kept = retentionMs < 0 ? 'for ever' : `for ${(retentionMs / 86_400_000).toFixed(1)} days`;
  return `bridge: WARNING in-house topic ${topic} keeps records ${kept}, longer than the 7-day privacy policy; shorten it: ${retentionFix(topic)}`;
}

/** Warns when the in-house topic keeps records longer than the privacy policy allows, or when that cannot be read. */
async function checkRetention(admin: Admin, topic: string, log: (line: string) => void): Promise<void> {
  try {
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
    const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue);
    if (!Number.isFinite(value)) throw new Error('no retention.ms in the answer');
    const warning = retentionWarning(topic, value);
    if (warning) log(warning);
  } catch (error) {
    log(`bridge: could not read retention.ms of in-house topic ${topic} (${message(error)}); it must be at most 7 days: ${retentionFix(topic)}`);
  }
}

/**
 * Forwards the in-house topic to the cloud. A consumer group on the in-house cluster reads the records; each produce
 * request to the cloud waits for acks=all, and only then are the records' in-house offsets resolved and committed.
 * While the cloud (or blob storage) is away the same request is retried with backoff, heartbeating so the group keeps
 * its partitions; the records wait in-house. After a crash or restart the group resumes from its committed offsets,
 * so records sent but not yet committed are sent again: duplicates, which ingest ignores (idempotent per batch item).
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { topic, toTopic, groupId, log } = options;
  const backoff = options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
  const quiet = { logLevel: logLevel.NOTHING };
  const inHouse = new Kafka({ ...options.from, ...quiet });
  // A killed bridge's partitions move to its restarted successor once this session times out (kafkajs: 30 s).
  // Fetches wait at most 500 ms for new records (the Java client's default; kafkajs waits 5 s).
  const consumer = inHouse.consumer({ groupId, allowAutoTopicCreation: true, sessionTimeout: 10_000, heartbeatInterval: 3000, maxWaitTimeInMs: 500 });
  const admin = inHouse.admin();
  // Few internal retries: the bridge's own loop retries for as long as it takes, heartbeating in between.
  const producer = new Kafka({ ...options.to, ...quiet, retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 3000 } }).producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // kafkajs refuses to send once connect() has failed or the producer disconnected, so every attempt reconnects if needed.
  let producerConnected = false;
  let connecting: Promise<void> | undefined;
  producer.on(producer.events.DISCONNECT, () => (producerConnected = false));
  const connectProducer = async () => {
    if (producerConnected) return;
    connecting ??= producer
      .connect()
      .then(() => void (producerConnected = true))
      .finally(() => (connecting = undefined));
    await connecting;
  };

  const started = Date.now();
  const totals: Omit<BridgeTotals, 'seconds'> = { forwarded: 0, bytes: 0, viaBlob: 0, skipped: 0, failedAttempts: 0 };
  const snapshot = (): BridgeTotals => ({ ...totals, seconds: (Date.now() - started) / 1000 });
  let outage: { since: number; attempts: number; error: string } | undefined;
  const stopping = new AbortController();
  let stopped: Promise<BridgeTotals> | undefined;
  let failure: Error | undefined;
  let settle: { resolve: (totals: BridgeTotals) => void; reject: (error: Error) => void } | undefined;
  const done = new Promise<BridgeTotals>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // the caller may only ever call stop()

  /** Waits `ms`, heartbeating; false when the bridge is stopping or the partition moved elsewhere. */
  async function pause(ms: number, heartbeat: () => Promise<void>, live: () => boolean): Promise<boolean> {
    for (let left = ms; left > 0 && live(); left -= 1000) {
      await heartbeat(); // a rebalance error leaves the batch uncommitted; kafkajs rejoins and delivers it again
      try {
        await sleep(Math.min(left, 1000), undefined, { signal: stopping.signal });
      } catch {
        return false;
      }
    }
    return live();
  }

  /** Runs `attempt` until it succeeds (undefined if the bridge stops first); BridgeStopError stops the bridge. */
  async function persist<T>(what: string, attempt: () => Promise<T>, heartbeat: () => Promise<void>, live: () => boolean): Promise<T | undefined> {
    for (let failures = 1; live(); failures++) {
      try {
        const result = await attempt();
        if (outage) log(`bridge: the cloud answers again after ${Math.round((Date.now() - outage.since) / 1000)} s (${outage.attempts} failed attempts)`);
        outage = undefined;
        return result;
      } catch (error) {
        if (error instanceof BridgeStopError) throw error;
        totals.failedAttempts++;
        outage = { since: outage?.since ?? Date.now(), attempts: (outage?.attempts ?? 0) + 1, error: message(error) };
        const wait = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 20));
        log(`bridge: ${what} failed (attempt ${failures}: ${message(error)}); retrying in ${(wait / 1000).toFixed(1)} s, the records wait in-house`);
        if (!(await pause(wait, heartbeat, live))) return undefined;
      }
    }
    return undefined;
  }

  let previous = { at: started, forwarded: 0, bytes: 0 };
  async function progress(): Promise<void> {
    const lag = await lagOf(admin, groupId, topic).then(String, (error: unknown) => `unknown (${message(error)})`);
    const now = { at: Date.now(), forwarded: totals.forwarded, bytes: totals.bytes };
    const seconds = Math.max(0.001, (now.at - previous.at) / 1000);
    const rate = `${((now.forwarded - previous.forwarded) / seconds).toFixed(1)} records/s, ${mb((now.bytes - previous.bytes) / seconds)} MB/s`;
    previous = now;
    const away = outage ? `; cloud away for ${Math.round((now.at - outage.since) / 1000)} s (${outage.attempts} failed attempts: ${outage.error})` : '';
    log(`bridge: ${totals.forwarded} records forwarded (${mb(totals.bytes)} MB, ${totals.viaBlob} via blob storage, ${totals.skipped} skipped), now ${rate}; lag ${lag} records${away}`);
  }

  const ticker = setInterval(() => void progress(), options.progressEveryMs);
  ticker.unref();
  try {
    await Promise.all([consumer.connect(), admin.connect(), connectProducer().catch((error: unknown) => log(`bridge: the cloud is not reachable yet (${message(error)}); records wait in-house`))]);
  } catch (error) {
    clearInterval(ticker);
    await Promise.all([consumer.disconnect(), admin.disconnect(), producer.disconnect()].map((p) => p.catch(() => undefined)));
    throw new Error(`Cannot reach the in-house cluster ${options.from.brokers}: ${message(error)}`);
  }
  await checkRetention(admin, topic, log);
  let markJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (markJoined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log(`bridge: joined group ${groupId}; partitions ${JSON.stringify(payload.memberAssignment)}`);
    markJoined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return; // kafkajs reconnects and rejoins by itself
    failure = payload.error;
    void stop();
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  log(`bridge: ${topic} on ${options.from.brokers} -> ${toTopic} on ${options.toDescription}, consumer group ${groupId}`);

  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommitThreshold: 1, // commitOffsetsIfNecessary() commits whatever has been resolved, i.e. acknowledged
    partitionsConsumedConcurrently: 4, // each partition's records still go in order, one request at a time
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      const live = () => !stopping.signal.aborted && isRunning() && !isStale();
      // kafkajs heartbeats only when asked; a produce request can take up to its timeout.
      const keepalive = setInterval(() => void heartbeat().catch(() => undefined), 3000);
      const group = new RequestGroup<{ forward: Forward; offset: string }>(({ forward }) => ('bytes' in forward ? forward.bytes : 0));
      const deliver = async (items: Array<{ forward: Forward; offset: string }>): Promise<boolean> => {
        const sent = items.flatMap(({ forward }) => ('message' in forward ? [forward] : []));
        if (sent.length) {
          const send = async () => {
            await connectProducer();
            return producer.send({ topic: toTopic, acks: -1, messages: sent.map((f) => f.message) });
          };
          if (!(await persist(`sending ${sent.length} records to the cloud`, send, heartbeat, live))) return false;
        }
        resolveOffset(items.at(-1)!.offset);
        await commitOffsetsIfNecessary();
        totals.forwarded += sent.length;
        totals.viaBlob += sent.filter((f) => f.viaBlob).length;
        totals.bytes += sent.reduce((sum, f) => sum + f.bytes, 0);
        return true;
      };
      try {
        for (const record of batch.messages) {
          const position = `${topic} partition ${batch.partition} offset ${record.offset}`;
          // Only a value that goes to blob storage, or a batch to register, needs the network (and retries).
          const forward =
            needsBlob(record) || options.attribute
              ? await persist(`preparing ${position} (blob storage, batch registration)`, () => forwardable(record, position, options.batches, options.attribute), heartbeat, live)
              : await forwardable(record, position, options.batches);
          if (!forward) return;
          if ('skip' in forward) {
            totals.skipped++;
            log(`bridge: skipped ${forward.skip}`);
          }
          const full = group.add({ forward, offset: record.offset });
          if (full && !(await deliver(full))) return;
        }
        const rest = group.take();
        if (rest.length) await deliver(rest);
      } catch (error) {
        if (!(error instanceof BridgeStopError)) throw error;
        // The records before the one that cannot travel still go; it and the rest wait in-house.
        const before = group.take();
        if (before.length) await deliver(before);
        failure = error;
        setImmediate(() => void stop()); // not awaited here: stopping waits for this batch to return
      } finally {
        clearInterval(keepalive);
      }
    },
  });

  function stop(): Promise<BridgeTotals> {
    stopped ??= (async () => {
      stopping.abort();
      clearInterval(ticker);
      await consumer.disconnect().catch((error: unknown) => log(`bridge: leaving the consumer group failed: ${message(error)}`));
      const lag = await lagOf(admin, groupId, topic).catch(() => undefined);
      await Promise.all([producer.disconnect(), admin.disconnect()].map((p) => p.catch(() => undefined)));
      const final = { ...snapshot(), lag };
      if (failure) settle!.reject(Object.assign(failure, { totals: final }));
      else settle!.resolve(final);
      return final;
    })();
    return stopped;
  }

  return { joined, totals: snapshot, stop, done };
}
