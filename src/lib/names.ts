/** Names shared by the code and the Bicep (test/infra checks they agree). */
export const BLOB_CONTAINERS = {
  uploads: 'uploads',
  derived: 'derived',
  batches: 'batches',
  /** Batch records that could not be stored, or placed in any batch: never dropped (README "When things fail"). */
  deadletter: 'deadletter',
} as const;

/**
 * Cosmos containers and their partition key paths; every one is backed up (src/lib/backup).
 * `images` is partitioned by `partitionKey`: the batch id for batch items, the image's own id for single uploads,
 * so a batch's items, progress queries and summary all stay in one logical partition.
 * `holdsPersonalData`: its documents carry personal fields until the retention sweep de-identifies them, so backup
 * prune drops their versions from backups once they pass RETENTION_DAYS. A container without it holds none.
 */
export const COSMOS_CONTAINERS = {
  images: { id: 'images', partitionKeyPath: '/partitionKey', holdsPersonalData: true },
  batches: { id: 'batches', partitionKeyPath: '/id', holdsPersonalData: true },
  /**
   * De-identified facts, one per ended image and batch, kept long term (src/lib/analytics/facts.ts). Partitioned by
   * the UTC day of the upload, so a day's export is a single-partition query. The only container with the analytical
   * store on.
   */
  facts: { id: 'facts', partitionKeyPath: '/day', holdsPersonalData: false },
  /** Counters per day and per batch and day that GET /api/stats reads instead of scanning (analytics/counters.ts). */
  stats: { id: 'stats', partitionKeyPath: '/id', holdsPersonalData: false },
  /** Per-user usage counters behind the upload limits (src/lib/limits), under the owner hash; a two-day TTL in Azure. */
  usage: { id: 'usage', partitionKeyPath: '/id', holdsPersonalData: false },
} as const;

/** Whether a Cosmos container holds personal data (above); one this file does not know is taken to hold some. */
export function holdsPersonalData(containerId: string): boolean {
  const known = Object.values(COSMOS_CONTAINERS).find((c) => c.id === containerId);
  return !known || known.holdsPersonalData;
}

/**
 * The container the Parquet exports go to: in Azure in its own Data Lake Storage Gen2 account (ANALYTICS_STORAGE),
 * locally in the app's storage (infra/README.md "Analytics" says why).
 */
export const ANALYTICS_CONTAINER = 'analytics';

/**
 * The Functions host's blob extension webhook, where Event Grid delivers BlobCreated events for the Event Grid blob
 * trigger (the Bicep and infra/scripts/postdeploy.sh subscribe it; the local host serves it too).
 */
export const BLOB_WEBHOOK = { path: '/runtime/webhooks/blobs', processUpload: 'Host.Functions.processUpload' } as const;

/** Where Event Grid writes BlobCreated events it could not deliver (image-pipeline replay-deadletter re-delivers them). */
export const EVENT_GRID_DEAD_LETTER_CONTAINER = 'eventgrid-dead-letters';
