import type { ImageFormat } from './sniff';

/** RGBA pixels, 4 bytes a pixel, row by row. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
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
  /** Decodes the first frame, applies EXIF orientation and scales to fit. Throws on corrupt or unsupported data. */
  decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage>;
  /** Scales to fit maxSide on the long side; never enlarges. */
  resize(image: Raster, maxSide: number): Promise<Raster>;
  /** JPEG at the given quality (1-100), alpha flattened onto white, no metadata. */
  encodeJpeg(image: Raster, quality: number): Promise<Buffer>;
}
