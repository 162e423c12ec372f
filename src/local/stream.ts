import { appendFile, mkdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { headersAsBytes, type OutgoingRecord, type RawRecord } from '../lib/batch/record';
import type { BatchStream } from '../lib/batch/stream';
import type { Logger } from '../lib/logger';
import type { TriggerRetryPolicy } from '../lib/orchestration/trigger-retry';
import { invokeTrigger } from './trigger-retry';

export type RecordHandler = (records: RawRecord[]) => Promise<unknown>;

const PARTITIONS = 4;
const MAX_BATCH = 100;

/** Same partition for the same key, as Kafka and Event Hubs hash keys, so a batch's records stay in order. */
function partitionOf(key: string): number {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return Math.abs(hash) % PARTITIONS;
}

/** What a transport delivers: the headers as byte arrays, exactly like the Kafka and Event Hubs adapters. */
export const toRawRecord = (record: OutgoingRecord, position?: string): RawRecord => ({
  key: record.key,
  value: record.value,
  headers: Object.fromEntries(Object.entries(headersAsBytes(record.headers)).map(([name, bytes]) => [name, new Uint8Array(bytes)])),
  position,
});

/** A record waiting for the handler, and the partition position just after it (what committing it moves to). */
interface Queued {
  record: OutgoingRecord;
  offset: number;
  next: number;
}

/** One line of a partition log. */
const encode = (record: OutgoingRecord) => `${JSON.stringify({ key: record.key, headers: record.headers, value: record.value.toString('base64') })}\n`;
function decode(line: string): OutgoingRecord {
  const { key, headers, value } = JSON.parse(line) as { key: string; headers: Record<string, string>; value: string };
  return { key, headers, value: Buffer.from(value, 'base64') };
}

class Partition {
  readonly queue: Queued[] = [];
  /** Position after the last record published: a byte offset in the log, or a count in memory. */
  end = 0;
  /** Appends run one after another, so the log and the queue keep the same order. */
  appending: Promise<void> = Promise.resolve();
  draining?: Promise<void>;

  constructor(
    readonly index: number,
    readonly log?: string,
  ) {}

  get checkpoint(): string | undefined {
    return this.log && `${this.log}.checkpoint`;
  }
}

export interface InProcessStreamOptions {
  handler: RecordHandler;
  log: Logger;
  /** Folder for the partition logs and their checkpoints; without it the stream lives in memory. */
  folder?: string;
  /** The ingest function's retry policy, applied as the Functions host applies it. */
  retry?: TriggerRetryPolicy;
}

/**
 * The local host's default stream, standing in for Event Hubs: partitioned by key, delivered to the handler in
 * batches of up to 100 (like the trigger's cardinality many), with the trigger's semantics: after the handler
 * returns, or throws and has used up the retry policy, the position moves on. With a folder, every published
 * record is appended to its partition's log before publish resolves, and the position is a checkpoint file, so a
 * killed host delivers what it had not handled when it starts again.
 */
export class InProcessStream implements BatchStream {
  readonly description: string;
  private readonly partitions: Partition[];
  private closed = false;

  private constructor(private readonly options: InProcessStreamOptions) {
    const { folder } = options;
    this.partitions = Array.from({ length: PARTITIONS }, (_, i) => new Partition(i, folder && join(folder, `partition-${i}.log`)));
    this.description = `in-process stream (${PARTITIONS} partitions, ${folder ? `logged in ${folder}` : 'in memory'})`;
  }

  /** Opens the stream; with a folder, the records published but not yet handled are delivered again. */
  static async open(options: InProcessStreamOptions): Promise<InProcessStream> {
    const stream = new InProcessStream(options);
    if (options.folder) {
      await mkdir(options.folder, { recursive: true });
      for (const partition of stream.partitions) await stream.load(partition);
      const waiting = stream.partitions.reduce((sum, p) => sum + p.queue.length, 0);
      if (waiting) options.log.info(`in-process stream: delivering ${waiting} records not handled before the last stop`);
      for (const partition of stream.partitions) stream.drain(partition);
    }
    return stream;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new Error('The in-process stream is closed.');
    const byPartition = new Map<Partition, OutgoingRecord[]>();
    for (const record of records) {
      const partition = this.partitions[partitionOf(record.key)];
      const list = byPartition.get(partition) ?? [];
      byPartition.set(partition, list);
      list.push(record);
    }
    await Promise.all([...byPartition].map(([partition, list]) => this.append(partition, list)));
  }

  private append(partition: Partition, records: OutgoingRecord[]): Promise<void> {
    const appended = partition.appending.then(async () => {
      // Written before publish resolves: a record a producer was told is accepted survives a kill. In memory there is
      // nothing to write, so nothing is encoded (a record's value is an image: its base64 JSON line is garbage).
      const lines = partition.log ? records.map(encode) : [];
      if (partition.log) await appendFile(partition.log, lines.join(''));
      for (const [i, record] of records.entries()) {
        const offset = partition.end;
        partition.end += partition.log ? Buffer.byteLength(lines[i]) : 1;
        partition.queue.push({ record, offset, next: partition.end });
      }
      this.drain(partition);
    });
    partition.appending = appended.catch(() => undefined);
    return appended;
  }

  /** Reads a partition's log from its checkpoint; a torn last line (a kill mid-append, never acknowledged) is cut off. */
  private async load(partition: Partition): Promise<void> {
    const log = await readFile(partition.log!).catch(() => Buffer.alloc(0));
    const checkpoint = Number(await readFile(partition.checkpoint!, 'utf8').catch(() => '0'));
    const complete = log.lastIndexOf(0x0a) + 1;
    if (complete < log.length) await truncate(partition.log!, complete);
    if (checkpoint >= complete) {
      // Everything was handled: start an empty log. The checkpoint goes first, so a kill in between only redelivers.
      if (complete) {
        await this.commit(partition, 0);
        await truncate(partition.log!, 0);
      }
      return;
    }
    let offset = checkpoint;
    for (const line of log.subarray(checkpoint, complete).toString('utf8').split('\n').slice(0, -1)) {
      const next = offset + Buffer.byteLength(line) + 1;
      partition.queue.push({ record: decode(line), offset, next });
      offset = next;
    }
    partition.end = complete;
  }

  private async commit(partition: Partition, position: number): Promise<void> {
    if (!partition.checkpoint) return;
    await writeFile(`${partition.checkpoint}.tmp`, String(position));
    await rename(`${partition.checkpoint}.tmp`, partition.checkpoint);
  }

  private drain(partition: Partition): void {
    partition.draining ??= this.deliver(partition).finally(() => (partition.draining = undefined));
  }

  private async deliver(partition: Partition): Promise<void> {
    const { queue } = partition;
    while (queue.length && !this.closed) {
      const batch = queue.slice(0, MAX_BATCH);
      const records = batch.map((q) => toRawRecord(q.record, `partition ${partition.index} offset ${q.offset}`));
      const what = `batch ingest of ${records.length} records on partition ${partition.index}`;
      const result = await invokeTrigger(() => this.options.handler(records), { policy: this.options.retry, what, log: this.options.log, stopping: () => this.closed });
      if (result === 'stopped') return;
      await this.commit(partition, batch.at(-1)!.next);
      queue.splice(0, batch.length);
    }
  }

  /**
   * Empties the logs of partitions whose every record has been handled (the local host does after each retention
   * sweep), so the images, file names and callback URLs in handled records are not kept on disk. Records still
   * waiting stay, as they stay in Event Hubs until its retention.
   */
  async compact(): Promise<void> {
    await Promise.all(
      this.partitions.map((partition) => {
        if (!partition.log) return undefined;
        // After the appends in progress, so the log and the positions stay in step.
        const compacted = partition.appending.then(async () => {
          if (partition.queue.length || partition.draining || !partition.end) return;
          // The log first: a kill in between leaves a checkpoint past the end of an empty log, which load() takes
          // as everything handled (checkpoint first would deliver every handled record again).
          await truncate(partition.log!, 0);
          await this.commit(partition, 0);
          partition.end = 0;
        });
        partition.appending = compacted.catch(() => undefined);
        return compacted;
      }),
    );
  }

  /** Resolves when every published record has been handed to the handler and its position committed. */
  async idle(): Promise<void> {
    while (this.partitions.some((p) => p.draining)) await Promise.all(this.partitions.map((p) => p.draining));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.partitions.map((p) => p.appending));
    await Promise.all(this.partitions.map((p) => p.draining));
  }
}
