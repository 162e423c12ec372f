import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { encodeImage, pngBomb, rasterFrom, truncatedJpeg, type TestFormat } from '../support/images';

export interface TestFile {
  name: string;
  type: string;
  bytes: Buffer;
}

/** An image of coloured blocks from a seeded generator: distinct seeds give distinct perceptual hashes. */
async function scene(seed: number, format: TestFormat): Promise<Buffer> {
  let state = seed * 7919 + 17;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) >> 8) & 255;
  const cells = Array.from({ length: 9 * 8 }, () => [next(), next(), next()] as const);
  const raster = rasterFrom(180, 160, (x, y) => cells[Math.floor(y / 20) * 9 + Math.floor(x / 20)]);
  return encodeImage(raster, format);
}

/** Noise PNG over the ~900 KB inline limit, so it travels as a blob reference. */
export async function largePng(): Promise<Buffer> {
  const width = 700;
  const height = 700;
  const data = randomBytes(width * height * 3);
  return sharp(data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/**
 * `valid` photo-like images (formats rotating through JPEG, PNG, WebP, GIF; item 3 repeats item 1 byte for byte, a
 * perceptual duplicate) followed by three invalid ones: text, a truncated JPEG and a PNG decompression bomb.
 */
export async function mixedBatch(valid: number): Promise<{ files: TestFile[]; invalid: number[]; duplicateOf: [number, number] }> {
  const formats: TestFormat[] = ['jpeg', 'png', 'webp', 'gif'];
  const files: TestFile[] = [];
  for (let i = 0; i < valid; i++) {
    const format = formats[i % formats.length];
    const bytes = i === 3 ? files[1].bytes : await scene(i, format);
    files.push({ name: `photo-${i}.${format}`, type: i === 3 ? files[1].type : `image/${format}`, bytes });
  }
  files.push({ name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not an image at all') });
  files.push({ name: 'cut.jpg', type: 'image/jpeg', bytes: await truncatedJpeg() });
  files.push({ name: 'bomb.png', type: 'image/png', bytes: pngBomb() });
  return { files, invalid: [valid, valid + 1, valid + 2], duplicateOf: [1, 3] };
}
