import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { BLOB_CONTAINERS } from '../lib/names';

export interface BatchStorageOptions {
  /** Storage account name or blob endpoint URL: Entra ID (the deployed account allows no shared keys). */
  account?: string;
  /** Connection string: only where shared-key access is allowed (Azurite, or an account that permits it). */
  connection?: string;
}

/** `<account>` or its blob endpoint URL -> the blob endpoint URL. */
export function blobEndpoint(account: string): string {
  const value = account.trim();
  if (/^https?:\/\//i.test(value)) return value;
  if (!/^[a-z0-9]{3,24}$/.test(value)) throw new Error(`"${account}" is not a storage account name (3-24 lowercase letters and digits) or a blob endpoint URL.`);
  return `https://${value}.blob.core.windows.net`;
}

/**
 * The `batches` container where records too large for Event Hubs are put (they travel as blob references). The
 * identity needs only blob write on that container (the Bicep's producerPrincipalIds get exactly that).
 */
export function batchesContainer(options: BatchStorageOptions, credential: () => TokenCredential): ContainerClient | undefined {
  if (options.account && options.connection) throw new Error('Give --storage-account or --storage-connection, not both.');
  if (options.connection) return BlobServiceClient.fromConnectionString(options.connection).getContainerClient(BLOB_CONTAINERS.batches);
  if (options.account) return new BlobServiceClient(blobEndpoint(options.account), credential()).getContainerClient(BLOB_CONTAINERS.batches);
  return undefined;
}
