// The jimp engine gets rasters whose bytes are views into larger buffers (small Buffers share Node's allocation
// pool); Jimp.fromBitmap reads the whole underlying buffer, so without a copy the neighbours' bytes became pixels.
// Found when CI started running the suite on Node 22, where the pool held different bytes than on Node 20.
import { describe, expect, it } from 'vitest';
import { jimpEngine } from '../../src/lib/images/jimp-engine';
import sharp from 'sharp';

/** A width x height raster of one colour, as a view 16 bytes into a buffer whose other bytes are grey. */
function rasterInLargerBuffer(width: number, height: number, rgba: [number, number, number, number]) {
  const buffer = Buffer.alloc(16 + width * height * 4 + 16, 0x80);
  const data = buffer.subarray(16, 16 + width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
  return { data, width, height };
}

describe('jimp engine rasters that are views into larger buffers', () => {
  it('resize keeps exactly the raster pixels', async () => {
    const resized = await jimpEngine.resize(rasterInLargerBuffer(20, 40, [255, 0, 0, 255]), 256);
    expect([resized.width, resized.height]).toEqual([20, 40]);
    const distinct = new Set<string>();
    for (let i = 0; i < resized.data.length; i += 4) distinct.add(Array.from(resized.data.subarray(i, i + 4)).join(','));
    expect([...distinct]).toEqual(['255,0,0,255']);
  });

  it('encodeJpeg encodes the raster pixels, not the neighbouring bytes', async () => {
    const jpeg = await jimpEngine.encodeJpeg(rasterInLargerBuffer(16, 16, [0, 0, 255, 255]), 90);
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i += 3) expect(Math.abs(data[i]!) + Math.abs(data[i + 1]!) + Math.abs(255 - data[i + 2]!)).toBeLessThan(30);
  });
});
