import { UNATTRIBUTED_OWNER } from '../auth/principal';
import type { Logger } from '../logger';
import { BLOB_CONTAINERS } from '../names';
import { isTerminal, queuedImage, type ImageDocument } from '../results/image-document';
import type { Services } from '../services';
import { completeImage } from './complete-image';
import { imageIdForBlob, sourceFromBlob } from './upload-blob';

/**
 * The blob trigger on `uploads/{name}`. Idempotent: a blob whose content already has a final result is not
 * processed again, and a bad image ends as `failed` without throwing, so the trigger never retries or loops on it.
 * Infrastructure errors do throw, so the host retries them.
 */
export async function processUpload(services: Pick<Services, 'blobs' | 'images' | 'engine' | 'limits'>, name: string, log: Logger): Promise<ImageDocument | undefined> {
  const blob = await services.blobs.get(BLOB_CONTAINERS.uploads, name);
  if (!blob) {
    log.warn(`uploads/${name} no longer exists; nothing to process`);
    return undefined;
  }
  const id = imageIdForBlob(name);
  const existing = await services.images.get(id, id);
  const fromBlob = sourceFromBlob(name, blob.bytes, blob.metadata, blob.contentType);
  // Our API wrote the source when it took the upload; a blob from another client, or a new version, describes itself.
  const source = existing?.source.sha256 === fromBlob.sha256 ? existing.source : fromBlob;
  if (existing && isTerminal(existing.status) && existing.source.sha256 === source.sha256) {
    log.info(`image ${id} already ${existing.status}; skipping`);
    return existing;
  }
  // A blob another client wrote has no result yet, and nobody to own it: operators see it.
  const doc: ImageDocument = { ...(existing ?? queuedImage({ id, partitionKey: id, owner: UNATTRIBUTED_OWNER, source })), source, status: 'processing', updatedAt: new Date().toISOString() };
  await services.images.upsert(doc);
  const final = await completeImage(services, doc, blob.bytes, log);
  await services.images.upsert(final);
  return final;
}
