import type { Logger } from '../logger';
import { failedImage, succeededImage, type ImageDocument } from '../results/image-document';
import type { Services } from '../services';
import { ImageProcessingError, processImage } from './process-image';
import { storeDerivatives } from './store-derivatives';

/**
 * Processes the image behind a result document and returns the final document: succeeded with its derivatives
 * stored, or failed with the reason when the image itself is at fault (logged as `image processing failed`, which
 * the Azure alert counts). Throws only for infrastructure errors, so callers' retries handle those.
 */
export async function completeImage(
  services: Pick<Services, 'blobs' | 'engine' | 'limits'>,
  doc: ImageDocument,
  bytes: Buffer,
  log: Logger,
): Promise<ImageDocument> {
  try {
    const processed = await processImage(bytes, services.engine, services.limits);
    return succeededImage(doc, processed, await storeDerivatives(services.blobs, doc.id, processed));
  } catch (error) {
    if (!(error instanceof ImageProcessingError)) throw error;
    log.error(`image processing failed for ${doc.id}: ${error.message}`);
    return failedImage(doc, error.message, services.engine.name);
  }
}
