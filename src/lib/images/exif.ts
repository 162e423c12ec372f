import exifr from 'exifr';
import { sniffFormat } from './sniff';

export interface ExifSummary {
  orientation?: number;
  camera?: { make?: string; model?: string };
  /** ISO 8601 local time as the camera recorded it, with its UTC offset when the file gives one. */
  takenAt?: string;
}

// Only these tags are read, so GPS and other personal data never leave the file.
const PICK = ['Orientation', 'Make', 'Model', 'DateTimeOriginal', 'OffsetTimeOriginal'];

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.replace(/\0/g, '').trim() : undefined);

function isoTime(value: unknown, offset: unknown): string | undefined {
  const match = text(value)?.match(/^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const zone = text(offset)?.match(/^[+-]\d{2}:\d{2}$/) ? text(offset) : '';
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`;
}

/** A container's EXIF chunk without JPEG's `Exif\0\0` prefix, which some writers put in front of the TIFF data. */
const withoutExifPrefix = (chunk: Buffer) => (chunk.toString('latin1', 0, 6) === 'Exif\0\0' ? chunk.subarray(6) : chunk);

/**
 * The TIFF-structured EXIF of a WebP file (its RIFF `EXIF` chunk), which exifr does not look for itself. Some writers
 * put JPEG's `Exif\0\0` prefix in front of it.
 */
export function webpExif(bytes: Buffer): Buffer | undefined {
  if (bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const size = bytes.readUInt32LE(offset + 4);
    if (bytes.toString('latin1', offset, offset + 4) === 'EXIF') {
      const chunk = bytes.subarray(offset + 8, Math.min(bytes.length, offset + 8 + size));
      return withoutExifPrefix(chunk);
    }
    offset += 8 + size + (size % 2); // chunks are padded to an even size
  }
  return undefined;
}

/** A chunk type of four ASCII letters, read as one big-endian number (no string made for every chunk). */
const PNG_EXIF_CHUNK = 0x65584966; // 'eXIf'
const PNG_SIGNATURE_BYTES = 8;

/**
 * The TIFF-structured EXIF of a PNG file (its `eXIf` chunk), found by walking the chunk headers: exifr would read
 * every chunk of the file (hundreds of IDAT chunks for a photo) to find the same bytes, on the event loop, leaving
 * half a megabyte of garbage per image. A file without the chunk carries no EXIF.
 */
export function pngExif(bytes: Buffer): Buffer | undefined {
  for (let offset = PNG_SIGNATURE_BYTES; offset + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(offset);
    if (bytes.readUInt32BE(offset + 4) === PNG_EXIF_CHUNK) {
      const chunk = bytes.subarray(offset + 8, Math.min(bytes.length, offset + 8 + size));
      return withoutExifPrefix(chunk);
    }
    offset += 12 + size; // length, type, data, CRC
  }
  return undefined;
}

/** EXIF fields worth keeping; unreadable or absent EXIF gives an empty summary, never an error. */
export async function readExif(bytes: Buffer): Promise<ExifSummary> {
  let tags: Record<string, unknown> | undefined;
  const format = sniffFormat(bytes);
  // BMP and GIF carry no EXIF: exifr would only search a file that can be megabytes, on the event loop.
  if (format === 'bmp' || format === 'gif') return {};
  try {
    const source = format === 'webp' ? webpExif(bytes) : format === 'png' ? pngExif(bytes) : bytes;
    if (!source) return {};
    tags = await exifr.parse(source, { pick: PICK, translateValues: false, reviveValues: false });
  } catch {
    return {};
  }
  if (!tags) return {};
  const make = text(tags.Make);
  const model = text(tags.Model);
  const orientation = Number(tags.Orientation);
  return {
    orientation: Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : undefined,
    camera: make || model ? { make, model } : undefined,
    takenAt: isoTime(tags.DateTimeOriginal, tags.OffsetTimeOriginal),
  };
}
