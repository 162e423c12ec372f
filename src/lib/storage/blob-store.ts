import type { Readable } from 'node:stream';

export interface StoredBlob {
  bytes: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
}

export interface BlobListing {
  name: string;
  etag: string;
  /** When the blob was created (the retention sweep counts from creation, as the lifecycle rule does). */
  createdOn: Date;
}

/** Port for blob storage: Azure Blob Storage in Azure, Azurite locally, MemoryBlobStore in fault-injection tests. */
export interface BlobStore {
  /** Creates the containers that are missing; true when any was. */
  ensureContainers(names: readonly string[], abortSignal?: AbortSignal): Promise<boolean>;
  /** Creates or overwrites; fails when the container does not exist. */
  put(container: string, name: string, bytes: Buffer, options: { contentType: string; metadata?: Record<string, string> }): Promise<void>;
  /**
   * Creates or overwrites from a stream, holding only a few blocks of it at a time; the blob exists once the stream
   * has ended. A stream that fails leaves no blob (nor changes one that was there).
   */
  putStream(container: string, name: string, stream: Readable, options: { contentType: string }): Promise<void>;
  /** Undefined when the blob does not exist. */
  get(container: string, name: string): Promise<StoredBlob | undefined>;
  /**
   * `length` bytes from `offset` of the blob, with its content type, metadata and ETag, in one request; undefined
   * when the blob does not exist. A range reaching past the end gives the bytes up to the end. A range must start
   * inside the blob: Azure answers one that does not with 416 (MemoryBlobStore too), Azurite with no bytes.
   */
  getRange(container: string, name: string, offset: number, length: number): Promise<StoredBlob | undefined>;
  /** Whether the blob exists, without reading it. */
  exists(container: string, name: string): Promise<boolean>;
  /** In name order. */
  list(container: string, prefix?: string): AsyncIterable<BlobListing>;
  /** Deletes the blob with its snapshots; false when there was none. */
  delete(container: string, name: string): Promise<boolean>;
}
