import { memoryExpired, memoryPage } from '../memory-page';
import type { ImageDocument } from './image-document';
import type { ImageFilter, ImagePage, ImageResult, ImageResults } from './result-store';

const copy = <T>(value: T): T => structuredClone(value);
const key = (partitionKey: string, id: string) => `${partitionKey}\u0000${id}`;

/** Newest first, ties by partition and id: a total order, so keyset tokens resume exactly where a page ended. */
const newestFirst = (a: ImageDocument, b: ImageDocument) =>
  b.createdAt.localeCompare(a.createdAt) || a.partitionKey.localeCompare(b.partitionKey) || a.id.localeCompare(b.id);

/**
 * ImageResults in memory, for tests that inject faults around it (test/contracts/image-results.test.ts holds it
 * and the Cosmos adapter to one suite). Documents are copied in and out, as a database would.
 */
export class MemoryImageResults implements ImageResults {
  private readonly docs = new Map<string, ImageDocument>();

  async create(doc: ImageDocument): Promise<boolean> {
    if (this.docs.has(key(doc.partitionKey, doc.id))) return false;
    this.docs.set(key(doc.partitionKey, doc.id), copy(doc));
    return true;
  }

  async createMany(docs: readonly ImageDocument[]): Promise<boolean[]> {
    const created: boolean[] = [];
    for (const doc of docs) created.push(await this.create(doc));
    return created;
  }

  async get(id: string, partitionKey: string): Promise<ImageDocument | undefined> {
    const doc = this.docs.get(key(partitionKey, id));
    return doc && copy(doc);
  }

  async finishQueued(id: string, partitionKey: string, sha256: string, result: ImageResult): Promise<ImageDocument | undefined> {
    const doc = this.docs.get(key(partitionKey, id));
    if (doc?.status !== 'queued' || doc.source.sha256 !== sha256) return undefined;
    const written = { ...doc, ...copy(result) };
    this.docs.set(key(partitionKey, id), written);
    return copy(written);
  }

  async find(id: string): Promise<ImageDocument | undefined> {
    const doc = [...this.docs.values()].find((d) => d.id === id);
    return doc && copy(doc);
  }

  async upsert(doc: ImageDocument): Promise<void> {
    this.docs.set(key(doc.partitionKey, doc.id), copy(doc));
  }

  async list(filter: ImageFilter, page: { limit: number; continuationToken?: string }): Promise<ImagePage> {
    const matching = this.documents()
      .filter(
        (d) =>
          (filter.status === undefined || d.status === filter.status) &&
          (filter.format === undefined || d.metadata?.format === filter.format) &&
          (filter.from === undefined || d.createdAt >= filter.from) &&
          (filter.to === undefined || d.createdAt < filter.to) &&
          (filter.batchId === undefined || d.batchId === filter.batchId) &&
          (filter.owner === undefined || d.owner === filter.owner),
      )
      .sort(newestFirst);
    return memoryPage(matching, newestFirst, ({ createdAt, partitionKey, id }) => ({ createdAt, partitionKey, id }), page.limit, page.continuationToken);
  }

  async listExpired(before: string, after: string | undefined, limit: number): Promise<ImageDocument[]> {
    return memoryExpired(this.documents(), (d) => d.createdAt, before, after, limit);
  }

  /** Not part of the port: every document (copies), for MemoryBatchStore's queries over a batch's items. */
  documents(): ImageDocument[] {
    return [...this.docs.values()].map(copy);
  }
}
