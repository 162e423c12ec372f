import { z } from 'zod';
import { safeFileName } from '../file-name';
import { BLOB_CONTAINERS } from '../names';

/**
 * Batch record format, version 1 (README "Batch upload through Kafka"). One Kafka record (Event Hubs event) per image:
 * key = batch id, value = the image bytes or a blob reference, everything else in headers.
 */
export const RECORD_VERSION = '1';

export const HEADERS = {
  version: 'ip-version',
  batchId: 'ip-batch-id',
  itemIndex: 'ip-item-index',
  itemCount: 'ip-item-count',
  contentType: 'ip-content-type',
  fileName: 'ip-file-name',
  callbackUrl: 'ip-callback-url',
  /** The ingest token of a registered batch (PUT /api/batches/{id}): proof the record comes from whoever registered it. */
  batchToken: 'ip-batch-token',
} as const;

/** `ip-content-type` of a record whose value is `{"blob":"batches/..."}` instead of image bytes. */
export const BLOB_REF_CONTENT_TYPE = 'application/vnd.image-pipeline.blob-ref+json';

/** Event Hubs caps an event at 1 MB including headers: larger images travel as blob references. */
export const MAX_INLINE_BYTES = 900 * 1024;
export const MAX_BATCH_ITEMS = 10_000;

/** Batch ids become Cosmos ids and blob name prefixes; item ids append `_<index>`, so they stay under 128 characters. */
export const BATCH_ID_PATTERN = /^[A-Za-z0-9-]{1,100}$/;
export const itemDocumentId = (batchId: string, index: number) => `${batchId}_${index}`;
export const itemBlobName = (batchId: string, index: number) => `${batchId}/${index}`;

/**
 * The metadata of an item blob ingest writes: its content's sha256 (hex; ingest computes it once for this and the
 * item's document, which holds it too), so its activity can write the result without reading the document first
 * (batch-activities.ts).
 */
export const itemBlobMetadata = (digest: string): Record<string, string> => ({ sha256: digest });

/** A record as a transport delivers it: header values are whatever the adapter got (bytes, ideally). */
export interface RawRecord {
  key?: string;
  value: Buffer;
  headers: Record<string, unknown>;
  /** Partition/offset or sequence number, for logs. */
  position?: string;
}

/** A record as producers build it: header values are text (sent as UTF-8 bytes). */
export interface OutgoingRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

const integer = (min: number, max: number) => z.string().regex(/^\d{1,9}$/, 'must be a decimal integer').transform(Number).pipe(z.number().int().min(min).max(max));

const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be an http or https URL');

/** Where a record belongs: enough to record even an invalid record as a failed item of its batch. */
const placementSchema = z.object({
  [HEADERS.batchId]: z.string().regex(BATCH_ID_PATTERN, 'must be 1-100 letters, digits or hyphens'),
  [HEADERS.itemIndex]: integer(0, MAX_BATCH_ITEMS - 1),
  [HEADERS.itemCount]: integer(1, MAX_BATCH_ITEMS),
});

const detailSchema = z.object({
  [HEADERS.version]: z.literal(RECORD_VERSION, { message: `must be "${RECORD_VERSION}"` }),
  [HEADERS.contentType]: z.string().max(200).optional(),
  [HEADERS.callbackUrl]: httpUrl.optional(),
});

const blobRefSchema = z.strictObject({ blob: z.string().max(1024) });

export interface Placement {
  batchId: string;
  index: number;
  count: number;
}

export type Payload = { kind: 'bytes'; bytes: Buffer } | { kind: 'blob'; container: string; name: string };

export type ParsedRecord =
  | ({ ok: true; payload: Payload; fileName?: string; declaredType?: string; callbackUrl?: string } & Placement)
  /** `placement` is missing when the record cannot be attributed to a batch item; `batchId` when its batch id is readable. */
  | { ok: false; reason: string; placement?: Placement; batchId?: string; fileName?: string };

/**
 * One header value as bytes. Kafka headers are byte arrays; depending on the path they arrive as Buffer/Uint8Array,
 * as a JSON byte array, as a serialised Buffer (`{type:'Buffer',data}`), or as text when an AMQP producer set a string.
 */
export function headerBytes(value: unknown): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Buffer.from(value as number[]);
  if (typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return headerBytes((value as { data: unknown }).data);
  }
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean') return Buffer.from(String(value), 'utf8');
  return undefined;
}

/**
 * Header values as text. A host that serialises binary properties to JSON turns bytes into base64 strings; the
 * version header tells the two apart: it is "1" as text, "MQ==" as base64.
 */
export function decodeHeaders(headers: Record<string, unknown>): Record<string, string> {
  const base64 = headers[HEADERS.version] === Buffer.from(RECORD_VERSION).toString('base64');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('ip-')) continue;
    const bytes = base64 && typeof value === 'string' ? Buffer.from(value, 'base64') : headerBytes(value);
    if (bytes) out[lower] = bytes.toString('utf8');
  }
  return out;
}

const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ');

