import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/lib/problem.js';
import { validateImage, type ImageLimits } from '../../src/lib/images/validate.js';
import {
  pngBomb,
  sampleImage,
  TEST_FORMATS,
  textFile,
  truncatedJpeg,
  truncatedPng,
  unreadableJpegHeader,
} from '../support/images.js';

const LIMITS: ImageLimits = { maxBytes: 5 * 1024 * 1024, maxPixels: 50_000_000 };

/** The ProblemError validateImage throws, failing the test when it does not throw one. */
function rejection(bytes: Uint8Array, limits = LIMITS, declaredType?: string): ProblemError {
  try {
    validateImage(bytes, limits, declaredType);
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error('validateImage accepted the image');
}

describe('validateImage', () => {
  it.each(TEST_FORMATS)('accepts a %s and reports its format and stored dimensions', async (format) => {
    const result = validateImage(await sampleImage(format, 120, 80), LIMITS);
    expect(result).toEqual({ format, mimeType: format === 'jpeg' ? 'image/jpeg' : `image/${format}`, width: 120, height: 80 });
  });

  it('rejects an empty body with 400', () => {
    const error = rejection(Buffer.alloc(0));
    expect(error.status).toBe(400);
    expect(error.detail).toMatch(/empty/);
  });

  it('rejects more than maxBytes with 413, before looking at the content', async () => {
    const png = await sampleImage('png', 64, 64);
    expect(validateImage(png, { ...LIMITS, maxBytes: png.length }).format).toBe('png');
    const error = rejection(png, { ...LIMITS, maxBytes: png.length - 1 });
    expect(error.status).toBe(413);
    expect(error.detail).toContain(`the limit is ${png.length - 1} bytes`);
  });

  it('rejects text with 415, whatever type was declared', () => {
    const error = rejection(textFile(), LIMITS, 'image/png');
    expect(error.status).toBe(415);
    expect(error.detail).toMatch(/declared as image\/png.*not a JPEG, PNG, GIF, WebP, TIFF or BMP image/);
  });

  it('goes by the bytes, not the declared type', async () => {
    expect(validateImage(await sampleImage('gif', 10, 10), LIMITS, 'text/plain').format).toBe('gif');
  });

  it('rejects an unreadable header with 422', () => {
    const error = rejection(unreadableJpegHeader());
    expect(error.status).toBe(422);
    expect(error.detail).toMatch(/JPEG header/);
  });

  it('rejects a 50000x50000 PNG header with 422 quickly and without allocating its pixels', () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(100);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const error = rejection(bomb);
    const elapsed = performance.now() - started;
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(error.status).toBe(422);
    expect(error.detail).toMatch(/50000x50000 \(2500\.0 MP\); the limit is 50\.0 MP/);
    expect(elapsed).toBeLessThan(100);
    expect(grownMb).toBeLessThan(50);
  });

  it('applies maxPixels exactly at the limit', async () => {
    const png = await sampleImage('png', 100, 50);
    expect(validateImage(png, { ...LIMITS, maxPixels: 5000 }).width).toBe(100);
    expect(rejection(png, { ...LIMITS, maxPixels: 4999 }).status).toBe(422);
  });

  it('rejects a truncated JPEG with 422 "truncated"', async () => {
    const error = rejection(await truncatedJpeg());
    expect(error.status).toBe(422);
    expect(error.detail).toMatch(/JPEG file is truncated: no end-of-image marker/);
  });

  it('rejects a truncated PNG with 422, naming the chunk it ends in', async () => {
    const error = rejection(await truncatedPng());
    expect(error.status).toBe(422);
    expect(error.type).toBe('truncated-image');
    expect(error.detail).toMatch(/PNG file is truncated: the file ends inside its IDAT chunk/);
  });

  it('rejects a PNG missing the last bytes of its IEND chunk, and one with IEND only inside its data', async () => {
    const png = await sampleImage('png', 40, 30);
    expect(png.subarray(-12).toString('hex')).toBe('0000000049454e44ae426082'); // the complete IEND chunk
    expect(validateImage(png, LIMITS).format).toBe('png');
    for (const cut of [1, 4]) {
      expect(rejection(png.subarray(0, png.length - cut)).detail, `${cut} bytes cut`).toMatch(/PNG file is truncated: the IEND chunk is incomplete/);
    }
    expect(rejection(png.subarray(0, png.length - 7)).detail).toMatch(/PNG file is truncated: no IEND chunk/);
    // 'IEND' spelled inside an ancillary chunk of a file cut before its real end: not an end marker.
    const text = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('tEXtIENDIEND'), Buffer.alloc(4)]);
    const fake = Buffer.concat([png.subarray(0, 33), text, png.subarray(33, png.length - 20)]);
    expect(rejection(fake).detail).toMatch(/PNG file is truncated/);
    // Bytes after a complete IEND are tolerated, as readers do.
    expect(validateImage(Buffer.concat([png, Buffer.from('trailing')]), LIMITS).format).toBe('png');
  });

  it('states the pixel limit precisely at the boundary: 50 000 001 pixels is more than 50.0 MP', async () => {
    const png = await sampleImage('png', 8, 8);
    // 7071 x 7071 = 49 999 041 (allowed); 50 000 001 = 1 x 50 000 001 (one over).
    png.writeUInt32BE(50_000_001, 16);
    png.writeUInt32BE(1, 20);
    expect(rejection(png).detail).toBe('The image is 50000001x1 (50.000001 MP); the limit is 50.000000 MP.');
    png.writeUInt32BE(7072, 16);
    png.writeUInt32BE(7071, 20);
    expect(rejection(png).detail).toBe('The image is 7072x7071 (50.01 MP); the limit is 50.00 MP.');
  });

  it('reads OS/2 BMP (12-byte header) dimensions as 16-bit fields', () => {
    // 127x64, 24 bits: 14 + 12 header bytes, rows of 384 bytes (381 padded to 4).
    const file = Buffer.alloc(26 + 384 * 64);
    file.write('BM', 0, 'latin1');
    file.writeUInt32LE(file.length, 2);
    file.writeUInt32LE(26, 10);
    file.writeUInt32LE(12, 14);
    file.writeUInt16LE(127, 18);
    file.writeUInt16LE(64, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(24, 24);
    expect(validateImage(file, LIMITS)).toMatchObject({ format: 'bmp', width: 127, height: 64 });
    expect(rejection(file.subarray(0, file.length - 100)).detail).toMatch(/BMP file is truncated: the pixel data needs 24599 bytes, the file has 24502/); // the last row needs no padding
  });
});
