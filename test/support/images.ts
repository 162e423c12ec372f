/**
 * Test images made in memory, so no test depends on a checked-in binary and every expectation follows from how the
 * image was built. Two layers:
 *
 * - Rasters (`RgbaImage`, plain RGBA pixels, structurally a `Raster` of src/lib/images/engine.ts): `solidRaster`,
 *   `gradientRaster`, `checkerboardRaster`, `halvesRaster`, `sceneRaster`, `blurRaster`. Pass them to `analyse()`
 *   directly, or encode them.
 * - Files (`Buffer`): `encodeImage(raster, format)` for JPEG, PNG, GIF, WebP, TIFF (sharp) and BMP (`encodeBmp`,
 *   since sharp cannot write BMP), `sampleImage(format)` for a ready-made one, and the special cases
 *   `jpegWithExif`, `truncatedJpeg`, `truncatedPng`, `pngBomb`, `corruptPng`, `textFile`, `riffNotWebp`.
 *
 * Colours are `[r, g, b]` or `[r, g, b, a]` tuples, 0-255.
 */
import sharp from 'sharp';

export type TestFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp';
export const TEST_FORMATS: readonly TestFormat[] = ['jpeg', 'png', 'gif', 'webp', 'tiff', 'bmp'];

/** RGBA pixels, 4 bytes a pixel, row by row (the shape of `Raster` in src/lib/images/engine.ts). */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export type Rgb = readonly [number, number, number];
export type Rgba = readonly [number, number, number, number];
export type Colour = Rgb | Rgba;

/** `#rrggbb`, as the analysis reports colours. */
export const toHex = ([r, g, b]: Colour): string => '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');

/** The `[r, g, b, a]` of one pixel. */
export function pixelAt(image: RgbaImage, x: number, y: number): Rgba {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) throw new RangeError(`(${x}, ${y}) is outside ${image.width}x${image.height}`);
  const i = (y * image.width + x) * 4;
  return [image.data[i], image.data[i + 1], image.data[i + 2], image.data[i + 3]];
}

/** A raster whose pixel at (x, y) is `pixel(x, y)`. */
export function rasterFrom(width: number, height: number, pixel: (x: number, y: number) => Colour): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      data.set([r, g, b, a], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

export const solidRaster = (width: number, height: number, colour: Colour): RgbaImage => rasterFrom(width, height, () => colour);

/** Grey levels changing linearly along x from `from` (left) to `to` (right), 0-255. */
export const gradientRaster = (width: number, height: number, from: number, to: number): RgbaImage =>
  rasterFrom(width, height, (x) => {
    const v = Math.round(from + ((to - from) * x) / Math.max(1, width - 1));
    return [v, v, v];
  });

/** Black and white squares of `cell` pixels, top-left black: every edge as hard as it gets. */
export const checkerboardRaster = (width: number, height: number, cell: number): RgbaImage =>
  rasterFrom(width, height, (x, y) => ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? [255, 255, 255] : [0, 0, 0]));

/** Left half `left`, right half `right` (exactly half each when width is even). */
export const halvesRaster = (width: number, height: number, left: Colour, right: Colour): RgbaImage =>
  rasterFrom(width, height, (x) => (x < width / 2 ? left : right));

/**
 * Something like a picture: a diagonal colour gradient with a few discs and a bar on it. Smooth areas and edges,
 * so hashes, palettes and sharpness have something to say, and resampling differences stay small.
 */
export const sceneRaster = (width: number, height: number): RgbaImage =>
  rasterFrom(width, height, (x, y) => {
    const u = x / width;
    const v = y / height;
    const disc = (cx: number, cy: number, r: number) => ((u - cx) * width) ** 2 + ((v - cy) * height) ** 2 < (r * Math.min(width, height)) ** 2;
    if (disc(0.3, 0.35, 0.18)) return [230, 60, 40];
    if (disc(0.72, 0.6, 0.22)) return [40, 90, 200];
    if (v > 0.8 && u > 0.1 && u < 0.6) return [250, 220, 60];
    return [Math.round(40 + 180 * u), Math.round(120 + 100 * v), Math.round(200 - 150 * u * v)];
  });

