import type { DerivativeName, ImageMetadata, ProcessedImage } from '../images/processed-image';

export const IMAGE_SCHEMA_VERSION = 1;

export type ImageStatus = 'queued' | 'processing' | 'succeeded' | 'failed';
export const isTerminal = (status: ImageStatus) => status === 'succeeded' || status === 'failed';

export interface ImageSource {
  container: string;
  blob: string;
  fileName?: string;
  contentType?: string;
  bytes: number;
  /** Removed with the file name when the document is de-identified (src/lib/privacy/deidentify.ts). */
  sha256?: string;
  uploadedAt: string;
}

/**
 * Where a derivative's bytes are: `bytes` bytes from `offset` of the blob, which holds the image's derivatives one
 * after another (src/lib/processing/store-derivatives.ts). Without `offset` (documents written before the shared
 * blob) the derivative is the whole blob.
 */
export interface StoredDerivative {
  container: string;
  blob: string;
  offset?: number;
  /** The derivative's length. */
  bytes: number;
  contentType: string;
  width: number;
  height: number;
}

/** One image's result document in the Cosmos `images` container. */
export interface ImageDocument {
  id: string;
  /** The batch id for batch items, the image's own id for single uploads (see names.ts). */
  partitionKey: string;
  schemaVersion: typeof IMAGE_SCHEMA_VERSION;
  type: 'image';
  batchId?: string;
  itemIndex?: number;
  /**
   * Object id of the principal the image belongs to (for a batch item, the batch's owner). `unattributed` for blobs
   * written by other clients and records of unregistered batches; absent on documents from before owners: both are
   * seen by operators only.
   */
  owner?: string;
  status: ImageStatus;
  source: ImageSource;
  metadata?: ImageMetadata;
  analysis?: ProcessedImage['analysis'];
  derivatives?: Partial<Record<DerivativeName, StoredDerivative>>;
  processing?: { engine: string; durationMs: number; finishedAt: string };
  error?: { reason: string };
  /** Set when a damaged file was still processed: what was wrong with it. */
  warnings?: string[];
  createdAt: string;
  updatedAt: string;
  /** Set when the retention sweep de-identified the document: its blobs are gone, its personal fields removed. */
  deidentifiedAt?: string;
}

export function queuedImage(fields: { id: string; partitionKey: string; source: ImageSource; batchId?: string; itemIndex?: number; owner?: string }, now = new Date()): ImageDocument {
  return {
    schemaVersion: IMAGE_SCHEMA_VERSION,
    type: 'image',
    status: 'queued',
    ...fields,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

export function succeededImage(
  doc: ImageDocument,
  processed: ProcessedImage,
  derivatives: Partial<Record<DerivativeName, StoredDerivative>>,
  now = new Date(),
): ImageDocument {
  const { error: _previous, warnings: _earlier, ...rest } = doc;
  return {
    ...rest,
    status: 'succeeded',
    metadata: processed.metadata,
    analysis: processed.analysis,
    derivatives,
    processing: { engine: processed.engine, durationMs: processed.durationMs, finishedAt: now.toISOString() },
    ...(processed.warnings?.length ? { warnings: processed.warnings } : {}),
    updatedAt: now.toISOString(),
  };
}

export function failedImage(doc: ImageDocument, reason: string, engine: string, now = new Date()): ImageDocument {
  const { metadata: _m, analysis: _a, derivatives: _d, warnings: _w, ...rest } = doc;
  return {
    ...rest,
    status: 'failed',
    error: { reason },
    processing: { engine, durationMs: 0, finishedAt: now.toISOString() },
    updatedAt: now.toISOString(),
  };
}
