import type { ImageFormat } from './sniff';

/** Pixels row by row: RGBA, 4 bytes a pixel, or RGB (`channels: 3`) for an image without alpha. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
  /** 4 when absent. */
  channels?: 3 | 4;
}

/** The raster as RGBA (a copy with opaque alpha when it is RGB), for code that only reads 4 bytes a pixel. */
export function rgbaOf(image: Raster): Raster {
  if ((image.channels ?? 4) === 4) return image;
  const { data, width, height } = image;
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0, i = 0; p < rgba.length; p += 4, i += 3) {
    rgba[p] = data[i];
    rgba[p + 1] = data[i + 1];
    rgba[p + 2] = data[i + 2];
    rgba[p + 3] = 255;
  }
  return { data: rgba, width, height };
}

/** A decoded image scaled down to a working size, with the full size it had after EXIF orientation. */
export interface DecodedImage extends Raster {
  originalWidth: number;
  originalHeight: number;
  /** What was wrong with a file that was still decoded (a damaged scan read as far as it goes). */
  warnings?: string[];
}

export interface DecodeOptions {
  format: ImageFormat;
  /** Refuse images with more pixels than this (checked again by the engine, after the header check). */
  maxPixels: number;
  /** Scale to fit this long side; never enlarge. */
  maxSide: number;
}

/**
 * The image library behind processing. Everything else (analysis, metadata, storage) is shared code, so the two
 * implementations only decode, resize and encode.
 */
export interface ImageEngine {
  readonly name: 'sharp' | 'jimp';
  /**
   * Decodes the first frame, applies EXIF orientation and scales to fit; RGB when the image has no alpha channel (an
   * engine may give RGBA anyway). Throws on corrupt or unsupported data.
   */
  decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage>;
  /** Scales to fit maxSide on the long side; never enlarges. Keeps RGB as RGB. */
  resize(image: Raster, maxSide: number): Promise<Raster>;
  /** JPEG at the given quality (1-100), alpha flattened onto white, no metadata. */
  encodeJpeg(image: Raster, quality: number): Promise<Buffer>;
}
