import { imageSize } from 'image-size';
import { problem } from '../problem';
import { bmpTruncation, readBmpHeader } from './bmp';
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

/** Megapixels with as many decimals as it takes to tell `pixels` from `limit` (at most 6: whole pixels). */
function megapixels(pixels: number, limit: number): [string, string] {
  let digits = 1;
  while (digits < 6 && (pixels / 1e6).toFixed(digits) === (limit / 1e6).toFixed(digits)) digits++;
  return [(pixels / 1e6).toFixed(digits), (limit / 1e6).toFixed(digits)];
}

/** Width and height from the header: image-size for most formats, our BMP reader for BMP (OS/2 headers included). */
function headerSize(bytes: Uint8Array, format: ImageFormat): { width?: number; height?: number } {
  if (format === 'bmp') return readBmpHeader(bytes);
  return imageSize(bytes);
}

/**
 * Checks an image before anything stores or decodes it: size, real type from magic bytes, dimensions from the
 * header (so a decompression bomb is refused without allocating its pixels) and a complete file.
 * Throws a ProblemError with the HTTP status a caller should see.
 */
export function validateImage(bytes: Uint8Array, limits: ImageLimits, declaredType?: string): ValidImage {
  if (bytes.length === 0) throw problem('empty-image', 'The image is empty (0 bytes).');
  if (bytes.length > limits.maxBytes) {
    throw problem('image-too-large', `The image is ${bytes.length} bytes; the limit is ${limits.maxBytes} bytes.`);
  }
  const format = sniffFormat(bytes);
  if (!format) {
    const declared = declaredType ? ` (declared as ${declaredType})` : '';
    throw problem('unsupported-image-type', `The content${declared} is not a ${SUPPORTED} image: its first bytes match none of those formats.`);
  }
  let size: { width?: number; height?: number };
  try {
    size = headerSize(bytes, format);
  } catch (error) {
    throw problem('unreadable-image-header', `The ${format.toUpperCase()} header cannot be read: ${(error as Error).message}.`);
  }
  const { width, height } = size;
  if (!width || !height) throw problem('unreadable-image-header', `The ${format.toUpperCase()} header gives no dimensions.`);
  if (width * height > limits.maxPixels) {
    const [image, limit] = megapixels(width * height, limits.maxPixels);
    throw problem('too-many-pixels', `The image is ${width}x${height} (${image} MP); the limit is ${limit} MP.`);
  }
  const truncated = isTruncated(bytes, format);
  if (truncated) throw problem('truncated-image', `The ${format.toUpperCase()} file is truncated: ${truncated}.`);
  return { format, mimeType: MIME_TYPES[format], width, height };
}

/** A reason when the file visibly ends early; formats without a cheap end marker are left to the decoder. */
function isTruncated(bytes: Uint8Array, format: ImageFormat): string | undefined {
  if (format === 'png') return pngTruncation(bytes);
  if (format === 'bmp') return bmpTruncation(bytes, readBmpHeader(bytes));
  if (format === 'jpeg') {
    const scanStart = firstScanOffset(bytes);
    if (scanStart < 0) return 'no image data (SOS marker)';
    // Entropy-coded data escapes 0xFF, so an FFD9 after the first scan can only be the real end marker.
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return buffer.lastIndexOf(Buffer.from([0xff, 0xd9])) > scanStart ? undefined : 'no end-of-image marker after the image data';
  }
  return undefined;
}

const IEND_CRC = 0xae426082;

/**
 * Walks the PNG chunk list (length, type, data, CRC) to a complete IEND chunk: the file must not end inside any
 * chunk, and 'IEND' inside compressed data cannot be mistaken for the end.
 */
function pngTruncation(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 8; ; ) {
    if (offset + 8 > bytes.length) return 'no IEND chunk';
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (type === 'IEND') return length === 0 && end <= bytes.length && view.getUint32(offset + 8) === IEND_CRC ? undefined : 'the IEND chunk is incomplete';
    if (end > bytes.length) return `the file ends inside its ${type.replace(/[^ -~]/g, '?')} chunk`;
    offset = end;
  }
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
