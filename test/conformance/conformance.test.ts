import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rgbaOf } from '../../src/lib/images/engine';
import { ENGINES } from '../../src/lib/images/engines';
import { sniffFormat } from '../../src/lib/images/sniff';
import { ImageProcessingError, processImage } from '../../src/lib/processing/process-image';

/**
 * The conformance set (test/conformance/README.md): small images of many format variants, and what Pillow and
 * exiftool read from them (expected.json, written by make.py). Both engines must read the same.
 */
interface Expected {
  file: string;
  format: string;
  width: number;
  height: number;
  hasAlpha: boolean;
  samples: Array<[number, number, [number, number, number, number]]>;
  tolerance: number;
  rgbaSha256?: string;
  orientation?: number;
  camera?: { make?: string; model?: string };
  takenAt?: string;
  damaged?: boolean;
}

const HERE = __dirname;
const EXPECTED = JSON.parse(readFileSync(join(HERE, 'expected.json'), 'utf8')) as Expected[];
const LIMITS = { maxBytes: 1024 * 1024, maxPixels: 1_000_000 };
const bytesOf = (entry: Expected) => readFileSync(join(HERE, 'images', entry.file));

describe.each(Object.values(ENGINES).map((engine) => [engine.name, engine] as const))('conformance set, %s engine', (_name, engine) => {
  const intact = EXPECTED.filter((entry) => !entry.damaged);

  it.each(intact.map((entry) => [entry.file, entry] as const))('%s: metadata as Pillow and exiftool read it', async (_file, entry) => {
    const { metadata } = await processImage(bytesOf(entry), engine, LIMITS);
    expect(metadata).toEqual({
      format: entry.format,
      width: entry.width,
      height: entry.height,
      bytes: bytesOf(entry).length,
      hasAlpha: entry.hasAlpha,
      orientation: entry.orientation,
      camera: entry.camera,
      takenAt: entry.takenAt,
    });
  });

  it.each(intact.map((entry) => [entry.file, entry] as const))('%s: upright pixels as Pillow decodes them', async (_file, entry) => {
    const bytes = bytesOf(entry);
    // RGB from an engine means opaque: compared as RGBA with alpha 255.
    const decoded = rgbaOf(await engine.decode(bytes, { format: sniffFormat(bytes)!, maxPixels: LIMITS.maxPixels, maxSide: 1024 }));
    expect([decoded.width, decoded.height]).toEqual([entry.width, entry.height]);
    for (const [x, y, colour] of entry.samples) {
      const i = (y * decoded.width + x) * 4;
      const got = [...decoded.data.subarray(i, i + 4)];
      const off = Math.max(...got.map((v, c) => Math.abs(v - colour[c])));
      expect(off, `pixel (${x}, ${y}) is ${got}, Pillow reads ${colour}`).toBeLessThanOrEqual(entry.tolerance);
    }
    if (entry.rgbaSha256) expect(createHash('sha256').update(decoded.data).digest('hex'), 'every RGBA byte').toBe(entry.rgbaSha256);
  });

  const damaged = EXPECTED.find((entry) => entry.damaged)!;
  if (engine.name === 'sharp') {
    it(`${damaged.file}: decoded leniently as far as Pillow decodes it, with a warning`, async () => {
      const processed = await processImage(bytesOf(damaged), engine, LIMITS);
      expect(processed.metadata).toMatchObject({ format: 'jpeg', width: damaged.width, height: damaged.height, orientation: damaged.orientation });
      expect(processed.warnings).toEqual(['The image data is damaged (Corrupt JPEG data: premature end of data segment); it was decoded as far as it goes.']);
      const decoded = rgbaOf(await engine.decode(bytesOf(damaged), { format: 'jpeg', maxPixels: LIMITS.maxPixels, maxSide: 1024 }));
      // The top-left quadrant comes before the damage; the rest is the decoder's grey, in Pillow's reading too.
      for (const [x, y, colour] of damaged.samples) {
        const i = (y * decoded.width + x) * 4;
        expect(Math.max(...[...decoded.data.subarray(i, i + 4)].map((v, c) => Math.abs(v - colour[c]))), `pixel (${x}, ${y})`).toBeLessThanOrEqual(damaged.tolerance);
      }
    });
  } else {
    // jpeg-js stops at the stray marker: the item fails with the reason instead (README, "Image engines").
    it(`${damaged.file}: refused with the decoder's reason`, async () => {
      await expect(processImage(bytesOf(damaged), engine, LIMITS)).rejects.toThrow(new ImageProcessingError('The JPEG image cannot be decoded: unexpected marker: ffd3'));
    });
  }
});
