import { BlobContainerTarget } from './blob-target';
import { FolderTarget } from './folder-target';
import type { BackupTarget } from './target';

/** A folder path, or a blob container URL (`https://...`, with an Entra identity or a SAS token). */
export async function openTarget(spec: string): Promise<BackupTarget> {
  if (!spec.trim()) throw new Error('Give the backup destination: a folder or a blob container URL.');
  return /^https?:\/\//i.test(spec) ? BlobContainerTarget.open(spec) : new FolderTarget(spec);
}
