export interface StoredBlob {
  bytes: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
}

export interface BlobListing {
  name: string;
  etag: string;
}

/** Port for blob storage: Azure Blob Storage in Azure, Azurite locally. */
export interface BlobStore {
  /** Creates the containers that are missing; true when any was. */
  ensureContainers(names: readonly string[], abortSignal?: AbortSignal): Promise<boolean>;
  put(container: string, name: string, bytes: Buffer, options: { contentType: string; metadata?: Record<string, string> }): Promise<void>;
  /** Undefined when the blob does not exist. */
  get(container: string, name: string): Promise<StoredBlob | undefined>;
  list(container: string, prefix?: string): AsyncIterable<BlobListing>;
}
