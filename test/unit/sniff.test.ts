import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../src/lib/images/sniff.js';
import { encodeBmp, riffNotWebp, sampleImage, solidRaster, TEST_FORMATS, textFile } from '../support/images.js';

describe('sniffFormat', () => {
  it.each(TEST_FORMATS)('recognises %s from its magic bytes', async (format) => {
    expect(sniffFormat(await sampleImage(format, 16, 16))).toBe(format);
  });

  it('recognises a 32-bit BMP too', () => {
    expect(sniffFormat(encodeBmp(solidRaster(4, 4, [1, 2, 3, 128]), 32))).toBe('bmp');
  });

  it.each([
    ['text', textFile()],
    ['empty', Buffer.alloc(0)],
    ['a RIFF that is not WEBP', riffNotWebp()],
    ['"BM" with too few bytes for a header', Buffer.from('BM1234')],
    ['a PNG signature missing its last byte', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a])],
  ])('finds no image format in %s', (_, bytes) => {
    expect(sniffFormat(bytes)).toBeUndefined();
  });

  it('reads the bytes of the view it is given, wherever they sit in the underlying buffer', async () => {
    const png = await sampleImage('png', 8, 8);
    const padded = Buffer.concat([Buffer.from('xxxx'), png]);
    expect(sniffFormat(padded.subarray(4))).toBe('png');
    expect(sniffFormat(padded)).toBeUndefined();
  });
});
