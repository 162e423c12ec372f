import type { Container, PatchOperation, SqlParameter } from '@azure/cosmos';
import { expiredQuery, isStatus, withoutSystemProperties, type CosmosContainers } from '../results/cosmos';
import type { ImageDocument, ImageStatus } from '../results/image-document';
import type { BatchDocument, BatchStatus, RejectedRecord } from './batch-document';
import type { BatchChanges, BatchFilter, BatchPage, BatchStore } from './batch-store';

const REJECTED = 'rejected' as const;

/**
 * Batch documents (`batches`, partition = id), a batch's items and rejected records (`images`, partition = batch
 * id). Every items query also filters on `c.partitionKey`: the Cosmos stand-in ignores the partitionKey request
 * option, and on real Cosmos the filter keeps the query in one partition anyway. Only WHERE, VALUE COUNT, TOP and
 * single-field ORDER BY are used, which both answer the same way.
 */
export class CosmosBatchStore implements BatchStore {
  private readonly batches: Container;
  private readonly images: Container;

  constructor(containers: CosmosContainers) {
    this.batches = containers.batches;
    this.images = containers.images;
  }

  async ensure(doc: BatchDocument): Promise<BatchDocument> {
    try {
      await this.batches.items.create(doc);
      return doc;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      return (await this.get(doc.id)) ?? doc;
    }
  }

  async get(id: string): Promise<BatchDocument | undefined> {
    const { resource } = await this.batches.item(id, id).read<BatchDocument>();
    return resource && withoutSystemProperties(resource);
  }