/** A Gaussian-blurred copy (sharp, sigma in pixels), same size, still RGBA. */
export async function blurRaster(image: RgbaImage, sigma: number): Promise<RgbaImage> {
  const { data, info } = await rawInput(image).blur(sigma).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Decodes any file sharp reads (not BMP) to RGBA, without EXIF orientation. */
export async function decodeRgba(bytes: Buffer): Promise<RgbaImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const rawInput = (image: RgbaImage) =>
  sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 4 },
  });

/**
 * Encodes a raster. JPEG (quality 90) and BMP (24-bit) drop alpha; the others keep it.
 * `bmpBits: 32` writes a 32-bit BMP with alpha instead.
 */
export async function encodeImage(image: RgbaImage, format: TestFormat, options: { bmpBits?: 24 | 32 } = {}): Promise<Buffer> {
  if (format === 'bmp') return encodeBmp(image, options.bmpBits ?? 24);
  const input = rawInput(image);
  switch (format) {
    case 'jpeg':
      return input.flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return input.png().toBuffer();
    case 'gif':
      return input.gif().toBuffer();
    case 'webp':
      return input.webp({ quality: 90 }).toBuffer();
    case 'tiff':
      return input.tiff().toBuffer();
  }
}

/**
 * An uncompressed BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes). 24-bit ignores alpha; 32-bit is
 * BI_BITFIELDS with an alpha mask (BITMAPV4HEADER), the layout browsers and jimp read alpha from.
 */
export function encodeBmp(image: RgbaImage, bits: 24 | 32 = 24): Buffer {
  const { width, height, data } = image;
  const headerSize = bits === 32 ? 108 : 40;
  const rowSize = Math.ceil((width * bits) / 32) * 4;
  const pixelOffset = 14 + headerSize;
  const file = Buffer.alloc(pixelOffset + rowSize * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelOffset, 10);
  file.writeUInt32LE(headerSize, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22); // positive: bottom-up
  file.writeUInt16LE(1, 26); // planes
  file.writeUInt16LE(bits, 28);
  file.writeUInt32LE(bits === 32 ? 3 : 0, 30); // BI_BITFIELDS : BI_RGB
  file.writeUInt32LE(rowSize * height, 34);
  file.writeInt32LE(2835, 38); // 72 dpi
  file.writeInt32LE(2835, 42);
  if (bits === 32) {
    file.writeUInt32LE(0x00ff0000, 54); // red mask
    file.writeUInt32LE(0x0000ff00, 58); // green
    file.writeUInt32LE(0x000000ff, 62); // blue
    file.writeUInt32LE(0xff000000, 66); // alpha
    file.write('BGRs', 70, 'latin1'); // LCS_sRGB, stored little-endian as 'sRGB'
  }
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const o = row + x * (bits / 8);
      file[o] = data[i + 2];
      file[o + 1] = data[i + 1];
      file[o + 2] = data[i];
      if (bits === 32) file[o + 3] = data[i + 3];
    }
  }
  return file;
}

/** The scene (`sceneRaster`) encoded as `format`, `width` x `height` (default 300 x 200). */
export async function sampleImage(format: TestFormat, width = 300, height = 200): Promise<Buffer> {
  return encodeImage(sceneRaster(width, height), format);
}

/** What `jpegWithExif()` writes, so tests can compare against it. */
export const EXIF_FIXTURE = {
  make: 'Pipeline Test Camera Co',
  model: 'PTC-1',
  /** DateTimeOriginal 2024:05:06 07:08:09 with OffsetTimeOriginal +02:00, as ISO 8601. */
  takenAt: '2024-05-06T07:08:09+02:00',
  /** GPS written to the file; none of it may appear in any output. 52° 31' 12.34" N, 13° 24' 56.78" E. */
  gps: { latitude: '52/1 31/1 1234/100', longitude: '13/1 24/1 5678/100', altitude: '34/1' },
  /** Strings that would betray the GPS block if they appeared in an output. */
  gpsTells: ['GPS', 'atitude', 'ongitude', '52.52', '13.41'],
} as const;

