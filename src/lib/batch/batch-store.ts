import type { ImageDocument, ImageStatus } from '../results/image-document';
import type { BatchDocument, BatchStatus, RejectedRecord } from './batch-document';

/** What `update` may change: everything but the identity and creation time. */
export type BatchChanges = Partial<Omit<BatchDocument, 'id' | 'type' | 'schemaVersion' | 'createdAt'>>;

export interface BatchFilter {
  status?: BatchStatus;
  /** updatedAt bound, ISO 8601 UTC as stored, exclusive. */
  updatedBefore?: string;
  /** Only this owner's batches (an uploader's listing); none: everyone's. */
  owner?: string;
}

export interface BatchPage {
  items: BatchDocument[];
  /** Opaque; pass it back with the same filter for the next page. Absent on the last page. */
  continuationToken?: string;
}

/**
 * Port for batch documents and the queries over a batch's items: Cosmos DB (CosmosBatchStore) in Azure and on the
 * local host, MemoryBatchStore in fault-injection tests. test/contracts/batch-store.test.ts holds both to one suite.
 */
export interface BatchStore {
  /** Creates the batch document unless it exists; returns what is stored either way. */
  ensure(doc: BatchDocument): Promise<BatchDocument>;
  get(id: string): Promise<BatchDocument | undefined>;
  /**
   * Sets `changes` (null clears a field) if the batch exists and, when `from` is given, only while its status is one
   * of `from`: false when it is not. Concurrent updates from the same status let exactly one through.
   */
  update(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<boolean>;
  /** As update, answering the document as written (in the same request), or undefined where update answers false. */
  updateAndRead(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<BatchDocument | undefined>;
  /** Batches by updatedAt, oldest first, at most `limit` a page. */
  list(filter: BatchFilter, page: { limit: number; continuationToken?: string }): Promise<BatchPage>;
  /** Items of the batch with an index below `itemCount` (so a stray index can never complete a batch early). */
  countItems(batchId: string, itemCount: number, status?: ImageStatus): Promise<number>;
  /** The batch's items at these indexes (those that exist), in one query per 100 indexes. */
  itemsAt(batchId: string, indexes: readonly number[]): Promise<ImageDocument[]>;
  /** One page of items in index order, after `afterIndex` (keyset paging: stable while items change). */
  listItems(batchId: string, afterIndex: number, limit: number): Promise<ImageDocument[]>;
  /** Keeps a record that could not join its batch; false when the same record is already kept. */
  reject(record: RejectedRecord): Promise<boolean>;
  /** The batch's rejected records, oldest first. */
  rejections(batchId: string, limit: number): Promise<RejectedRecord[]>;
  /**
   * For the retention sweep: batches created before `before` and not yet de-identified, oldest first, at most
   * `limit`, those created after `after` (keyset paging) when given.
   */
  listExpired(before: string, after: string | undefined, limit: number): Promise<BatchDocument[]>;
  /** Replaces the batch document as a whole (the sweep's de-identified version). */
  replace(doc: BatchDocument): Promise<void>;
  /** As listExpired, for rejected records of every batch, by the time they were rejected (`at`). */
  listExpiredRejections(before: string, after: string | undefined, limit: number): Promise<RejectedRecord[]>;
  /** Replaces a kept rejected record (the sweep's de-identified version). */
  replaceRejection(record: RejectedRecord): Promise<void>;
}

const PAGE = 1000;

/** Every item of the batch, for the summary; read page by page so a large batch never needs one huge response. */
export async function allItems(store: BatchStore, batchId: string): Promise<ImageDocument[]> {
  const all: ImageDocument[] = [];
  for (let after = -1; ; ) {
    const page = await store.listItems(batchId, after, PAGE);
    all.push(...page);
    if (page.length < PAGE) return all;
    after = page.at(-1)!.itemIndex ?? Infinity;
  }
}

/** Every batch a filter matches, page by page (the receive-timeout sweep walks them all). */
export async function* allBatches(store: BatchStore, filter: BatchFilter): AsyncIterable<BatchDocument> {
  let continuationToken: string | undefined;
  do {
    const page = await store.list(filter, { limit: 100, continuationToken });
    yield* page.items;
    continuationToken = page.continuationToken;
  } while (continuationToken);
}
