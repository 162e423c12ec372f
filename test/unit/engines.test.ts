// Both engines through processImage, with the same expectations: real images made in memory, no mocks.
import exifr from 'exifr';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageEngine } from '../../src/lib/images/engine.js';
import { ENGINES } from '../../src/lib/images/engines.js';
import type { ImageLimits } from '../../src/lib/images/validate.js';
import type { ProcessedImage } from '../../src/lib/images/processed-image.js';
import { ImageProcessingError, processImage } from '../../src/lib/processing/process-image.js';
import {
  colourDistance,
  corruptPng,
  decodeRgba,
  encodeImage,
  EXIF_FIXTURE,
  hammingDistance,
  isJpeg,
  jpegWithExif,
  pixelAt,
  pngBomb,
  rasterFrom,
  sampleImage,
  TEST_FORMATS,
  textFile,
  toHex,
  truncatedJpeg,
  type TestFormat,
} from '../support/images.js';

const LIMITS: ImageLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };

/** The ImageProcessingError a call rejects with, failing the test when it resolves or rejects with anything else. */
async function processingError(promise: Promise<unknown>): Promise<ImageProcessingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageProcessingError);
  return error as ImageProcessingError;
}

const derivative = (result: ProcessedImage, name: 'thumbnail' | 'preview') => {
  const found = result.derivatives.find((d) => d.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

describe.each(['sharp', 'jimp'] as const)('the %s engine', (name) => {
  const engine: ImageEngine = ENGINES[name];

  it('is the engine it says it is', () => {
    expect(engine.name).toBe(name);
  });

  describe.each(TEST_FORMATS)('a %s', (format) => {
    let result: ProcessedImage;
    beforeAll(async () => {
      result = await processImage(await sampleImage(format, 300, 200), engine, LIMITS);
    });

    it('decodes with the right format and dimensions', () => {
      expect(result.engine).toBe(name);
      expect(result.metadata).toMatchObject({ format, width: 300, height: 200, hasAlpha: false });
    });

    it('makes JPEG derivatives of the right sizes, thumbnail 256 on the long side, preview not enlarged', async () => {
      const thumbnail = derivative(result, 'thumbnail');
      const preview = derivative(result, 'preview');
      expect([thumbnail.width, thumbnail.height]).toEqual([256, 171]);
      expect([preview.width, preview.height]).toEqual([300, 200]);
      for (const d of [thumbnail, preview]) {
        expect(d.contentType).toBe('image/jpeg');
        expect(isJpeg(d.bytes)).toBe(true);
        const meta = await sharp(d.bytes).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', d.width, d.height]);
        expect(meta.exif).toBeUndefined();
      }
    });

    it('analyses the picture, not a blank', () => {
      expect(result.analysis.perceptualHash).not.toBe('0000000000000000');
      expect(result.analysis.palette.length).toBeGreaterThan(2);
      expect(result.analysis.contrast).toBeGreaterThan(0.05);
    });
  });

  it('scales a large image: preview 1024 and thumbnail 256 on the long side', async () => {
    const result = await processImage(await sampleImage('jpeg', 1600, 1200), engine, LIMITS);
    expect(result.metadata).toMatchObject({ width: 1600, height: 1200 });
    expect(derivative(result, 'preview')).toMatchObject({ width: 1024, height: 768 });
    expect(derivative(result, 'thumbnail')).toMatchObject({ width: 256, height: 192 });
    const previewMeta = await sharp(derivative(result, 'preview').bytes).metadata();
    expect([previewMeta.width, previewMeta.height]).toEqual([1024, 768]);
  });

  it('never enlarges a small image', async () => {
    const result = await processImage(await sampleImage('png', 100, 50), engine, LIMITS);
    expect(derivative(result, 'thumbnail')).toMatchObject({ width: 100, height: 50 });
    expect(derivative(result, 'preview')).toMatchObject({ width: 100, height: 50 });
  });

  it('applies EXIF orientation 6, keeps camera and time, and drops GPS everywhere', async () => {
    const jpeg = await jpegWithExif();
    expect((await exifr.gps(jpeg)).latitude).toBeCloseTo(52.52, 2); // the fixture does carry GPS
    const result = await processImage(jpeg, engine, LIMITS);
    expect(result.metadata).toMatchObject({
      format: 'jpeg',
      width: 20,
      height: 40,
      orientation: 6,
      camera: { make: EXIF_FIXTURE.make, model: EXIF_FIXTURE.model },
      takenAt: EXIF_FIXTURE.takenAt,
    });
    const json = JSON.stringify(result);
    for (const tell of EXIF_FIXTURE.gpsTells) expect(json).not.toContain(tell);
    for (const d of result.derivatives) {
      expect([d.width, d.height]).toEqual([20, 40]);
      expect((await sharp(d.bytes).metadata()).exif).toBeUndefined();
      // The pixels turned too: the stored left half (red) is now on top, the right half (blue) at the bottom.
      const pixels = await decodeRgba(d.bytes);
      expect(colourDistance(toHex(pixelAt(pixels, 10, 3)), '#ff0000')).toBeLessThan(40);
      expect(colourDistance(toHex(pixelAt(pixels, 10, 36)), '#0000ff')).toBeLessThan(40);
    }
  });

  it('reports alpha in a PNG with transparency and flattens it onto white in the derivatives', async () => {
    const png = await encodeImage(rasterFrom(64, 64, (x) => (x < 32 ? [0, 0, 0, 0] : [0, 0, 0, 255])), 'png');
    const result = await processImage(png, engine, LIMITS);
    expect(result.metadata.hasAlpha).toBe(true);
    const thumbnail = await decodeRgba(derivative(result, 'thumbnail').bytes);
    expect(colourDistance(toHex(pixelAt(thumbnail, 5, 30)), '#ffffff')).toBeLessThan(10); // transparent black became white
    expect(colourDistance(toHex(pixelAt(thumbnail, 58, 30)), '#000000')).toBeLessThan(10);
  });

  it.each([
    ['a truncated JPEG', truncatedJpeg, /truncated/],
    ['a PNG with damaged image data', corruptPng, /PNG image cannot be decoded: \S/],
    ['text', async () => textFile(), /not a JPEG, PNG, GIF, WebP, TIFF or BMP image/],
    ['a 50000x50000 PNG header', async () => pngBomb(), /50000x50000/],
  ])('rejects %s with an ImageProcessingError that gives the reason', async (_, make, reason) => {
    const error = await processingError(processImage(await make(), engine, LIMITS));
    expect(error.message).toMatch(reason);
  });

  it.each(TEST_FORMATS)('enforces the pixel limit itself when decoding a %s', async (format: TestFormat) => {
    const bytes = await sampleImage(format, 100, 80);
    await expect(engine.decode(bytes, { format, maxPixels: 8000, maxSide: 1024 })).resolves.toMatchObject({ originalWidth: 100 });
    await expect(engine.decode(bytes, { format, maxPixels: 7999, maxSide: 1024 })).rejects.toThrow(/pixel limit|maxResolutionInMP limit exceeded/i);
  });
});

describe('the two engines agree', () => {
  it.each(TEST_FORMATS)('on the hash and mean colour of the same %s', async (format) => {
    const bytes = await sampleImage(format, 640, 480);
    const [bySharp, byJimp] = await Promise.all([processImage(bytes, ENGINES.sharp, LIMITS), processImage(bytes, ENGINES.jimp, LIMITS)]);
    expect(hammingDistance(bySharp.analysis.perceptualHash, byJimp.analysis.perceptualHash)).toBeLessThanOrEqual(4);
    expect(colourDistance(bySharp.analysis.meanColour, byJimp.analysis.meanColour)).toBeLessThanOrEqual(6);
    expect(Math.abs(bySharp.analysis.brightness - byJimp.analysis.brightness)).toBeLessThan(0.02);
    expect(bySharp.metadata).toEqual(byJimp.metadata);
  });
});
