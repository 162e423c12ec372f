// The sharp engine drops an alpha channel that every pixel leaves opaque (read and copied four pixels at a time), and
// keeps one that some pixel uses: checked at sizes that end inside a four-pixel step and on views at odd offsets, and
// when decoding, where the decoder's RGBA buffer becomes RGB in place.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sharpEngine } from '../../src/lib/images/sharp-engine.js';

/** Opaque RGBA pixels with varied colour bytes, in a view `offset` bytes into a larger buffer. */
function opaqueRgba(width: number, height: number, offset: number): Uint8Array {
  const data = new Uint8Array(offset + width * height * 4 + 3).subarray(offset, offset + width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i & 3) === 3 ? 255 : (i * 37 + 11) % 256;
  return data;
}

/** The RGB bytes, taken one byte at a time. */
function stripped(rgba: Uint8Array): number[] {
  return [...rgba].filter((_, i) => (i & 3) !== 3);
}

describe('sharp engine: an opaque alpha channel', () => {
  // 1x1 and 7x5 end inside a four-pixel step; 16x16 is whole steps; offset 1 cannot be read as 32-bit words.
  it.each([
    [1, 1, 0],
    [7, 5, 0],
    [16, 16, 0],
    [16, 16, 4],
    [7, 5, 1],
    [33, 3, 2],
  ])('is dropped from a %ix%i raster at byte offset %i, keeping every colour byte', async (width, height, offset) => {
    const rgba = opaqueRgba(width, height, offset);
    // Asked for no smaller size, resize gives back the pixels it was given.
    const out = await sharpEngine.resize({ data: rgba, width, height, channels: 4 }, 4096);
    expect(out.channels).toBe(3);
    expect([...out.data]).toEqual(stripped(rgba));
  });

  it.each([0, 5, 34])('is kept when pixel %i of 35 is not fully opaque', async (pixel) => {
    const rgba = opaqueRgba(7, 5, 0);
    rgba[pixel * 4 + 3] = 254;
    const out = await sharpEngine.resize({ data: rgba, width: 7, height: 5, channels: 4 }, 4096);
    expect(out.channels).toBe(4);
    expect(out.data[pixel * 4 + 3]).toBe(254);
  });
});

describe('sharp engine: decoding a PNG with an alpha channel', () => {
  const decodePng = async (rgba: Uint8Array, width: number, height: number) => {
    const png = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
    return sharpEngine.decode(png, { format: 'png', maxPixels: 1e6, maxSide: 1024 });
  };

  // The decoder's own RGBA buffer is turned into RGB where it lies: the result must still be exactly the RGB bytes.
  it.each([
    [1, 1],
    [7, 5],
    [64, 33],
  ])('gives exactly the RGB bytes of an all-opaque %ix%i image', async (width, height) => {
    const rgba = opaqueRgba(width, height, 0);
    const decoded = await decodePng(rgba, width, height);
    expect(decoded.channels).toBe(3);
    expect(decoded.data.length).toBe(width * height * 3);
    expect([...decoded.data]).toEqual(stripped(rgba));
  });

  it('keeps the alpha channel when one pixel is not fully opaque', async () => {
    const rgba = opaqueRgba(64, 33, 0);
    rgba[(64 * 33 - 1) * 4 + 3] = 128;
    const decoded = await decodePng(rgba, 64, 33);
    expect(decoded.channels).toBe(4);
    expect([...decoded.data]).toEqual([...rgba]);
  });
});
