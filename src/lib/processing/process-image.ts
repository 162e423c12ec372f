import { performance } from 'node:perf_hooks';
import { analyse } from '../images/analysis';
import type { ImageEngine } from '../images/engine';
import { readExif } from '../images/exif';
import type { ImageFormat } from '../images/sniff';
import { DERIVATIVE_SIZES, type ProcessedImage } from '../images/processed-image';
import { validateImage, type ImageLimits } from '../images/validate';
import { ProblemError } from '../problem';

const JPEG_QUALITY = 80;

/** The image itself is at fault (corrupt, unsupported, over a limit): retrying cannot help. */
export class ImageProcessingError extends Error {
  override name = 'ImageProcessingError';
}

/**
 * Everything done to one image, with no I/O: validation, decoding, metadata, analysis and derivatives.
 * Both the blob trigger and the batch activities call this, so an image is processed one way only.
 */
export async function processImage(bytes: Buffer, engine: ImageEngine, limits: ImageLimits): Promise<ProcessedImage> {
  const started = performance.now();
  let format: ImageFormat;
  try {
    format = validateImage(bytes, limits).format;
  } catch (error) {
    if (error instanceof ProblemError) throw new ImageProcessingError(error.detail);
    throw error;
  }
  const [decoded, exif] = await Promise.all([
    engine.decode(bytes, { format, maxPixels: limits.maxPixels, maxSide: DERIVATIVE_SIZES.preview }).catch((error: Error) => {
      throw new ImageProcessingError(`The ${format.toUpperCase()} image cannot be decoded: ${error.message}`);
    }),
    readExif(bytes),
  ]);
  // The preview encodes (on the engine's worker threads, for sharp) while the thumbnail is made and analysed.
  const [previewJpeg, { thumbnail, thumbnailJpeg, hasAlpha, analysis }] = await Promise.all([
    engine.encodeJpeg(decoded, JPEG_QUALITY),
    (async () => {
      const thumbnail = await engine.resize(decoded, DERIVATIVE_SIZES.thumbnail);
      const { hasAlpha, ...analysis } = await analyse(thumbnail);
      return { thumbnail, hasAlpha, analysis, thumbnailJpeg: await engine.encodeJpeg(thumbnail, JPEG_QUALITY) };
    })(),
  ]);
  return {
    metadata: {
      format,
      width: decoded.originalWidth,
      height: decoded.originalHeight,
      bytes: bytes.length,
      hasAlpha,
      ...exif,
    },
    analysis,
    derivatives: [
      { name: 'thumbnail', bytes: thumbnailJpeg, contentType: 'image/jpeg', width: thumbnail.width, height: thumbnail.height },
      { name: 'preview', bytes: previewJpeg, contentType: 'image/jpeg', width: decoded.width, height: decoded.height },
    ],
    engine: engine.name,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    ...(decoded.warnings?.length ? { warnings: decoded.warnings } : {}),
  };
}
