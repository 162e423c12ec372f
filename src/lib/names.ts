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
  /**
   * De-identified facts, one per ended image and batch, kept long term (src/lib/analytics/facts.ts). Partitioned by
   * the UTC day of the upload, so a day's export is a single-partition query. The only container with the analytical
   * store on.
   */
  facts: { id: 'facts', partitionKeyPath: '/day' },
  /** Counters per day and per batch and day that GET /api/stats reads instead of scanning (analytics/counters.ts). */
  stats: { id: 'stats', partitionKeyPath: '/id' },
} as const;

/**
 * The container the Parquet exports go to: in Azure in its own Data Lake Storage Gen2 account (ANALYTICS_STORAGE),
 * locally in the app's storage (infra/README.md "Analytics" says why).
 */
export const ANALYTICS_CONTAINER = 'analytics';
