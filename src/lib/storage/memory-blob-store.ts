import type { Readable } from 'node:stream';
import type { BlobListing, BlobStore, StoredBlob } from './blob-store';

/** The error shape of @azure/storage-blob's RestError, so callers classify it as they would a real one. */
const containerNotFound = (container: string) => Object.assign(new Error(`The container ${container} does not exist.`), { statusCode: 404, code: 'ContainerNotFound' });

const invalidRange = (name: string) => Object.assign(new Error(`The range starts past the end of ${name}.`), { statusCode: 416, code: 'InvalidRange' });

/**
 * BlobStore in memory, for tests that inject faults around it. Behaves as Azure Blob Storage does where the app
 * depends on it (test/contracts/blob-store.test.ts runs the same suite against both): copies in and out, a new ETag
 * on every write, name-ordered listings, writes to a missing container fail.
 */
export class MemoryBlobStore implements BlobStore {
  private readonly containers = new Map<string, Map<string, StoredBlob & { createdOn: Date }>>();
  private version = 0;

  async ensureContainers(names: readonly string[]): Promise<boolean> {
    const missing = names.filter((name) => !this.containers.has(name));
    for (const name of missing) this.containers.set(name, new Map());
    return missing.length > 0;
  }

  async put(container: string, name: string, bytes: Buffer, options: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    const blobs = this.containers.get(container);
    if (!blobs) throw containerNotFound(container);
    // An overwrite creates the blob anew, as Put Blob does.
    blobs.set(name, { bytes: Buffer.from(bytes), contentType: options.contentType, metadata: { ...options.metadata }, etag: `"${++this.version}"`, createdOn: new Date() });
  }

  async putStream(container: string, name: string, stream: Readable, options: { contentType: string }): Promise<void> {
    if (!this.containers.has(container)) throw containerNotFound(container);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    await this.put(container, name, Buffer.concat(chunks), options);
  }

  async get(container: string, name: string): Promise<StoredBlob | undefined> {
    const blob = this.containers.get(container)?.get(name);
    return blob && { bytes: Buffer.from(blob.bytes), contentType: blob.contentType, metadata: { ...blob.metadata }, etag: blob.etag };
  }

  async getRange(container: string, name: string, offset: number, length: number): Promise<StoredBlob | undefined> {
    const blob = await this.get(container, name);
    if (blob && offset >= blob.bytes.length) throw invalidRange(name);
    return blob && { ...blob, bytes: blob.bytes.subarray(offset, offset + length) };
  }

  async exists(container: string, name: string): Promise<boolean> {
    return Boolean(this.containers.get(container)?.has(name));
  }

  async *list(container: string, prefix = ''): AsyncIterable<BlobListing> {
    const blobs = this.containers.get(container);
    if (!blobs) throw containerNotFound(container);
    const names = [...blobs.keys()].filter((name) => name.startsWith(prefix)).sort();
    for (const name of names) {
      const blob = blobs.get(name);
      if (blob) yield { name, etag: blob.etag, createdOn: blob.createdOn };
    }
  }

  async delete(container: string, name: string): Promise<boolean> {
    return this.containers.get(container)?.delete(name) ?? false;
  }
}
