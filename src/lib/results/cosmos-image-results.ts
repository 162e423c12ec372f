import type { Container, JSONObject, OperationInput, PatchOperation, SqlParameter } from '@azure/cosmos';
import { expiredQuery, isStatus, withoutSystemProperties } from './cosmos';
import type { ImageDocument } from './image-document';
import type { ImageFilter, ImagePage, ImageResult, ImageResults } from './result-store';

/** Operations per bulk request: Cosmos DB takes 100. */
const BULK = 100;

export class CosmosImageResults implements ImageResults {
  constructor(private readonly container: Container) {}

  async create(doc: ImageDocument): Promise<boolean> {
    try {
      await this.container.items.create(doc);
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async createMany(docs: readonly ImageDocument[]): Promise<boolean[]> {
    const created: boolean[] = [];
    for (let start = 0; start < docs.length; start += BULK) {
      const operations: OperationInput[] = docs.slice(start, start + BULK).map((doc) => ({ operationType: 'Create', resourceBody: doc as unknown as JSONObject }));
      for (const { statusCode } of await this.container.items.bulk(operations)) {
        // Thrown with the status, as a single create would (429 included): the caller's retry creates the rest.
        if (statusCode !== 409 && statusCode >= 300) throw Object.assign(new Error(`creating image documents failed with status ${statusCode}`), { code: statusCode });
        created.push(statusCode !== 409);
      }
    }
    return created;
  }

  async get(id: string, partitionKey: string): Promise<ImageDocument | undefined> {
    const { resource } = await this.container.item(id, partitionKey).read<ImageDocument>();
    return resource && withoutSystemProperties(resource);
  }

  async finishQueued(id: string, partitionKey: string, sha256: string, result: ImageResult): Promise<ImageDocument | undefined> {
    // Checked, since it is written into the condition (which takes no parameters).
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('a sha256 is 64 hex digits');
    const operations: PatchOperation[] = Object.entries(result)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => ({ op: 'set', path: `/${field}`, value }));
    try {
      const { resource } = await this.container.item(id, partitionKey).patch<ImageDocument>({ operations, condition: `FROM c WHERE c.status = 'queued' AND c.source.sha256 = '${sha256}'` });
      return resource && withoutSystemProperties(resource);
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async find(id: string): Promise<ImageDocument | undefined> {
    // The type filter leaves out the rejected records kept in batch partitions (CosmosBatchStore).
    const { resources } = await this.container.items
      .query<ImageDocument>({ query: "SELECT * FROM c WHERE c.id = @id AND c.type = 'image'", parameters: [{ name: '@id', value: id }] })
      .fetchAll();
    return resources[0] && withoutSystemProperties(resources[0]);
  }

  async upsert(doc: ImageDocument): Promise<void> {
    await this.container.items.upsert(doc);
  }

  async listExpired(before: string, after: string | undefined, limit: number): Promise<ImageDocument[]> {
    const { resources } = await this.container.items.query<ImageDocument>(expiredQuery('image', 'createdAt', before, after, limit)).fetchAll();
    return resources.map((resource) => withoutSystemProperties(resource));
  }

  /**
   * One parameterised query, newest first, paged with the SDK's continuation tokens (maxItemCount): no OFFSET/LIMIT
   * and a single-field ORDER BY, which real Cosmos DB (default range index) and the local stand-in both serve.
   * A batch filter is a single-partition query, since batch items are partitioned by their batch id.
   */
  async list(filter: ImageFilter, page: { limit: number; continuationToken?: string }): Promise<ImagePage> {
    const conditions = ['c.type = @type'];
    const parameters: SqlParameter[] = [{ name: '@type', value: 'image' }];
    const where = (condition: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      conditions.push(condition);
      parameters.push({ name, value });
    };
    where('c.status = @status', '@status', filter.status);
    where('c.metadata.format = @format', '@format', filter.format);
    where('c.createdAt >= @from', '@from', filter.from);
    where('c.createdAt < @to', '@to', filter.to);
    where('c.batchId = @batchId', '@batchId', filter.batchId);
    where('c.owner = @owner', '@owner', filter.owner);
    const iterator = this.container.items.query<ImageDocument>(
      { query: `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.createdAt DESC`, parameters },
      { maxItemCount: page.limit, continuationToken: page.continuationToken, partitionKey: filter.batchId },
    );
    // A cross-partition page can come back empty with more to follow; a few more reads find the next items.
    let response = await iterator.fetchNext();
    for (let attempt = 0; response.resources.length === 0 && response.continuationToken && attempt < 5; attempt++) {
      response = await iterator.fetchNext();
    }
    return {
      items: response.resources.map((resource) => withoutSystemProperties(resource)),
      continuationToken: response.continuationToken || undefined,
    };
  }
}
