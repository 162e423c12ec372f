import { ContainerClient, RestError } from '@azure/storage-blob';
import { credentialFor } from '../azure-credential';
import { checkName, type BackupTarget } from './target';

/**
 * Backups in a blob container, given by its URL: `https://<account>.blob.core.windows.net/<container>` with an Entra
 * identity (az login, a managed identity, a service principal; it needs Storage Blob Data Contributor on the
 * container), or any container URL carrying a SAS token (`?sv=...&sig=...`, e.g. Azurite in tests).
 */
export class BlobContainerTarget implements BackupTarget {
  readonly location: string;

  private constructor(private readonly container: ContainerClient) {
    this.location = container.url.split('?')[0];
  }

  static async open(url: string): Promise<BlobContainerTarget> {
    const parsed = new URL(url);
    const container = parsed.searchParams.has('sig') ? new ContainerClient(url) : new ContainerClient(url, credentialFor({ kind: 'identity', endpoint: url }));
    const target = new BlobContainerTarget(container);
    try {
      await container.createIfNotExists();
    } catch (error) {
      // A container-scoped role or SAS may not create containers; it must exist then, which the listing shows.
      if (!(error instanceof RestError && error.statusCode === 403)) throw error;
    }
    return target;
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of this.container.listBlobsFlat()) names.push(blob.name);
    return names.sort();
  }

  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await this.container.getBlobClient(checkName(name)).downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async write(name: string, bytes: Buffer): Promise<void> {
    // A block blob is committed whole, so readers never see a part of it.
    await this.container.getBlockBlobClient(checkName(name)).uploadData(bytes, { blobHTTPHeaders: { blobContentType: name.endsWith('.json') ? 'application/json' : 'application/gzip' } });
  }

  async remove(name: string): Promise<void> {
    await this.container.getBlobClient(checkName(name)).deleteIfExists();
  }
}
