import type { CosmosClient, Database } from '@azure/cosmos';
import { isStatus } from '../results/cosmos';
import { appFields, type ChangedPage, type ContainerSpec, type Document, type DocumentStore, type PartitionKeyValue, type VersionedDocument } from './document-store';

/**
 * The backup's DocumentStore on Cosmos DB. `_ts` queries are cross-partition with a single-field ORDER BY and
 * continuation tokens, which Cosmos DB and the local stand-in answer alike. `canCreate`: key-based connections
 * (emulators) may create the database and containers; with an Entra identity the Bicep declares them.
 */
export class CosmosDocumentStore implements DocumentStore {
  private readonly database: Database;

  constructor(
    private readonly client: CosmosClient,
    private readonly databaseId: string,
    private readonly canCreate: boolean,
  ) {
    this.database = client.database(databaseId);
  }

  async missing(containers: readonly ContainerSpec[]): Promise<string[]> {
    const found = await Promise.all(
      containers.map(async ({ id }) => {
        try {
          await this.database.container(id).read();
          return true;
        } catch (error) {
          if (isStatus(error, 404)) return false;
          throw error;
        }
      }),
    );
    return containers.filter((_, i) => !found[i]).map(({ id }) => id);
  }

  async ensure(containers: readonly ContainerSpec[]): Promise<void> {
    if (!this.canCreate) {
      const missing = await this.missing(containers);
      if (missing.length) throw new Error(`Cosmos DB database ${this.databaseId} has no container ${missing.join(', ')}, and an Entra identity cannot create one: deploy the Bicep (it declares them) first.`);
      return;
    }
    const { database } = await this.client.databases.createIfNotExists({ id: this.databaseId });
    for (const { id, partitionKeyPath } of containers) await database.containers.createIfNotExists({ id, partitionKey: { paths: [partitionKeyPath] } });
  }

  async changed(container: ContainerSpec, range: { afterTs: number; untilTs: number }, page: { limit: number; continuationToken?: string }): Promise<ChangedPage> {
    const iterator = this.database.container(container.id).items.query<VersionedDocument>(
      {
        query: 'SELECT * FROM c WHERE c._ts > @after AND c._ts <= @until ORDER BY c._ts',
        parameters: [
          { name: '@after', value: range.afterTs },
          { name: '@until', value: range.untilTs },
        ],
      },
      { maxItemCount: page.limit, continuationToken: page.continuationToken },
    );
    // A cross-partition page can come back empty with more to follow.
    let response = await iterator.fetchNext();
    while (response.resources.length === 0 && response.continuationToken) response = await iterator.fetchNext();
    return {
      documents: response.resources.map((resource) => ({ ...appFields(resource), _ts: resource._ts })),
      continuationToken: response.continuationToken || undefined,
    };
  }

  async create(container: ContainerSpec, doc: Document): Promise<boolean> {
    try {
      await this.database.container(container.id).items.create(appFields(doc));
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async read(container: ContainerSpec, id: string, partitionKey: PartitionKeyValue): Promise<Document | undefined> {
    const { resource } = await this.database.container(container.id).item(id, partitionKey ?? undefined).read<Document>();
    return resource && appFields(resource);
  }

  async upsert(container: ContainerSpec, doc: Document): Promise<void> {
    await this.database.container(container.id).items.upsert(appFields(doc));
  }
}
