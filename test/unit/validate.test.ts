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

  it('rejects a truncated PNG (no IEND) with 422', async () => {
    const error = rejection(await truncatedPng());
    expect(error.status).toBe(422);
    expect(error.detail).toMatch(/PNG file is truncated: no IEND chunk/);
  });
});
