import { recordImageEnd, recorderOf } from '../analytics/record';
import { UNATTRIBUTED_OWNER } from '../auth/principal';
import type { Logger } from '../logger';
import { BLOB_CONTAINERS } from '../names';
import { isTerminal, queuedImage, type ImageDocument } from '../results/image-document';
import type { Services } from '../services';
import type { StoredBlob } from '../storage/blob-store';
import { inSpan, SpanKind } from '../tracing';
import { completeImage, saveResult } from './complete-image';
import { deleteReplacedDerivatives } from './store-derivatives';
import { imageIdForBlob, sourceFromBlob, uploadTraceContext } from './upload-blob';

/**
 * The blob trigger on `uploads/{name}`. Idempotent: a blob whose content already has a final result is not
 * processed again, and a bad image ends as `failed` without throwing, so the trigger never retries or loops on it.
 * Infrastructure errors do throw, so the host retries them. Continues the upload's trace (kept in the blob's
 * metadata): POST /api/images -> processUpload -> image.process -> image.result.
 */
export async function processUpload(
  services: Pick<Services, 'blobs' | 'images' | 'engine' | 'limits' | 'analytics' | 'config'>,
  name: string,
  log: Logger,
  /** The blob as the trigger bound it (Azure hands the function its content): processing does not download it again. */
  given?: Pick<StoredBlob, 'bytes' | 'metadata' | 'contentType'>,
): Promise<ImageDocument | undefined> {
  const id = imageIdForBlob(name);
  const blob = given ?? (await services.blobs.get(BLOB_CONTAINERS.uploads, name));
  if (!blob) {
    // The id, never the blob name: a name another client chose can be a file name, and logs keep ids only.
    log.warn(`image ${id}: its upload no longer exists; nothing to process`, { imageId: id });
    return undefined;
  }
  return inSpan('processUpload', { kind: SpanKind.CONSUMER, continues: uploadTraceContext(blob.metadata), attributes: { 'image.id': id } }, async () => {
    const found = await services.images.get(id, id);
    // New content under the name of an image the retention sweep de-identified is a new image, counted from now.
    const existing = found?.deidentifiedAt === undefined ? found : undefined;
    const fromBlob = sourceFromBlob(name, blob.bytes, blob.metadata, blob.contentType);
    // Our API wrote the source when it took the upload; a blob from another client, or a new version, describes itself.
    const source = existing && existing.source.sha256 === fromBlob.sha256 ? existing.source : fromBlob;
    if (existing && isTerminal(existing.status) && existing.source.sha256 === source.sha256) {
      log.info(`image ${id} already ${existing.status}; skipping`);
      // Recorded already, unless the first delivery stopped between the two writes: then this records it.
      await recordImageEnd(recorderOf(services), existing);
      return existing;
    }
    // A blob another client wrote has no result yet, and nobody to own it: operators see it.
    const doc: ImageDocument = { ...(existing ?? queuedImage({ id, partitionKey: id, owner: UNATTRIBUTED_OWNER, source })), source, status: 'processing', updatedAt: new Date().toISOString() };
    await services.images.upsert(doc);
    const final = await completeImage(services, doc, blob.bytes, log);
    await saveResult(services, final);
    // Once the new result is written: derivatives of the previous one it no longer names are deleted.
    await deleteReplacedDerivatives(services.blobs, existing, final);
    await recordImageEnd(recorderOf(services), final);
    return final;
  });
}
