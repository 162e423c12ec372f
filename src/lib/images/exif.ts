import exifr from 'exifr';

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

/** EXIF fields worth keeping; unreadable or absent EXIF gives an empty summary, never an error. */
export async function readExif(bytes: Buffer): Promise<ExifSummary> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = await exifr.parse(bytes, { pick: PICK, translateValues: false, reviveValues: false });
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
