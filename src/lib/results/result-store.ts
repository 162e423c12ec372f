import type { ImageDocument, ImageStatus } from './image-document';

/** Which images a listing returns; every field narrows it, none means all. */
export interface ImageFilter {
  status?: ImageStatus;
  /** metadata.format, known once an image is processed: jpeg, png, ... */
  format?: string;
  /** createdAt bounds, ISO 8601 UTC as stored: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  batchId?: string;
  /** Only this owner's images (an uploader's listing); none: everyone's (an operator's). */
  owner?: string;
}

export interface ImagePage {
  items: ImageDocument[];
  /** Opaque; pass it back with the same filter for the next page. Absent on the last page. */
  continuationToken?: string;
}

/** The fields processing sets on a queued document (src/lib/results/image-document.ts succeededImage, failedImage). */
const RESULT_FIELDS = ['status', 'updatedAt', 'metadata', 'analysis', 'derivatives', 'processing', 'warnings', 'error'] as const;

/** What processing adds to a queued document. */
export type ImageResult = Pick<ImageDocument, 'status' | 'updatedAt'> & Partial<Pick<ImageDocument, (typeof RESULT_FIELDS)[number]>>;

/** The result a processed document carries, for `finishQueued`. */
export function resultOf(doc: ImageDocument): ImageResult {
  return Object.fromEntries(RESULT_FIELDS.filter((field) => doc[field] !== undefined).map((field) => [field, doc[field]])) as ImageResult;
}

/** Port for result documents: Cosmos DB in Azure, the Cosmos stand-in locally. */
export interface ImageResults {
  /** False when a document with this id already exists in the partition. */
  create(doc: ImageDocument): Promise<boolean>;
  /**
   * Creates each document as `create` does, in as few requests as the store allows (Cosmos DB: one per 100 in a
   * partition); true for each one created, false for each that existed. Not atomic: throws after writing some.
   */
  createMany(docs: readonly ImageDocument[]): Promise<boolean[]>;
  get(id: string, partitionKey: string): Promise<ImageDocument | undefined>;
  /**
   * Writes a result without reading the document first: sets `result` (status, metadata, analysis, derivatives,
   * processing, warnings, error, updatedAt) on the document if it is still queued and its source's sha256 is `sha256`,
   * in one conditional write. The document as written; undefined when it is not so (missing, ended, other content).
   */
  finishQueued(id: string, partitionKey: string, sha256: string, result: ImageResult): Promise<ImageDocument | undefined>;
  /** By id alone, for callers that do not know the partition (a batch item fetched by its image id). */
  find(id: string): Promise<ImageDocument | undefined>;
  upsert(doc: ImageDocument): Promise<void>;
  /** Newest first (createdAt descending), at most `limit` a page. */
  list(filter: ImageFilter, page: { limit: number; continuationToken?: string }): Promise<ImagePage>;
  /**
   * For the retention sweep: images created before `before` and not yet de-identified, oldest first, at most `limit`,
   * those created after `after` (keyset paging) when given.
   */
  listExpired(before: string, after: string | undefined, limit: number): Promise<ImageDocument[]>;
}