function parsePayload(record: RawRecord, placement: Placement, contentType: string | undefined): Payload | string {
  if (contentType !== BLOB_REF_CONTENT_TYPE) return { kind: 'bytes', bytes: record.value };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch {
    return 'the blob reference is not JSON';
  }
  const ref = blobRefSchema.safeParse(json);
  if (!ref.success) return `the blob reference must be {"blob":"${BLOB_CONTAINERS.batches}/${placement.batchId}/..."}: ${issues(ref.error)}`;
  // Only blobs under this batch's own prefix: a record must never make the pipeline read another batch or container.
  const prefix = `${BLOB_CONTAINERS.batches}/${placement.batchId}/`;
  const rest = ref.data.blob.slice(prefix.length);
  if (!ref.data.blob.startsWith(prefix) || !rest || rest.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return `the blob reference must name a blob under ${prefix}`;
  }
  return { kind: 'blob', container: BLOB_CONTAINERS.batches, name: `${placement.batchId}/${rest}` };
}

/** Validates a record's envelope (not the image: ingest runs validateImage on the bytes). */
export function parseRecord(record: RawRecord): ParsedRecord {
  const headers = decodeHeaders(record.headers);
  // Any length is accepted: a long name is shortened, never a reason to fail a valid image.
  const fileName = headers[HEADERS.fileName] === undefined ? undefined : safeFileName(headers[HEADERS.fileName]);
  const where = placementSchema.safeParse(headers);
  if (!where.success) {
    const batchId = placementSchema.shape[HEADERS.batchId].safeParse(headers[HEADERS.batchId]).data;
    return { ok: false, reason: `The record cannot be placed in a batch: ${issues(where.error)}.`, batchId, fileName };
  }
  const placement: Placement = {
    batchId: where.data[HEADERS.batchId],
    index: where.data[HEADERS.itemIndex],
    count: where.data[HEADERS.itemCount],
  };
  if (placement.index >= placement.count) {
    return { ok: false, reason: `${HEADERS.itemIndex} ${placement.index} is not below ${HEADERS.itemCount} ${placement.count}.`, batchId: placement.batchId, fileName };
  }
  const fail = (reason: string): ParsedRecord => ({ ok: false, reason, placement, fileName });
  if (record.key !== undefined && record.key !== '' && record.key !== placement.batchId) {
    return fail(`The record key "${record.key}" is not the batch id "${placement.batchId}".`);
  }
  const detail = detailSchema.safeParse(headers);
  if (!detail.success) return fail(`Invalid record headers: ${issues(detail.error)}.`);
  const contentType = detail.data[HEADERS.contentType];
  const payload = parsePayload(record, placement, contentType);
  if (typeof payload === 'string') return fail(`Invalid record: ${payload}.`);
  return {
    ok: true,
    ...placement,
    payload,
    fileName,
    declaredType: payload.kind === 'bytes' ? contentType : undefined,
    callbackUrl: detail.data[HEADERS.callbackUrl],
  };
}

/** The value of a blob-reference record (with `ip-content-type` BLOB_REF_CONTENT_TYPE): a blob in the batches container. */
export const blobReference = (blobName: string): Buffer => Buffer.from(JSON.stringify({ blob: `${BLOB_CONTAINERS.batches}/${blobName}` }));

/** The record a producer sends for one image (inline bytes, or a reference to a blob already under the batch). */
export function buildRecord(item: {
  batchId: string;
  index: number;
  count: number;
  fileName?: string;
  contentType?: string;
  callbackUrl?: string;
  /** The batch's ingest token, when it was registered. */
  batchToken?: string;
  bytes?: Buffer;
  blobName?: string;
}): OutgoingRecord {
  const headers: Record<string, string> = {
    [HEADERS.version]: RECORD_VERSION,
    [HEADERS.batchId]: item.batchId,
    [HEADERS.itemIndex]: String(item.index),
    [HEADERS.itemCount]: String(item.count),
  };
  if (item.fileName) headers[HEADERS.fileName] = item.fileName;
  if (item.callbackUrl) headers[HEADERS.callbackUrl] = item.callbackUrl;
  if (item.batchToken) headers[HEADERS.batchToken] = item.batchToken;
  if (item.blobName !== undefined) {
    headers[HEADERS.contentType] = BLOB_REF_CONTENT_TYPE;
    return { key: item.batchId, value: blobReference(item.blobName), headers };
  }
  if (item.contentType) headers[HEADERS.contentType] = item.contentType;
  return { key: item.batchId, value: item.bytes ?? Buffer.alloc(0), headers };
}

/** A record's `ip-*` headers as kept where its batch's owner reads them (a rejected record): never the ingest token. */
export function shownHeaders(headers: Record<string, unknown>): Record<string, string> {
  const { [HEADERS.batchToken]: _token, ...rest } = decodeHeaders(headers);
  return rest;
}

/** Headers as the Kafka wire carries them (byte arrays): what kafkajs and the Event Hubs producer send. */
export const headersAsBytes = (headers: Record<string, string>): Record<string, Buffer> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value, 'utf8')]));
