import { sniffFormat } from '../images/sniff';
import type { Logger } from '../logger';
import { recordImageProcessed } from '../metrics';
import { failedImage, succeededImage, type ImageDocument } from '../results/image-document';
import type { Services } from '../services';
import { inSpan } from '../tracing';
import { ImageProcessingError, processImage } from './process-image';
import { storeDerivatives } from './store-derivatives';

/**
 * Processes the image behind a result document and returns the final document: succeeded with its derivatives
 * stored, or failed with the reason when the image itself is at fault (logged as `image processing failed`, which
 * the Azure alert counts). Throws only for infrastructure errors, so callers' retries handle those. Counted in the
 * metrics by format, with the processing time.
 */
export function completeImage(
  services: Pick<Services, 'blobs' | 'engine' | 'limits'>,
  doc: ImageDocument,
  bytes: Buffer,
  log: Logger,
): Promise<ImageDocument> {
  const source = doc.batchId === undefined ? 'upload' : 'batch';
  return inSpan('image.process', { attributes: { 'image.id': doc.id, 'image.engine': services.engine.name } }, async (span) => {
    try {
      const processed = await processImage(bytes, services.engine, services.limits);
      const final = succeededImage(doc, processed, await storeDerivatives(services.blobs, doc.id, processed));
      span.setAttributes({ 'image.format': processed.metadata.format, 'image.status': 'succeeded' });
      recordImageProcessed({ format: processed.metadata.format, status: 'succeeded', durationMs: processed.durationMs, source });
      return final;
    } catch (error) {
      if (!(error instanceof ImageProcessingError)) throw error;
      const format = sniffFormat(bytes);
      span.setAttributes({ 'image.format': format ?? 'unknown', 'image.status': 'failed' });
      recordImageProcessed({ format, status: 'failed', source });
      log.error(`image processing failed for ${doc.id}: ${error.message}`, { imageId: doc.id, ...(doc.batchId ? { batchId: doc.batchId } : {}) });
      return failedImage(doc, error.message, services.engine.name);
    }
  });
}

/** Writes an image's final result document: the last step of its trace. */
export function saveResult(services: Pick<Services, 'images'>, doc: ImageDocument): Promise<void> {
  return inSpan('image.result', { attributes: { 'image.id': doc.id, 'image.status': doc.status } }, () => services.images.upsert(doc));
}
