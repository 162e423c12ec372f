import { imageSize } from 'image-size';
import { ProblemError } from '../problem';
import { MIME_TYPES, sniffFormat, type ImageFormat } from './sniff';

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export interface ValidImage {
  format: ImageFormat;
  mimeType: string;
  /** As stored in the file, before EXIF orientation. */
  width: number;
  height: number;
}

const SUPPORTED = 'JPEG, PNG, GIF, WebP, TIFF or BMP';

export const imageRejected = (status: number, detail: string) =>
  new ProblemError(status, status === 415 ? 'Unsupported Media Type' : status === 413 ? 'Content Too Large' : 'Unprocessable Content', detail);

/**
 * Checks an image before anything stores or decodes it: size, real type from magic bytes, dimensions from the
 * header (so a decompression bomb is refused without allocating its pixels) and a complete file.
 * Throws a ProblemError with the HTTP status a caller should see.
 */
export function validateImage(bytes: Uint8Array, limits: ImageLimits, declaredType?: string): ValidImage {
  if (bytes.length === 0) throw new ProblemError(400, 'Bad Request', 'The image is empty (0 bytes).');
  if (bytes.length > limits.maxBytes) {
    throw imageRejected(413, `The image is ${bytes.length} bytes; the limit is ${limits.maxBytes} bytes.`);
  }
  const format = sniffFormat(bytes);
  if (!format) {
    const declared = declaredType ? ` (declared as ${declaredType})` : '';
    throw imageRejected(415, `The content${declared} is not a ${SUPPORTED} image: its first bytes match none of those formats.`);
  }
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch (error) {
    throw imageRejected(422, `The ${format.toUpperCase()} header cannot be read: ${(error as Error).message}.`);
  }
  const { width, height } = size;
  if (!width || !height) throw imageRejected(422, `The ${format.toUpperCase()} header gives no dimensions.`);
  if (width * height > limits.maxPixels) {
    const megapixels = ((width * height) / 1e6).toFixed(1);
    throw imageRejected(
      422,
      `The image is ${width}x${height} (${megapixels} MP); the limit is ${(limits.maxPixels / 1e6).toFixed(1)} MP.`,
    );
  }
  const truncated = isTruncated(bytes, format);
  if (truncated) throw imageRejected(422, `The ${format.toUpperCase()} file is truncated: ${truncated}.`);
  return { format, mimeType: MIME_TYPES[format], width, height };
}

/** A reason when the file visibly ends early; formats without a cheap end marker are left to the decoder. */
function isTruncated(bytes: Uint8Array, format: ImageFormat): string | undefined {
  if (format === 'png') {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf('IEND') < 0 ? 'no IEND chunk' : undefined;
  }
  if (format === 'jpeg') {
    const scanStart = firstScanOffset(bytes);
    if (scanStart < 0) return 'no image data (SOS marker)';
    // Entropy-coded data escapes 0xFF, so an FFD9 after the first scan can only be the real end marker.
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return buffer.lastIndexOf(Buffer.from([0xff, 0xd9])) > scanStart ? undefined : 'no end-of-image marker after the image data';
  }
  return undefined;
}

/** Offset of the first start-of-scan marker, walking the JPEG segment headers; -1 when absent. */
function firstScanOffset(bytes: Uint8Array): number {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return -1;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xda) return offset;
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    offset += 2 + length;
  }
  return -1;
}
