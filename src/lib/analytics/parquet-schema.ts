import type { BatchFact, ImageFact } from './facts';

export type ColumnType = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'DATE';

export interface Column<F> {
  name: string;
  type: ColumnType;
  /** Never null. */
  required?: true;
  /** What the column holds, for the README's schema table. */
  doc: string;
  value: (fact: F) => string | number | boolean | null;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * Version 1 of the exported tables (README "Analytics exports" documents it). A new column is added at the end with
 * the version raised; readers such as DuckDB (`union_by_name`) and Spark (`mergeSchema`) read days of both versions.
 * Column names are snake_case, the convention of Spark, Synapse and DuckDB SQL.
 */
export const IMAGE_COLUMNS: Column<ImageFact>[] = [
  { name: 'schema_version', type: 'INT32', required: true, doc: 'schema version of the row (1)', value: (f) => f.schemaVersion },
  { name: 'image_id', type: 'STRING', required: true, doc: 'the image id (GET /api/images/{id})', value: (f) => f.imageId },
  { name: 'day', type: 'DATE', required: true, doc: 'UTC day of the upload', value: (f) => f.day },
  { name: 'batch_id', type: 'STRING', doc: 'the batch it came in; null for a single upload', value: (f) => f.batchId },
  { name: 'status', type: 'STRING', required: true, doc: '`succeeded` or `failed`', value: (f) => f.status },
  { name: 'failure_category', type: 'STRING', doc: 'why it failed, as a category (README "Analytics": failure categories)', value: (f) => f.failureCategory },
  { name: 'format', type: 'STRING', doc: 'jpeg, png, gif, webp, tiff or bmp', value: (f) => f.format },
  { name: 'width', type: 'INT32', doc: 'pixels, after EXIF orientation', value: (f) => f.width },
  { name: 'height', type: 'INT32', doc: 'pixels, after EXIF orientation', value: (f) => f.height },
  { name: 'megapixels', type: 'DOUBLE', doc: 'width x height / 10^6, 2 decimals', value: (f) => f.megapixels },
  { name: 'bytes', type: 'INT64', required: true, doc: 'size of the uploaded file', value: (f) => f.bytes },
  { name: 'has_alpha', type: 'BOOLEAN', doc: 'some pixel is not fully opaque', value: (f) => f.hasAlpha },
  { name: 'orientation', type: 'INT32', doc: 'EXIF orientation 1-8, null when absent', value: (f) => f.orientation },
  { name: 'brightness', type: 'DOUBLE', doc: 'mean luma 0-1', value: (f) => f.brightness },
  { name: 'contrast', type: 'DOUBLE', doc: 'RMS contrast 0-0.5', value: (f) => f.contrast },
  { name: 'sharpness', type: 'DOUBLE', doc: 'variance of the Laplacian', value: (f) => f.sharpness },
  { name: 'mean_colour', type: 'STRING', doc: '#rrggbb', value: (f) => f.meanColour },
  { name: 'palette', type: 'STRING', doc: 'JSON array of up to 5 `{colour, share}`', value: (f) => json(f.palette) },
  { name: 'perceptual_hash', type: 'STRING', doc: '64-bit dHash, 16 hex digits', value: (f) => f.perceptualHash },
  { name: 'hash_degenerate', type: 'STRING', doc: 'why the hash is not used for near-duplicates (all zeros, too flat), null when it is', value: (f) => f.hashDegenerate },
  { name: 'duplicate_group', type: 'STRING', doc: 'image id starting its near-duplicate group (its own id when first)', value: (f) => f.duplicateGroup },
  { name: 'duplicate_of', type: 'STRING', doc: 'the earlier image it is a near-duplicate of', value: (f) => f.duplicateOf },
  { name: 'engine', type: 'STRING', required: true, doc: '`sharp` or `jimp`', value: (f) => f.engine },
  { name: 'processing_ms', type: 'DOUBLE', required: true, doc: 'time in processImage', value: (f) => f.processingMs },
  { name: 'total_ms', type: 'DOUBLE', required: true, doc: 'upload to end of processing', value: (f) => f.totalMs },
  { name: 'owner_hash', type: 'STRING', doc: 'salted hash of the owner (OWNER_HASH_SALT): counts per user, never who; null when nobody owns it', value: (f) => f.ownerHash },
];

export const BATCH_COLUMNS: Column<BatchFact>[] = [
  { name: 'schema_version', type: 'INT32', required: true, doc: 'schema version of the row (1)', value: (f) => f.schemaVersion },
  { name: 'batch_id', type: 'STRING', required: true, doc: 'the batch id', value: (f) => f.batchId },
  { name: 'day', type: 'DATE', required: true, doc: 'UTC day the batch was created', value: (f) => f.day },
  { name: 'status', type: 'STRING', required: true, doc: '`completed`, `incomplete` or `failed`', value: (f) => f.status },
  { name: 'item_count', type: 'INT32', required: true, doc: 'items announced', value: (f) => f.itemCount },
  { name: 'succeeded', type: 'INT32', required: true, doc: 'items succeeded', value: (f) => f.succeeded },
  { name: 'failed', type: 'INT32', required: true, doc: 'items failed', value: (f) => f.failed },
  { name: 'pending', type: 'INT32', required: true, doc: 'items neither (a failed batch)', value: (f) => f.pending },
  { name: 'receive_ms', type: 'DOUBLE', doc: 'created to processing started', value: (f) => f.receiveMs },
  { name: 'processing_ms', type: 'DOUBLE', doc: 'processing started to ended', value: (f) => f.processingMs },
  { name: 'item_p50_ms', type: 'DOUBLE', doc: 'median processImage time of its items', value: (f) => f.itemP50Ms },
  { name: 'item_p95_ms', type: 'DOUBLE', doc: '95th percentile', value: (f) => f.itemP95Ms },
  { name: 'item_max_ms', type: 'DOUBLE', doc: 'slowest item', value: (f) => f.itemMaxMs },
  { name: 'total_bytes', type: 'INT64', doc: 'bytes of its succeeded items', value: (f) => f.totalBytes },
  { name: 'formats', type: 'STRING', required: true, doc: 'JSON object: succeeded items by format', value: (f) => json(f.formats) },
  { name: 'duplicate_groups', type: 'INT32', required: true, doc: 'near-duplicate groups within the batch', value: (f) => f.duplicateGroups },
  { name: 'duplicate_items', type: 'INT32', required: true, doc: 'items in those groups', value: (f) => f.duplicateItems },
  { name: 'retries', type: 'INT32', required: true, doc: 'times the batch was retried', value: (f) => f.retries },
  { name: 'owner_hash', type: 'STRING', doc: 'salted hash of the owner, as for images', value: (f) => f.ownerHash },
];
