import type { Container, PatchOperation, SqlParameter } from '@azure/cosmos';
import { isStatus, withoutSystemProperties, type CosmosContainers } from '../results/cosmos';
import type { ImageDocument, ImageStatus } from '../results/image-document';
import type { BatchDocument } from './batch-document';
import type { BatchSummary } from './summary';

/**
 * Batch documents (`batches`, partition = id) and queries over a batch's items (`images`, partition = batch id).
 * Every items query also filters on `c.partitionKey`: the Cosmos stand-in ignores the partitionKey request option,
 * and on real Cosmos the filter keeps the query in one partition anyway. Only WHERE, VALUE COUNT, TOP and
 * single-field ORDER BY are used, which both answer the same way.
 */
export class BatchStore {
  private readonly batches: Container;
  private readonly images: Container;

  constructor(containers: CosmosContainers) {
    this.batches = containers.batches;
    this.images = containers.images;
  }

  /** Creates the batch document unless it exists; returns what is stored either way. */
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

  /** A patch applied only while `condition` holds; false when it did not (Cosmos answers 412). */
  private async patch(id: string, operations: PatchOperation[], condition?: string): Promise<boolean> {
    try {
      await this.batches.item(id, id).patch(condition ? { operations, condition } : operations);
      return true;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return false;
      throw error;
    }
  }

  /** receiving -> processing, once: a later or concurrent call (redelivery, another trigger instance) changes nothing. */
  markStarted(id: string, at: string): Promise<boolean> {
    return this.patch(
      id,
      [
        { op: 'set', path: '/status', value: 'processing' },
        { op: 'set', path: '/startedAt', value: at },
        { op: 'set', path: '/updatedAt', value: at },
      ],
      "FROM c WHERE c.status = 'receiving'",
    );
  }

  complete(id: string, summary: BatchSummary, at: string): Promise<boolean> {
    return this.patch(id, [
      { op: 'set', path: '/status', value: 'completed' },
      { op: 'set', path: '/summary', value: summary },
      { op: 'set', path: '/completedAt', value: at },
      { op: 'set', path: '/updatedAt', value: at },
    ]);
  }

  recordCallback(id: string, callback: NonNullable<BatchDocument['callback']>): Promise<boolean> {
    return this.patch(id, [{ op: 'set', path: '/callback', value: callback }]);
  }

  /** Items of the batch with an index below `itemCount` (so a stray index can never complete a batch early). */
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

  /**
   * One page of items in index order, after `afterIndex` (keyset paging: the stand-in has no OFFSET/LIMIT, and
   * keyset pages stay stable and cheap on real Cosmos too).
   */
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

  /** Every item of the batch, for the summary; read page by page so a large batch never needs one huge response. */
  async allItems(batchId: string): Promise<ImageDocument[]> {
    const all: ImageDocument[] = [];
    for (let after = -1; ; ) {
      const page = await this.listItems(batchId, after, 1000);
      all.push(...page);
      if (page.length < 1000) return all;
      after = page.at(-1)!.itemIndex ?? Infinity;
    }
  }
}

const stores = new WeakMap<CosmosContainers, BatchStore>();

/** One store per set of containers (the Services object is per process). */
export function batchStore(containers: CosmosContainers): BatchStore {
  let store = stores.get(containers);
  if (!store) stores.set(containers, (store = new BatchStore(containers)));
  return store;
}
