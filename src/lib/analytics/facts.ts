import type { PaletteColour } from '../images/analysis';
import { MIME_TYPES, type ImageFormat } from '../images/sniff';
import { degenerateReason, hashBands, isPerceptualHash } from '../images/near-duplicates';
import type { ImageDocument } from '../results/image-document';
import { failureCategory, type FailureCategory } from './failure-category';

/** Version of the fact documents and of the Parquet schema written from them (README "Analytics"). */
export const FACT_SCHEMA_VERSION = 1;

/**
 * The de-identified record of one image that ended (succeeded or failed), kept long term in the `facts` container
 * (partition key `/day`). Never a file name, EXIF camera or capture time, URL or source sha256: only what processing
 * measured, the day of the upload and the batch it came with.
 */
export interface ImageFact {
  /** `image:<image id>`: an image's fact is written again in place, never twice. */
  id: string;
  type: 'image';
  schemaVersion: typeof FACT_SCHEMA_VERSION;
  imageId: string;
  /** UTC day of the upload (createdAt), YYYY-MM-DD: stable however often the image is processed again. */
  day: string;
  batchId: string | null;
  status: 'succeeded' | 'failed';
  failureCategory: FailureCategory | null;
  format: string | null;
  width: number | null;
  height: number | null;
  megapixels: number | null;
  /** Size of the uploaded file. */
  bytes: number;
  hasAlpha: boolean | null;
  orientation: number | null;
  brightness: number | null;
  contrast: number | null;
  sharpness: number | null;
  meanColour: string | null;
  palette: PaletteColour[] | null;
  perceptualHash: string | null;
  /** Why the hash cannot be matched (all zeros, too flat, ...); null when it can. */
  hashDegenerate: string | null;
  /** The hash's five bands (near-duplicates.ts), indexed: GET /api/images/{id}/similar looks them up. Null when degenerate. */
  hashBand0: number | null;
  hashBand1: number | null;
  hashBand2: number | null;
  hashBand3: number | null;
  hashBand4: number | null;
  /** The image id that starts this image's near-duplicate group (its own id when no earlier image is near it). */
  duplicateGroup: string | null;
  /** The earlier image this one is a near-duplicate of, if any. */
  duplicateOf: string | null;
  engine: string;
  /** processImage's time for this image (0 for a failure before processing). */
  processingMs: number;
  /** Upload (createdAt) to the end of processing. */
  totalMs: number;
  /** OWNER_HASH_SALT's HMAC of the owner's object id (src/lib/auth/owner-hash.ts): per-user counts without who; null when nobody owns it. */
  ownerHash: string | null;
  recordedAt: string;
}

/** The de-identified record of one batch that ended, in the same container (type `batch`). */
export interface BatchFact {
  /** `batch:<batch id>`. */
  id: string;
  type: 'batch';
  schemaVersion: typeof FACT_SCHEMA_VERSION;
  batchId: string;
  /** UTC day the batch was created. */
  day: string;
  status: 'completed' | 'incomplete' | 'failed';
  itemCount: number;
  succeeded: number;
  failed: number;
  pending: number;
  /** createdAt to startedAt: how long the records took to arrive (or the receive window to close). */
  receiveMs: number | null;
  /** startedAt to completedAt. */
  processingMs: number | null;
  itemP50Ms: number | null;
  itemP95Ms: number | null;
  itemMaxMs: number | null;
  totalBytes: number | null;
  formats: Record<string, number>;
  duplicateGroups: number;
  duplicateItems: number;
  retries: number;
  /** As for images: the batch owner's hash, or null. */
  ownerHash: string | null;
  recordedAt: string;
}

export type Fact = ImageFact | BatchFact;

export const imageFactId = (imageId: string) => `image:${imageId}`;
export const batchFactId = (batchId: string) => `batch:${batchId}`;
export const dayOf = (iso: string) => iso.slice(0, 10);

const formatOfMime = (mime: string | undefined) => (Object.entries(MIME_TYPES).find(([, type]) => type === mime)?.[0] as ImageFormat | undefined) ?? null;

const between = (from?: string, to?: string) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null);

