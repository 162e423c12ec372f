import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bilevelBmp } from '../../bench/photo';
import { ENGINES } from '../../src/lib/images/engines';
import { processImage } from '../../src/lib/processing/process-image';
import { colourDistance, encodeImage, hammingDistance, jpegWithExif, rasterFrom, sampleImage, sceneRaster } from '../support/images';

/**
 * The outputs of processing stay what they were before the speed work of issue 15. before.json holds what main at
 * 329b244 (before any of that work) made of every input below, with each engine: it was written by this file with
 * RECORD_OUTPUTS=1 on that commit, and is never rewritten to make a change pass. Each run compares the current code's
 * outputs with it, within these tolerances:
 * - metadata and derivative names, types and dimensions: exactly;
 * - derivatives decoded (by sharp, here): mean colour within 1 level a channel;
 * - perceptual hash: at most 2 of 64 bits differ; mean colour within 1 level a channel;
 * - brightness and contrast within 0.002; sharpness within 1 % (resampling may round a pixel the other way);
 * - palette: as many colours, each within 3 levels a channel and its share within 0.01;
 * - a failure: the same reason.
 */
interface Outcome {
  metadata?: Record<string, unknown>;
  analysis?: {
    perceptualHash: string;
    meanColour: string;
    palette: Array<{ colour: string; share: number }>;
    brightness: number;
    contrast: number;
    sharpness: number;
  };
  derivatives?: Array<{ name: string; contentType: string; width: number; height: number; mean: number[] }>;
  warnings?: string[];
  error?: string;
}

const FILE = join(__dirname, 'before.json');
const RECORD = process.env.RECORD_OUTPUTS === '1';
const LIMITS = { maxBytes: 64 * 1024 * 1024, maxPixels: 50_000_000 };
const CONFORMANCE = join(__dirname, '..', 'conformance', 'images');

/** The scene with seeded grain (a blurred look is not needed: the grain is what makes palettes and sharpness photo-like). */
function grainyScene(width: number, height: number, seed: number) {
  let state = seed;
  const noise = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 48;
  };
  const scene = sceneRaster(width, height);
  for (let i = 0; i < scene.data.length; i += 4) {
    const grain = noise();
    for (let c = 0; c < 3; c++) scene.data[i + c] = Math.max(0, Math.min(255, Math.round(scene.data[i + c] + grain + noise() / 4)));
  }
  return scene;
}

/** Photograph-like grain, flat synthetic scenes, alpha, EXIF orientation, every format, the BMP variants. */
async function inputs(): Promise<Array<[string, Buffer]>> {
  const translucent = rasterFrom(600, 400, (x, y) => [Math.round((255 * x) / 599), 120, Math.round((255 * y) / 399), (x + y) % 256]);
  const generated: Array<[string, Buffer | Promise<Buffer>]> = [
    ['grainy 1280x960.jpg', encodeImage(grainyScene(1280, 960, 5), 'jpeg')],
    ['grainy 800x600.png', encodeImage(grainyScene(800, 600, 6), 'png')],
    ['scene 1200x800.jpg', sampleImage('jpeg', 1200, 800)],
    ['scene 1200x800.webp', sampleImage('webp', 1200, 800)],
    ['scene 1200x800.gif', sampleImage('gif', 1200, 800)],
    ['scene 1200x800.tiff', sampleImage('tiff', 1200, 800)],
    ['scene 900x600 24-bit.bmp', sampleImage('bmp', 900, 600)],
    ['translucent 600x400.png', encodeImage(translucent, 'png')],
    ['translucent 600x400 32-bit.bmp', encodeImage(translucent, 'bmp', { bmpBits: 32 })],
    ['scene 300x200 small.png', encodeImage(sceneRaster(300, 200), 'png')],
    ['bilevel 1500x1000.bmp', bilevelBmp(1500, 1000, 3)],
    ['exif orientation 6 1200x600.jpg', jpegWithExif({ width: 1200, height: 600, orientation: 6 })],
  ];
  const conformance = readdirSync(CONFORMANCE)
    .sort()
    .map((file): [string, Buffer] => [`conformance/${file}`, readFileSync(join(CONFORMANCE, file))]);
  return [...(await Promise.all(generated.map(async ([name, bytes]): Promise<[string, Buffer]> => [name, await bytes]))), ...conformance];
}

