import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/lib/images/analysis.js';
import {
  blurRaster,
  checkerboardRaster,
  gradientRaster,
  halvesRaster,
  hammingDistance,
  rasterFrom,
  sceneRaster,
  solidRaster,
  toHex,
} from '../support/images.js';

describe('analyse', () => {
  it.each([
    { colour: [255, 0, 0], brightness: 0.2126 },
    { colour: [0, 255, 0], brightness: 0.7152 },
    { colour: [255, 255, 255], brightness: 1 },
    { colour: [0, 0, 0], brightness: 0 },
    { colour: [0x33, 0x66, 0x99], brightness: 0.3719 },
  ] as const)('a solid $colour gives a flat hash, that colour alone and no contrast or sharpness', async ({ colour, brightness }) => {
    const result = await analyse(solidRaster(64, 48, colour));
    expect(result).toEqual({
      perceptualHash: '0000000000000000',
      meanColour: toHex(colour),
      palette: [{ colour: toHex(colour), share: 1 }],
      brightness,
      contrast: 0,
      sharpness: 0,
      hasAlpha: false,
    });
  });

  it('a bright-to-dark horizontal gradient sets every hash bit; dark-to-bright sets none', async () => {
    expect((await analyse(gradientRaster(90, 40, 255, 0))).perceptualHash).toBe('ffffffffffffffff');
    expect((await analyse(gradientRaster(90, 40, 0, 255))).perceptualHash).toBe('0000000000000000');
  });

  it('a gradient has middling brightness and real contrast, but no sharpness to speak of', async () => {
    const result = await analyse(gradientRaster(256, 16, 0, 255));
    expect(result.brightness).toBeCloseTo(0.5, 2);
    // A uniform ramp over 0..1 has standard deviation 1/sqrt(12).
    expect(result.contrast).toBeCloseTo(1 / Math.sqrt(12), 2);
    expect(result.sharpness).toBeLessThan(1);
  });

  it('a sharp checkerboard is far sharper than its blurred copy', async () => {
    const sharpBoard = checkerboardRaster(128, 128, 8);
    const blurred = await blurRaster(sharpBoard, 3);
    const [crisp, soft] = [(await analyse(sharpBoard)).sharpness, (await analyse(blurred)).sharpness];
    expect(soft).toBeGreaterThan(0);
    expect(crisp / soft).toBeGreaterThan(5);
    // Same picture, so the same light and the same colours overall.
    expect((await analyse(blurred)).brightness).toBeCloseTo((await analyse(sharpBoard)).brightness, 1);
  });

  it('an image of two colours has a palette of those two, half each', async () => {
    const result = await analyse(halvesRaster(100, 50, [220, 30, 30], [20, 40, 200]));
    expect(result.palette).toEqual([
      { colour: '#1428c8', share: 0.5 },
      { colour: '#dc1e1e', share: 0.5 },
    ]);
    expect(result.meanColour).toBe(toHex([120, 35, 115]));
  });

  it('puts the larger share first and the shares sum to 1', async () => {
    const result = await analyse(rasterFrom(100, 10, (x) => (x < 70 ? [10, 200, 10] : [250, 250, 250])));
    expect(result.palette.map((p) => p.share)).toEqual([0.7, 0.3]);
    expect(result.palette[0].colour).toBe('#0ac80a');
    const scene = await analyse(sceneRaster(200, 150));
    expect(scene.palette.length).toBeGreaterThan(2);
    expect(scene.palette.length).toBeLessThanOrEqual(5);
    expect(scene.palette.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 3);
  });

  it('reports alpha when any pixel is not opaque, and counts transparency as white', async () => {
    expect((await analyse(solidRaster(10, 10, [0, 0, 0, 255]))).hasAlpha).toBe(false);
    const onePixel = rasterFrom(10, 10, (x, y) => (x === 3 && y === 4 ? [0, 0, 0, 254] : [0, 0, 0, 255]));
    expect((await analyse(onePixel)).hasAlpha).toBe(true);
    const transparent = await analyse(solidRaster(10, 10, [0, 0, 0, 0]));
    expect(transparent).toMatchObject({ hasAlpha: true, meanColour: '#ffffff', brightness: 1 });
  });

  it('is deterministic and the hash follows the picture, not its size', async () => {
    const small = await analyse(sceneRaster(180, 120));
    expect(await analyse(sceneRaster(180, 120))).toEqual(small);
    const large = await analyse(sceneRaster(540, 360));
    expect(hammingDistance(small.perceptualHash, large.perceptualHash)).toBeLessThanOrEqual(4);
    expect(small.perceptualHash).not.toBe('0000000000000000');
  });

  it('gives each of several analyses running at once its own result (they share no buffers while paused)', async () => {
    // 540x360 is many slices; holding the event loop for 0 ms, each run pauses after every slice, so they take turns.
    const rasters = [sceneRaster(540, 360), solidRaster(540, 360, [0x33, 0x66, 0x99]), gradientRaster(540, 360, 255, 0)];
    const alone = [];
    for (const raster of rasters) alone.push(await analyse(raster));
    expect(await Promise.all(rasters.map((raster) => analyse(raster, 0)))).toEqual(alone);
    expect(alone[1]).toMatchObject({ meanColour: '#336699', perceptualHash: '0000000000000000', contrast: 0 });
    expect(alone[2].perceptualHash).toBe('ffffffffffffffff');
  });
});