/** The fact of an ended image, before its near-duplicate group is known. */
export function imageFact(doc: ImageDocument, now = new Date(), ownerHash: string | null = null): ImageFact {
  if (doc.status !== 'succeeded' && doc.status !== 'failed') throw new Error(`image ${doc.id} has not ended (${doc.status})`);
  const { metadata: m, analysis: a } = doc;
  const hash = doc.status === 'succeeded' && isPerceptualHash(a?.perceptualHash) ? a.perceptualHash : null;
  const degenerate = hash ? (degenerateReason(hash, a?.contrast) ?? null) : null;
  const bands = hash && !degenerate ? hashBands(hash) : [null, null, null, null, null];
  return {
    id: imageFactId(doc.id),
    type: 'image',
    schemaVersion: FACT_SCHEMA_VERSION,
    imageId: doc.id,
    day: dayOf(doc.createdAt),
    batchId: doc.batchId ?? null,
    status: doc.status,
    failureCategory: doc.status === 'failed' ? failureCategory(doc.error?.reason ?? '') : null,
    // A failed image has no metadata; the type sniffed at upload still says what it was.
    format: m?.format ?? formatOfMime(doc.source.contentType),
    width: m?.width ?? null,
    height: m?.height ?? null,
    megapixels: m ? Math.round((m.width * m.height) / 1e4) / 100 : null,
    bytes: doc.source.bytes,
    hasAlpha: m?.hasAlpha ?? null,
    orientation: m?.orientation ?? null,
    brightness: a?.brightness ?? null,
    contrast: a?.contrast ?? null,
    sharpness: a?.sharpness ?? null,
    meanColour: a?.meanColour ?? null,
    palette: a?.palette ?? null,
    perceptualHash: hash,
    hashDegenerate: degenerate,
    hashBand0: bands[0],
    hashBand1: bands[1],
    hashBand2: bands[2],
    hashBand3: bands[3],
    hashBand4: bands[4],
    duplicateGroup: null,
    duplicateOf: null,
    engine: doc.processing?.engine ?? 'unknown',
    processingMs: doc.processing?.durationMs ?? 0,
    totalMs: between(doc.createdAt, doc.processing?.finishedAt ?? doc.updatedAt) ?? 0,
    ownerHash,
    recordedAt: now.toISOString(),
  };
}

/** What a batch fact is made of: a batch document, read structurally so this layer needs no batch types. */
export interface EndedBatch {
  id: string;
  owner?: string;
  status: string;
  itemCount: number;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  retries?: number;
  summary?: {
    counts: { succeeded: number; failed: number; pending: number };
    durationsMs: { p50: number; p95: number; max: number };
    formats: Record<string, number>;
    sizes: { totalBytes: number };
    duplicateGroups: Array<{ items: number[] }>;
  };
}

export function batchFact(batch: EndedBatch, now = new Date(), ownerHash: string | null = null): BatchFact {
  if (batch.status !== 'completed' && batch.status !== 'incomplete' && batch.status !== 'failed') throw new Error(`batch ${batch.id} has not ended (${batch.status})`);
  const s = batch.summary;
  return {
    id: batchFactId(batch.id),
    type: 'batch',
    schemaVersion: FACT_SCHEMA_VERSION,
    batchId: batch.id,
    day: dayOf(batch.createdAt),
    status: batch.status,
    itemCount: batch.itemCount,
    succeeded: s?.counts.succeeded ?? 0,
    failed: s?.counts.failed ?? 0,
    pending: s?.counts.pending ?? batch.itemCount,
    receiveMs: between(batch.createdAt, batch.startedAt),
    processingMs: between(batch.startedAt, batch.completedAt),
    itemP50Ms: s?.durationsMs.p50 ?? null,
    itemP95Ms: s?.durationsMs.p95 ?? null,
    itemMaxMs: s?.durationsMs.max ?? null,
    totalBytes: s?.sizes.totalBytes ?? null,
    formats: s?.formats ?? {},
    duplicateGroups: s?.duplicateGroups.length ?? 0,
    duplicateItems: s?.duplicateGroups.reduce((sum, group) => sum + group.items.length, 0) ?? 0,
    retries: batch.retries ?? 0,
    ownerHash,
    recordedAt: now.toISOString(),
  };
}