async function meanColour(jpeg: Buffer): Promise<number[]> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c++) sums[c] += data[i + (info.channels >= 3 ? c : 0)];
  return sums.map((sum) => Math.round((sum / (info.width * info.height)) * 100) / 100);
}

async function outcome(bytes: Buffer, engine: (typeof ENGINES)[keyof typeof ENGINES]): Promise<Outcome> {
  try {
    const processed = await processImage(bytes, engine, LIMITS);
    return {
      metadata: { ...processed.metadata },
      analysis: processed.analysis,
      derivatives: await Promise.all(
        processed.derivatives.map(async ({ name, contentType, width, height, bytes: jpeg }) => ({ name, contentType, width, height, mean: await meanColour(jpeg) })),
      ),
      ...(processed.warnings ? { warnings: processed.warnings } : {}),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const near = (label: string, actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual - expected), `${label}: ${actual}, before ${expected}`).toBeLessThanOrEqual(tolerance);

function compare(actual: Outcome, before: Outcome): void {
  expect(actual.error, 'failure reason').toBe(before.error);
  expect(actual.warnings, 'warnings').toEqual(before.warnings);
  expect(actual.metadata, 'metadata').toEqual(before.metadata);
  expect(actual.derivatives?.map(({ mean: _mean, ...rest }) => rest), 'derivatives').toEqual(before.derivatives?.map(({ mean: _mean, ...rest }) => rest));
  for (const [i, derivative] of (before.derivatives ?? []).entries()) {
    derivative.mean.forEach((level, c) => near(`${derivative.name} mean channel ${c}`, actual.derivatives![i].mean[c], level, 1));
  }
  if (!before.analysis) return expect(actual.analysis).toBeUndefined();
  const [a, b] = [actual.analysis!, before.analysis];
  expect(hammingDistance(a.perceptualHash, b.perceptualHash), `perceptual hash ${a.perceptualHash}, before ${b.perceptualHash}`).toBeLessThanOrEqual(2);
  expect(colourDistance(a.meanColour, b.meanColour), `mean colour ${a.meanColour}, before ${b.meanColour}`).toBeLessThanOrEqual(1);
  near('brightness', a.brightness, b.brightness, 0.002);
  near('contrast', a.contrast, b.contrast, 0.002);
  near('sharpness', a.sharpness, b.sharpness, Math.max(0.01, b.sharpness * 0.01));
  expect(a.palette.length, 'palette size').toBe(b.palette.length);
  for (const [i, entry] of b.palette.entries()) {
    expect(colourDistance(a.palette[i].colour, entry.colour), `palette ${i}: ${a.palette[i].colour}, before ${entry.colour}`).toBeLessThanOrEqual(3);
    near(`palette ${i} share`, a.palette[i].share, entry.share, 0.01);
  }
}

describe('processing outputs are the same as before issue 15', async () => {
  const images = await inputs();
  const engines = Object.values(ENGINES);

  if (RECORD) {
    it('records before.json', async () => {
      const record: Record<string, Record<string, Outcome>> = {};
      for (const engine of engines) {
        record[engine.name] = {};
        for (const [name, bytes] of images) record[engine.name][name] = await outcome(bytes, engine);
      }
      writeFileSync(FILE, `${JSON.stringify(record, null, 1)}\n`);
    });
    return;
  }

  const before = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Record<string, Outcome>>;
  for (const engine of engines) {
    it.each(images.map(([name, bytes]) => [name, bytes] as const))(`${engine.name}: %s`, async (name, bytes) => {
      expect(before[engine.name][name], `before.json has ${name}`).toBeDefined();
      compare(await outcome(bytes, engine), before[engine.name][name]);
    });
  }
});
