import type { BatchDocument, RejectedRecord } from '../batch/batch-document';
import type { BatchSummary } from '../batch/summary';
import type { ImageDocument } from '../results/image-document';

/**
 * What a document keeps once its retention time has passed (README "Privacy"): status, format, dimensions, bytes,
 * analysis values, timings, ids and the day things happened. Everything else goes: file names, the source sha256,
 * EXIF camera and capture time, blob names (a client's own blob name is its file name), callback URLs, record
 * headers and reasons' details beyond the reason itself.
 *
 * Built field by field from an allow-list, never by deleting known fields: a field added to a document later is
 * dropped here until someone decides it may stay. Idempotent: a de-identified document comes out unchanged but for
 * `deidentifiedAt`. Backups and analytics exports rely on this: after the retention sweep, every document older
 * than RETENTION_DAYS has been through it.
 */
export function deidentify(doc: ImageDocument, at: Date): ImageDocument;
export function deidentify(doc: BatchDocument, at: Date): BatchDocument;
export function deidentify(doc: RejectedRecord, at: Date): RejectedRecord;
export function deidentify(doc: ImageDocument | BatchDocument | RejectedRecord, at: Date): ImageDocument | BatchDocument | RejectedRecord {
  if (!('type' in doc)) return rejectedRecord(doc, at);
  return doc.type === 'image' ? image(doc, at) : batch(doc, at);
}

/** True once the retention sweep has de-identified the document. */
export const isDeidentified = (doc: { deidentifiedAt?: string }) => doc.deidentifiedAt !== undefined;

/** A time cut to its day (midnight UTC, still an ISO date-time, so queries and ordering keep working). */
export const dayOf = (iso: string) => `${iso.slice(0, 10)}T00:00:00.000Z`;
const optionalDay = (iso: string | undefined) => (iso === undefined ? undefined : dayOf(iso));

/** Drops the keys whose value is undefined, so a de-identified document has no empty slots. */
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

function image(doc: ImageDocument, at: Date): ImageDocument {
  const { source, metadata, processing } = doc;
  return defined<ImageDocument>({
    id: doc.id,
    partitionKey: doc.partitionKey,
    schemaVersion: doc.schemaVersion,
    type: 'image',
    batchId: doc.batchId,
    itemIndex: doc.itemIndex,
    status: doc.status,
    // The blob is deleted before this runs; its name goes too (for blobs other clients wrote, it is a file name).
    source: defined({ container: source.container, blob: '', contentType: source.contentType, bytes: source.bytes, uploadedAt: dayOf(source.uploadedAt) }),
    metadata: metadata && defined({ format: metadata.format, width: metadata.width, height: metadata.height, bytes: metadata.bytes, hasAlpha: metadata.hasAlpha, orientation: metadata.orientation }),
    analysis: doc.analysis,
    processing: processing && { engine: processing.engine, durationMs: processing.durationMs, finishedAt: dayOf(processing.finishedAt) },
    error: doc.error && { reason: doc.error.reason },
    warnings: doc.warnings,
    createdAt: dayOf(doc.createdAt),
    updatedAt: dayOf(doc.updatedAt),
    deidentifiedAt: at.toISOString(),
  });
}

function summary(s: BatchSummary): BatchSummary {
  return defined<BatchSummary>({
    itemCount: s.itemCount,
    counts: s.counts,
    durationsMs: s.durationsMs,
    wallClockMs: s.wallClockMs,
    formats: s.formats,
    sizes: s.sizes,
    duplicateGroups: s.duplicateGroups,
    failures: s.failures.map((f) => ({ index: f.index, reason: f.reason })),
    startedAt: optionalDay(s.startedAt),
    finishedAt: optionalDay(s.finishedAt),
  });
}

function batch(doc: BatchDocument, at: Date): BatchDocument {
  const configured = doc.callbackUrl !== undefined || doc.callback !== undefined;
  return defined<BatchDocument>({
    id: doc.id,
    type: 'batch',
    schemaVersion: doc.schemaVersion,
    status: doc.status,
    itemCount: doc.itemCount,
    createdAt: dayOf(doc.createdAt),
    updatedAt: dayOf(doc.updatedAt),
    startedAt: optionalDay(doc.startedAt),
    closedAt: optionalDay(doc.closedAt),
    instanceId: doc.instanceId,
    retries: doc.retries,
    completedAt: optionalDay(doc.completedAt),
    summary: doc.summary && summary(doc.summary),
    failure: doc.failure && { reason: doc.failure.reason, at: dayOf(doc.failure.at) },
    // The URL goes; that a callback was asked for, and how it went, stays (a callback never sent stays undelivered).
    callback: configured ? defined({ delivered: doc.callback?.delivered ?? false, status: doc.callback?.status, at: dayOf(doc.callback?.at ?? doc.createdAt) }) : undefined,
    deidentifiedAt: at.toISOString(),
  });
}

function rejectedRecord(record: RejectedRecord, at: Date): RejectedRecord {
  return defined<RejectedRecord>({
    id: record.id,
    batchId: record.batchId,
    index: record.index,
    reason: record.reason,
    headers: {},
    at: dayOf(record.at),
    deidentifiedAt: at.toISOString(),
  });
}