/**
 * A JPEG of `width` x `height` stored pixels (default 40 x 20) with EXIF: Orientation (default 6, "rotate 90° CW
 * to display", so it shows as 20 x 40), Make, Model, DateTimeOriginal + OffsetTimeOriginal and a GPS block.
 * The stored left half is red and the right half blue, so once oriented the top is red and the bottom blue.
 */
export async function jpegWithExif(options: { width?: number; height?: number; orientation?: number } = {}): Promise<Buffer> {
  const { width = 40, height = 20, orientation = 6 } = options;
  return rawInput(halvesRaster(width, height, [255, 0, 0], [0, 0, 255]))
    .jpeg({ quality: 95 })
    .withExif({
      IFD0: { Make: EXIF_FIXTURE.make, Model: EXIF_FIXTURE.model },
      IFD2: { DateTimeOriginal: '2024:05:06 07:08:09', OffsetTimeOriginal: '+02:00' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: EXIF_FIXTURE.gps.latitude,
        GPSLongitudeRef: 'E',
        GPSLongitude: EXIF_FIXTURE.gps.longitude,
        GPSAltitude: EXIF_FIXTURE.gps.altitude,
      },
    })
    .withMetadata({ orientation })
    .toBuffer();
}

/** A valid JPEG cut off part way through its image data (no end-of-image marker). */
export async function truncatedJpeg(): Promise<Buffer> {
  const whole = await sampleImage('jpeg');
  return whole.subarray(0, Math.floor(whole.length * 0.6));
}

/** A valid PNG cut off part way through (no IEND chunk). */
export async function truncatedPng(): Promise<Buffer> {
  const whole = await sampleImage('png');
  return whole.subarray(0, Math.floor(whole.length * 0.6));
}

/** A PNG whose image data is damaged (bytes flipped inside IDAT, so its CRC and zlib stream are wrong) but complete. */
export async function corruptPng(): Promise<Buffer> {
  const bytes = Buffer.from(await sampleImage('png'));
  const idat = bytes.indexOf('IDAT');
  for (let i = idat + 8; i < idat + 40; i++) bytes[i] ^= 0x5a;
  return bytes;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG chunks use it (same as zlib's). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data and a correct CRC over type + data. */
export function pngChunk(type: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(data.length, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), body.length + 4);
  return chunk;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A decompression bomb in miniature: a well-formed PNG (valid CRCs, IEND) of a few dozen bytes whose IHDR claims
 * `width` x `height` (default 50000 x 50000, 8-bit RGBA: 10 GB of pixels). Only a header check can refuse it cheaply.
 */
export function pngBomb(width = 50_000, height = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, adaptive filtering, no interlace
  // A tiny valid zlib stream (an empty stored block): the data ends long before the claimed size.
  const idat = Buffer.from([0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND')]);
}

/** Plain text, which no magic-byte check may take for an image. */
export const textFile = (): Buffer => Buffer.from('Not an image at all.\nJust two lines of text.\n', 'utf8');

/** A RIFF container that is not WebP (a WAVE header), so only "RIFF" matches. */
export function riffNotWebp(): Buffer {
  const bytes = Buffer.alloc(44);
  bytes.write('RIFF', 0, 'latin1');
  bytes.writeUInt32LE(36, 4);
  bytes.write('WAVEfmt ', 8, 'latin1');
  return bytes;
}

/** JPEG magic followed by bytes that are no JPEG segment: the header cannot be read. */
export const unreadableJpegHeader = (): Buffer =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('this is not a segment, just text after the magic', 'latin1')]);

/** Whether the bytes start with the JPEG SOI marker and end with EOI. */
export const isJpeg = (bytes: Uint8Array): boolean =>
  bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes.at(-2) === 0xff && bytes.at(-1) === 0xd9;

/** Number of differing bits between two equal-length hex strings (perceptual hashes). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new Error(`hashes differ in length: ${a} vs ${b}`);
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let bits = 0;
  for (; x; x >>= 1n) bits += Number(x & 1n);
  return bits;
}

/** Largest per-channel difference between two `#rrggbb` colours. */
export function colourDistance(a: string, b: string): number {
  const channels = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const [ca, cb] = [channels(a), channels(b)];
  return Math.max(...ca.map((v, i) => Math.abs(v - cb[i])));
}
