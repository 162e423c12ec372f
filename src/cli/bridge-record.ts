import type { ContainerClient } from '@azure/storage-blob';
import type { KafkaMessage, Message } from 'kafkajs';
import { BLOB_REF_CONTENT_TYPE, blobReference, decodeHeaders, HEADERS, itemBlobName, MAX_INLINE_BYTES, parseRecord, type Placement } from '../lib/batch/record';

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

/**
 * The ingest token for a record's batch, registering the batch to the bridge's own identity the first time the bridge
 * sees it (undefined when the batch is someone else's: its records go as they are, and only its own token lets them
 * in). Errors (the API away) are thrown, for the bridge to retry while the record waits in-house.
 */
export type Attribute = (placement: Placement) => Promise<string | undefined>;

/** An Attribute over `register` (PUT /api/batches/{id}): one registration per batch, remembered while the bridge runs. */
export function registeringAttribute(register: (batchId: string, itemCount: number) => Promise<string>, log: (line: string) => void): Attribute {
  const tokens = new Map<string, Promise<string | undefined>>();
  return (placement) => {
    let token = tokens.get(placement.batchId);
    if (!token) {
      token = register(placement.batchId, placement.count).catch((error: Error & { status?: number }) => {
        if (error.status === 409) {
          log(`bridge: batch ${placement.batchId} is already registered to someone else (or was sent unregistered); its records go as they are`);
          return undefined;
        }
        tokens.delete(placement.batchId); // tried again with the record
        throw error;
      });
      tokens.set(placement.batchId, token);
    }
    return token;
  };
}

/** Whether a record's value is more than an Event Hubs event carries, so it must travel through blob storage. */
export const needsBlob = (message: Pick<KafkaMessage, 'value'>) => (message.value?.length ?? 0) > MAX_INLINE_BYTES;

/**
 * What the bridge sends for one in-house record: the record unchanged (key, headers, value), unless its value is
 * over MAX_INLINE_BYTES, more than an Event Hubs event carries. Then the value goes to `batches/<batch id>/<index>`
 * (the name ingest and the CLI use, so a redelivery overwrites the same blob) and the record travels as a blob
 * reference: same key and headers, `ip-content-type` set to the reference type. A large record that belongs to no
 * batch item is skipped, as ingest would skip it. With `attribute`, a record without an ingest token gets its batch's
 * (`ip-batch-token`), so the batch belongs to the identity that runs the bridge.
 */
export async function forwardable(message: KafkaMessage, position: string, batches: ContainerClient | undefined, attribute?: Attribute): Promise<Forward> {
  const attributed = attribute ? await withToken(message, attribute) : message;
  return carried(attributed, position, batches);
}

type Incoming = Pick<KafkaMessage, 'key' | 'value' | 'headers'>;

async function withToken(message: Incoming, attribute: Attribute): Promise<Incoming> {
  const headers = message.headers ?? {};
  if (decodeHeaders(headers)[HEADERS.batchToken] !== undefined) return message;
  const parsed = parseRecord({ key: message.key?.toString('utf8'), value: message.value ?? Buffer.alloc(0), headers });
  const placement = parsed.ok ? parsed : parsed.placement;
  const token = placement && (await attribute(placement));
  return token ? { ...message, headers: { ...headers, [HEADERS.batchToken]: Buffer.from(token) } } : message;
}

async function carried(message: Incoming, position: string, batches: ContainerClient | undefined): Promise<Forward> {
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
