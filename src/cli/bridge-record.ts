import type { ContainerClient } from '@azure/storage-blob';
import type { KafkaMessage, Message } from 'kafkajs';
import { BLOB_REF_CONTENT_TYPE, blobReference, decodeHeaders, HEADERS, itemBlobName, MAX_INLINE_BYTES, parseRecord } from '../lib/batch/record';

/** A record to forward (`bytes` counts key, value and headers), or one that cannot be forwarded, with the reason. */
export type Forward = { message: Message; bytes: number; viaBlob: boolean } | { skip: string };

/** A record the bridge must not pass and must not skip: it stops, and the record waits in-house. */
export class BridgeStopError extends Error {
  override name = 'BridgeStopError';
}

function headerBytes(headers: Message['headers']): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) bytes += name.length + (v === undefined ? 0 : Buffer.byteLength(v));
  }
  return bytes;
}

const forward = (message: Message, viaBlob: boolean): Forward => ({
  message,
  viaBlob,
  bytes: (message.key ? Buffer.byteLength(message.key) : 0) + (message.value ? Buffer.byteLength(message.value) : 0) + headerBytes(message.headers),
});

/** Whether a record's value is more than an Event Hubs event carries, so it must travel through blob storage. */
export const needsBlob = (message: KafkaMessage) => (message.value?.length ?? 0) > MAX_INLINE_BYTES;

/**
 * What the bridge sends for one in-house record: the record unchanged (key, headers, value), unless its value is
 * over MAX_INLINE_BYTES, more than an Event Hubs event carries. Then the value goes to `batches/<batch id>/<index>`
 * (the name ingest and the CLI use, so a redelivery overwrites the same blob) and the record travels as a blob
 * reference: same key and headers, `ip-content-type` set to the reference type. A large record that belongs to no
 * batch item is skipped, as ingest would skip it.
 */
export async function forwardable(message: KafkaMessage, position: string, batches: ContainerClient | undefined): Promise<Forward> {
  const unchanged: Message = { key: message.key, value: message.value, headers: message.headers };
  if (!message.value || !needsBlob(message)) return forward(unchanged, false);
  const parsed = parseRecord({ key: message.key?.toString('utf8'), value: message.value, headers: message.headers ?? {} });
  if (!parsed.ok && !parsed.placement) return { skip: `${position}: a ${message.value.length}-byte value, too large for Event Hubs, in a record that belongs to no batch (${parsed.reason})` };
  const placement = parsed.ok ? parsed : parsed.placement!;
  if (!batches) {
    throw new BridgeStopError(
      `${position} (batch ${placement.batchId}, item ${placement.index}) has a ${message.value.length}-byte value, over the ${MAX_INLINE_BYTES}-byte Event Hubs limit: ` +
        'restart the bridge with --storage-account (or --storage-connection) so that it can travel as a blob reference. It and the records after it wait in-house.',
    );
  }
  const blobName = itemBlobName(placement.batchId, placement.index);
  const declared = decodeHeaders(message.headers ?? {})[HEADERS.contentType];
  await batches.getBlockBlobClient(blobName).uploadData(message.value, { blobHTTPHeaders: { blobContentType: declared ?? 'application/octet-stream' } });
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).filter(([name]) => name.toLowerCase() !== HEADERS.contentType));
  headers[HEADERS.contentType] = Buffer.from(BLOB_REF_CONTENT_TYPE);
  return forward({ key: message.key, value: blobReference(blobName), headers }, true);
}