  async update(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<boolean> {
    return Boolean(await this.updateAndRead(id, changes, from));
  }

  async updateAndRead(id: string, changes: BatchChanges, from?: readonly BatchStatus[]): Promise<BatchDocument | undefined> {
    const operations: PatchOperation[] = Object.entries(changes)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => ({ op: 'set', path: `/${key}`, value }));
    // Statuses are our own literals, never input: safe to write into the condition (which takes no parameters).
    const condition = from && `FROM c WHERE ${from.map((status) => `c.status = '${status}'`).join(' OR ')}`;
    try {
      // A patch answers the document as written.
      const { resource } = await this.batches.item(id, id).patch<BatchDocument>(condition ? { operations, condition } : operations);
      return resource && withoutSystemProperties(resource);
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list(filter: BatchFilter, page: { limit: number; continuationToken?: string }): Promise<BatchPage> {
    const conditions = ["c.type = 'batch'"];
    const parameters: SqlParameter[] = [];
    if (filter.status) {
      conditions.push('c.status = @status');
      parameters.push({ name: '@status', value: filter.status });
    }
    if (filter.updatedBefore) {
      conditions.push('c.updatedAt < @before');
      parameters.push({ name: '@before', value: filter.updatedBefore });
    }
    if (filter.owner !== undefined) {
      conditions.push('c.owner = @owner');
      parameters.push({ name: '@owner', value: filter.owner });
    }
    const iterator = this.batches.items.query<BatchDocument>(
      { query: `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.updatedAt`, parameters },
      { maxItemCount: page.limit, continuationToken: page.continuationToken },
    );
    // A cross-partition page can come back empty with more to follow; a few more reads find the next items.
    let response = await iterator.fetchNext();
    for (let attempt = 0; response.resources.length === 0 && response.continuationToken && attempt < 5; attempt++) {
      response = await iterator.fetchNext();
    }
    return { items: response.resources.map(withoutSystemProperties), continuationToken: response.continuationToken || undefined };
  }

  async countItems(batchId: string, itemCount: number, status?: ImageStatus): Promise<number> {
    const parameters: SqlParameter[] = [
      { name: '@batchId', value: batchId },
      { name: '@count', value: itemCount },
    ];
    let query = "SELECT VALUE COUNT(1) FROM c WHERE c.partitionKey = @batchId AND c.type = 'image' AND c.itemIndex >= 0 AND c.itemIndex < @count";
    if (status) {
      query += ' AND c.status = @status';
      parameters.push({ name: '@status', value: status });
    }
    const { resources } = await this.images.items.query<number>({ query, parameters }, { partitionKey: batchId }).fetchAll();
    return resources[0] ?? 0;
  }

  async itemsAt(batchId: string, indexes: readonly number[]): Promise<ImageDocument[]> {
    const found: ImageDocument[] = [];
    for (let start = 0; start < indexes.length; start += 100) {
      const chunk = indexes.slice(start, start + 100);
      // Indexes are integers (record.ts parses them), checked, so they are written into the query as numbers.
      if (chunk.some((index) => !Number.isInteger(index))) throw new Error('item indexes are integers');
      const { resources } = await this.images.items
        .query<ImageDocument>(
          {
            query: `SELECT * FROM c WHERE c.partitionKey = @batchId AND c.type = 'image' AND c.itemIndex IN (${chunk.join(', ')})`,
            parameters: [{ name: '@batchId', value: batchId }],
          },
          { partitionKey: batchId },
        )
        .fetchAll();
      found.push(...resources.map(withoutSystemProperties));
    }
    return found;
  }

  async listItems(batchId: string, afterIndex: number, limit: number): Promise<ImageDocument[]> {
    const top = Math.max(1, Math.min(1000, Math.trunc(limit)));
    const { resources } = await this.images.items
      .query<ImageDocument>(
        {
          query: `SELECT TOP ${top} * FROM c WHERE c.partitionKey = @batchId AND c.type = 'image' AND c.itemIndex > @after ORDER BY c.itemIndex`,
          parameters: [
            { name: '@batchId', value: batchId },
            { name: '@after', value: afterIndex },
          ],
        },
        { partitionKey: batchId },
      )
      .fetchAll();
    return resources.map(withoutSystemProperties);
  }

  /** Kept in the batch's partition of `images` with type "rejected", which every image query leaves out. */
  async reject(record: RejectedRecord): Promise<boolean> {
    try {
      await this.images.items.create(storedRejection(record));
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async rejections(batchId: string, limit: number): Promise<RejectedRecord[]> {
    const top = Math.max(1, Math.min(1000, Math.trunc(limit)));
    const { resources } = await this.images.items
      .query<StoredRejection>(
        {
          query: `SELECT TOP ${top} * FROM c WHERE c.partitionKey = @batchId AND c.type = '${REJECTED}' ORDER BY c.at`,
          parameters: [{ name: '@batchId', value: batchId }],
        },
        { partitionKey: batchId },
      )
      .fetchAll();
    return resources.map(fromStoredRejection);
  }

  async listExpired(before: string, after: string | undefined, limit: number): Promise<BatchDocument[]> {
    const { resources } = await this.batches.items.query<BatchDocument>(expiredQuery('batch', 'createdAt', before, after, limit)).fetchAll();
    return resources.map(withoutSystemProperties);
  }

  async replace(doc: BatchDocument): Promise<void> {
    await this.batches.items.upsert(doc);
  }

  async listExpiredRejections(before: string, after: string | undefined, limit: number): Promise<RejectedRecord[]> {
    const { resources } = await this.images.items.query<StoredRejection>(expiredQuery(REJECTED, 'at', before, after, limit)).fetchAll();
    return resources.map(fromStoredRejection);
  }

  async replaceRejection(record: RejectedRecord): Promise<void> {
    await this.images.items.upsert(storedRejection(record));
  }
}

type StoredRejection = RejectedRecord & { partitionKey: string; type: typeof REJECTED };

const storedRejection = (record: RejectedRecord): StoredRejection => ({ ...record, partitionKey: record.batchId, type: REJECTED });

function fromStoredRejection(resource: StoredRejection): RejectedRecord {
  const { partitionKey: _p, type: _t, ...record } = withoutSystemProperties(resource);
  return record;
}
