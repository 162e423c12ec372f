import { Readable } from 'node:stream';
import { BlobServiceClient, RestError, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import type { Connection } from '../config';
import { credentialFor } from '../azure-credential';
import type { BlobListing, BlobStore, StoredBlob } from './blob-store';

export function blobServiceClient(connection: Connection, options?: StoragePipelineOptions): BlobServiceClient {
  return connection.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(connection.value, options)
    : new BlobServiceClient(connection.endpoint, credentialFor(connection), options);
}

/** The largest buffer uploadData sends as one Put Blob (the SDK's BLOCK_BLOB_MAX_UPLOAD_BLOB_BYTES, not exported). */
const SINGLE_PUT_BYTES = 256 * 1024 * 1024;

/** A streamed upload holds about two blocks of its stream: one being staged, the next arriving. */
const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;

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
    const blob = this.container(container).getBlockBlobClient(name);
    const headers = { blobHTTPHeaders: { blobContentType: options.contentType }, metadata: options.metadata };
    // One Put Blob, as uploadData sends for these sizes too, without its two extra spans and upload planning (an
    // upload's put is on the API's request path); larger buffers are left to uploadData's blocks.
    if (bytes.length <= SINGLE_PUT_BYTES) await blob.upload(bytes, bytes.length, headers);
    else await blob.uploadData(bytes, headers);
  }

  async putStream(container: string, name: string, stream: Readable, options: { contentType: string }): Promise<void> {
    const blob = this.container(container).getBlockBlobClient(name);
    const blobHTTPHeaders = { blobContentType: options.contentType };
    // The stream's own chunks are sent as they are, a block at a time: nothing is copied, and a block's chunks are
    // dropped once it is staged (a copy into the SDK's block buffers costs as much memory as the upload, as garbage).
    const blockIds: string[] = [];
    let staging: Promise<unknown> = Promise.resolve();
    let chunks: Buffer[] = [];
    let length = 0;
    const stage = async (blockChunks: Buffer[], blockLength: number) => {
      await staging;
      const id = Buffer.from(String(blockIds.length).padStart(8, '0')).toString('base64');
      blockIds.push(id);
      // One block is staged while the next arrives; a failure is seen when the next block (or the commit) waits for it.
      staging = blob.stageBlock(id, () => Readable.from(blockChunks), blockLength);
      staging.catch(() => undefined);
    };
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= STREAM_BLOCK_BYTES) {
        await stage(chunks, length);
        [chunks, length] = [[], 0];
      }
    }
    if (!blockIds.length) {
      const body = chunks;
      await blob.upload(() => Readable.from(body), length, { blobHTTPHeaders });
      return;
    }
    if (length) await stage(chunks, length);
    await staging;
    // Staged blocks become the blob only here; blocks of a stream that failed stay uncommitted and Azure discards them.
    await blob.commitBlockList(blockIds, { blobHTTPHeaders });
  }

  get(container: string, name: string): Promise<StoredBlob | undefined> {
    return this.download(container, name);
  }

  getRange(container: string, name: string, offset: number, length: number): Promise<StoredBlob | undefined> {
    return this.download(container, name, offset, length);
  }

  private async download(container: string, name: string, offset = 0, length?: number): Promise<StoredBlob | undefined> {
    const blob = this.container(container).getBlobClient(name);
    try {
      // One download gives bytes and properties of the same blob version.
      const response = await blob.download(offset, length);
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
