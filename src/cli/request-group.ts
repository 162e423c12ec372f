import { MAX_INLINE_BYTES } from '../lib/batch/record';

/** At most this many records go in one produce request. */
export const MAX_RECORDS_PER_REQUEST = 50;

/**
 * Collects records into produce requests of about 1 MB (values up to MAX_INLINE_BYTES in total, at most
 * MAX_RECORDS_PER_REQUEST records): below Event Hubs' request limit, large enough to keep the pipe full.
 */
export class RequestGroup<T> {
  private items: T[] = [];
  private bytes = 0;

  constructor(private readonly bytesOf: (item: T) => number) {}

  /** Adds an item; returns the group it did not fit in (to be sent first), if there was one. */
  add(item: T): T[] | undefined {
    const size = this.bytesOf(item);
    const full = this.items.length >= MAX_RECORDS_PER_REQUEST || (this.items.length > 0 && this.bytes + size > MAX_INLINE_BYTES) ? this.take() : undefined;
    this.items.push(item);
    this.bytes += size;
    return full;
  }

  /** Empties the group and returns what it held. */
  take(): T[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }
}
