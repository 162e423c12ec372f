import { BlobServiceClient, RestError, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import type { Connection } from '../config';
import { credentialFor } from '../azure-credential';
import type { BlobListing, BlobStore, StoredBlob } from './blob-store';

export function blobServiceClient(connection: Connection, options?: StoragePipelineOptions): BlobServiceClient {
  return connection.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(connection.value, options)
    : new BlobServiceClient(connection.endpoint, credentialFor(connection), options);
}

export class AzureBlobStore implements BlobStore {
  // One client per container, made once: building a container client builds its URL and pipeline options each time.
  private readonly containers = new Map<string, ContainerClient>();

  constructor(private readonly service: BlobServiceClient) {}

  private container(name: string): ContainerClient {
    return this.containers.get(name) ?? this.containers.set(name, this.service.getContainerClient(name)).get(name)!;
  }

  async ensureContainers(names: readonly string[], abortSignal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all(names.map((name) => this.container(name).createIfNotExists({ abortSignal })));
    return results.some((result) => result.succeeded);
  }

  async put(container: string, name: string, bytes: Buffer, options: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    await this.container(container).getBlockBlobClient(name).uploadData(bytes, {
      blobHTTPHeaders: { blobContentType: options.contentType },
      metadata: options.metadata,
    });
  }

  async get(container: string, name: string): Promise<StoredBlob | undefined> {
    const blob = this.container(container).getBlobClient(name);
    try {
      // One download gives bytes and properties of the same blob version.
      const response = await blob.download();
      return {
        bytes: await buffer(response.readableStreamBody!),
        contentType: response.contentType ?? 'application/octet-stream',
        metadata: response.metadata ?? {},
        etag: response.etag ?? '',
      };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  exists(container: string, name: string): Promise<boolean> {
    return this.container(container).getBlobClient(name).exists();
  }

  async *list(container: string, prefix?: string): AsyncIterable<BlobListing> {
    for await (const blob of this.container(container).listBlobsFlat({ prefix })) {
      yield { name: blob.name, etag: blob.properties.etag ?? '', createdOn: blob.properties.createdOn ?? blob.properties.lastModified };
    }
  }

  async delete(container: string, name: string): Promise<boolean> {
    try {
      // deleteIfExists answers false for a missing blob, but still throws for a missing container.
      return (await this.container(container).getBlobClient(name).deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return false;
      throw error;
    }
  }
}

async function buffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
