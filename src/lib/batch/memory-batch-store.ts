import { memoryExpired as expired, memoryPage } from '../memory-page';
import type { ImageStatus } from '../results/image-document';
import type { MemoryImageResults } from '../results/memory-image-results';
import type { BatchDocument, BatchStatus, RejectedRecord } from './batch-document';
import type { BatchChanges, BatchFilter, BatchPage, BatchStore } from './batch-store';

const copy = <T>(value: T): T => structuredClone(value);

/** Oldest update first, ties by id: a total order, so keyset tokens resume exactly where a page ended. */
const oldestFirst = (a: BatchDocument, b: BatchDocument) => a.updatedAt.localeCompare(b.updatedAt) || a.id.localeCompare(b.id);

/**
 * BatchStore in memory, for tests that inject faults around it (test/contracts/batch-store.test.ts holds it and the
 * Cosmos adapter to one suite). Item queries read the MemoryImageResults the items are written to, as the Cosmos
 * adapter reads the `images` container.
 */
export class MemoryBatchStore implements BatchStore {
  private readonly batches = new Map<string, BatchDocument>();
  private readonly rejected = new Map<string, RejectedRecord>();

  constructor(private readonly images: MemoryImageResults) {}

  async ensure(doc: BatchDocument): Promise<BatchDocument> {
    const existing = this.batches.get(doc.id);
    if (existing) return copy(existing);
    this.batches.set(doc.id, copy(doc));
    return copy(doc);
  }

  async get(id: string): Promise<BatchDocument | undefined> {
    const doc = this.batches.get(id);
    return doc && copy(doc);
  }

  async update(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<boolean> {
    return Boolean(await this.updateAndRead(id, changes, from));
  }

  async updateAndRead(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<BatchDocument | undefined> {
    const doc = this.batches.get(id);
    if (!doc || (from && !from.includes(doc.status))) return undefined;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const written = { ...doc, ...copy(defined) } as BatchDocument;
    this.batches.set(id, written);
    return copy(written);
  }

  async list(filter: BatchFilter, page: { limit: number; continuationToken?: string }): Promise<BatchPage> {
    const matching = [...this.batches.values()]
      .filter(
        (b) =>
          (filter.status === undefined || b.status === filter.status) &&
          (filter.updatedBefore === undefined || b.updatedAt < filter.updatedBefore) &&
          (filter.owner === undefined || b.owner === filter.owner),
      )
      .sort(oldestFirst);
    const { items, continuationToken } = memoryPage(matching, oldestFirst, ({ updatedAt, id }) => ({ updatedAt, id }), page.limit, page.continuationToken);
    return { items: items.map(copy), continuationToken };
  }

  async countItems(batchId: string, itemCount: number, status?: ImageStatus): Promise<number> {
    return this.items(batchId).filter((d) => d.itemIndex! < itemCount && (status === undefined || d.status === status)).length;
  }

  async itemsAt(batchId: string, indexes: readonly number[]) {
    return this.items(batchId).filter((d) => indexes.includes(d.itemIndex!));
  }

  async listItems(batchId: string, afterIndex: number, limit: number) {
    return this.items(batchId)
      .filter((d) => d.itemIndex! > afterIndex)
      .sort((a, b) => a.itemIndex! - b.itemIndex!)
      .slice(0, Math.max(1, Math.min(1000, Math.trunc(limit))));
  }

  async reject(record: RejectedRecord): Promise<boolean> {
    const id = `${record.batchId}\u0000${record.id}`;
    if (this.rejected.has(id)) return false;
    this.rejected.set(id, copy(record));
    return true;
  }

  async rejections(batchId: string, limit: number): Promise<RejectedRecord[]> {
    return [...this.rejected.values()]
      .filter((r) => r.batchId === batchId)
      .sort((a, b) => a.at.localeCompare(b.at))
      .slice(0, limit)
      .map(copy);
  }

  async listExpired(before: string, after: string | undefined, limit: number): Promise<BatchDocument[]> {
    return expired([...this.batches.values()], (b) => b.createdAt, before, after, limit).map(copy);
  }

  async replace(doc: BatchDocument): Promise<void> {
    this.batches.set(doc.id, copy(doc));
  }

  async listExpiredRejections(before: string, after: string | undefined, limit: number): Promise<RejectedRecord[]> {
    return expired([...this.rejected.values()], (r) => r.at, before, after, limit).map(copy);
  }

  async replaceRejection(record: RejectedRecord): Promise<void> {
    this.rejected.set(`${record.batchId}\u0000${record.id}`, copy(record));
  }

  private items(batchId: string) {
    return this.images.documents().filter((d) => d.partitionKey === batchId && d.itemIndex !== undefined && d.itemIndex >= 0);
  }
}
