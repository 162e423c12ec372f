import { sha256 } from '../hash';
import { BLOB_CONTAINERS } from '../names';
import type { BlobStore } from '../storage/blob-store';
import { decodeHeaders, type RawRecord } from './record';

/**
 * Dead letters: batch records kept whole (value, headers, reason) in the `deadletter` container when they cannot be
 * stored (`<batch id>/<index>`) or cannot be placed in any batch (`unplaced/<sha256 of the record>`). Batch ids
 * never contain a slash and indexes are at most 4 digits, so the two kinds of names never meet.
 */
export interface DeadLetter {
  reason: string;
  key?: string;
  /** Partition/offset or sequence number, as the transport gave it. */
  position?: string;
  /** The record's `ip-*` headers as text. */
  headers: Record<string, string>;
  /** The record's value, base64. */
  value: string;
  at: string;
}

export const deadLetterName = (batchId: string, index: number) => `${batchId}/${index}`;

/** Same record, same name: a redelivered unplaceable record overwrites its dead letter instead of adding one. */
export function unplacedName(record: RawRecord): string {
  const headers = Object.entries(decodeHeaders(record.headers)).sort(([a], [b]) => a.localeCompare(b));
  return `unplaced/${sha256(Buffer.concat([Buffer.from(JSON.stringify([record.key ?? null, headers])), record.value]))}`;
}

export async function writeDeadLetter(blobs: BlobStore, name: string, record: RawRecord, reason: string, now = new Date()): Promise<void> {
  const letter: DeadLetter = {
    reason,
    ...(record.key !== undefined ? { key: record.key } : {}),
    ...(record.position ? { position: record.position } : {}),
    headers: decodeHeaders(record.headers),
    value: record.value.toString('base64'),
    at: now.toISOString(),
  };
  await blobs.put(BLOB_CONTAINERS.deadletter, name, Buffer.from(JSON.stringify(letter)), { contentType: 'application/json' });
}
