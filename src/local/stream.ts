import { setTimeout as sleep } from 'node:timers/promises';
import { headersAsBytes, type OutgoingRecord, type RawRecord } from '../lib/batch/record';
import type { BatchStream } from '../lib/batch/stream';
import type { Logger } from '../lib/logger';

export type RecordHandler = (records: RawRecord[]) => Promise<unknown>;

const PARTITIONS = 4;
const MAX_BATCH = 100;
const RETRY_MS = 1000;

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

/**
 * The local host's default stream, standing in for Event Hubs: partitioned by key, delivered to the handler in
 * batches of up to 100 (like the trigger's cardinality many), at least once: a throwing handler gets the same
 * records again after a second. In memory: records not yet handled are lost when the process stops.
 */
export class InProcessStream implements BatchStream {
  readonly description = `in-process stream (${PARTITIONS} partitions, in memory)`;
  private readonly queues: RawRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  private readonly draining: Array<Promise<void> | undefined> = [];
  private offset = 0;
  private closed = false;

  constructor(
    private readonly handler: RecordHandler,
    private readonly log: Logger,
  ) {}

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new Error('The in-process stream is closed.');
    for (const record of records) {
      const partition = partitionOf(record.key);
      this.queues[partition].push(toRawRecord(record, `partition ${partition} offset ${this.offset++}`));
      this.draining[partition] ??= this.drain(partition).finally(() => (this.draining[partition] = undefined));
    }
  }

  private async drain(partition: number): Promise<void> {
    const queue = this.queues[partition];
    while (queue.length && !this.closed) {
      const records = queue.slice(0, MAX_BATCH);
      try {
        await this.handler(records);
        queue.splice(0, records.length);
      } catch (error) {
        this.log.warn(`batch ingest failed on partition ${partition}; redelivering ${records.length} records`, error);
        await sleep(RETRY_MS);
      }
    }
  }

  /** Resolves when every published record has been handled. */
  async idle(): Promise<void> {
    while (this.draining.some(Boolean)) await Promise.all(this.draining);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.draining);
  }
}
