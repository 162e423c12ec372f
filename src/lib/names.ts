/** Names shared by the code and the Bicep (test/infra checks they agree). */
export const BLOB_CONTAINERS = {
  uploads: 'uploads',
  derived: 'derived',
  batches: 'batches',
  /** Batch records that could not be stored, or placed in any batch: never dropped (README "When things fail"). */
  deadletter: 'deadletter',
} as const;

/**
 * Cosmos containers and their partition key paths.
 * `images` is partitioned by `partitionKey`: the batch id for batch items, the image's own id for single uploads,
 * so a batch's items, progress queries and summary all stay in one logical partition.
 */
export const COSMOS_CONTAINERS = {
  images: { id: 'images', partitionKeyPath: '/partitionKey' },
  batches: { id: 'batches', partitionKeyPath: '/id' },
  /** Per-user usage counters behind the upload limits (src/lib/limits); a two-day TTL in Azure. */
  usage: { id: 'usage', partitionKeyPath: '/id' },
} as const;
