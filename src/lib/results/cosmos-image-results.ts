import type { Container } from '@azure/cosmos';
import { isStatus, withoutSystemProperties } from './cosmos';
import type { ImageDocument } from './image-document';
import type { ImageResults } from './result-store';

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

  async get(id: string, partitionKey: string): Promise<ImageDocument | undefined> {
    const { resource } = await this.container.item(id, partitionKey).read<ImageDocument>();
    return resource && withoutSystemProperties(resource);
  }

  async find(id: string): Promise<ImageDocument | undefined> {
    const { resources } = await this.container.items
      .query<ImageDocument>({ query: 'SELECT * FROM c WHERE c.id = @id', parameters: [{ name: '@id', value: id }] })
      .fetchAll();
    return resources[0] && withoutSystemProperties(resources[0]);
  }

  async upsert(doc: ImageDocument): Promise<void> {
    await this.container.items.upsert(doc);
  }
}
