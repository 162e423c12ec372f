import type { Readable } from 'node:stream';
import { BlobServiceClient, RestError, type StoragePipelineOptions } from '@azure/storage-blob';
import type { Connection } from '../config';
import { credentialFor } from '../azure-credential';
import type { BlobListing, BlobStore, StoredBlob } from './blob-store';

export function blobServiceClient(connection: Connection, options?: StoragePipelineOptions): BlobServiceClient {
  return connection.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(connection.value, options)
    : new BlobServiceClient(connection.endpoint, credentialFor(connection), options);
}

/** A streamed upload holds at most STREAM_BLOCK_BYTES x (STREAM_CONCURRENCY + 1) of its stream. */
const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;
const STREAM_CONCURRENCY = 2;

export class AzureBlobStore implements BlobStore {
  constructor(private readonly service: BlobServiceClient) {}

  async ensureContainers(names: readonly string[], abortSignal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all(names.map((name) => this.service.getContainerClient(name).createIfNotExists({ abortSignal })));
    return results.some((result) => result.succeeded);
  }

  async put(container: string, name: string, bytes: Buffer, options: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    await this.service.getContainerClient(container).getBlockBlobClient(name).uploadData(bytes, {
      blobHTTPHeaders: { blobContentType: options.contentType },
      metadata: options.metadata,
    });
  }

  async putStream(container: string, name: string, stream: Readable, options: { contentType: string }): Promise<void> {
    // Staged blocks are committed only once the stream has ended; a failed stream leaves them uncommitted, which
    // Azure discards (they are never a blob).
    await this.service.getContainerClient(container).getBlockBlobClient(name).uploadStream(stream, STREAM_BLOCK_BYTES, STREAM_CONCURRENCY, {
      blobHTTPHeaders: { blobContentType: options.contentType },
    });
  }

  async get(container: string, name: string): Promise<StoredBlob | undefined> {
    const blob = this.service.getContainerClient(container).getBlobClient(name);
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
    return this.service.getContainerClient(container).getBlobClient(name).exists();
  }

  async *list(container: string, prefix?: string): AsyncIterable<BlobListing> {
    for await (const blob of this.service.getContainerClient(container).listBlobsFlat({ prefix })) {
      yield { name: blob.name, etag: blob.properties.etag ?? '', createdOn: blob.properties.createdOn ?? blob.properties.lastModified };
    }
  }

  async delete(container: string, name: string): Promise<boolean> {
    try {
      // deleteIfExists answers false for a missing blob, but still throws for a missing container.
      return (await this.service.getContainerClient(container).getBlobClient(name).deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
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
