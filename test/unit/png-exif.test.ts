// EXIF of a PNG comes from its eXIf chunk, found by walking the chunk headers (not by exifr reading every chunk):
// wherever the chunk sits, with or without JPEG's `Exif\0\0` prefix; a PNG without it has no EXIF.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pngExif, readExif } from '../../src/lib/images/exif.js';

interface Chunk {
  type: string;
  data: Buffer;
}

function chunksOf(png: Buffer): Chunk[] {
  const chunks: Chunk[] = [];
  for (let offset = 8; offset < png.length; ) {
    const size = png.readUInt32BE(offset);
    chunks.push({ type: png.toString('latin1', offset + 4, offset + 8), data: png.subarray(offset + 8, offset + 8 + size) });
    offset += 12 + size;
  }
  return chunks;
}

function pngOf(chunks: Chunk[]): Buffer {
  const parts = chunks.map(({ type, data }) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
    return Buffer.concat([head, data, crc]);
  });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...parts]);
}

const CAMERA = { Make: 'Acme', Model: 'Field 7', DateTimeOriginal: '2024:05:06 07:08:09', OffsetTimeOriginal: '+02:00' };
const EXPECTED = { camera: { make: 'Acme', model: 'Field 7' }, takenAt: '2024-05-06T07:08:09+02:00' };

/** A 64x48 PNG of several IDAT chunks (noise does not compress), with the EXIF above as libvips writes it. */
async function pngWithExif(): Promise<Buffer> {
  const noise = Buffer.from(Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 7919) % 251));
  return sharp(noise, { raw: { width: 64, height: 48, channels: 3 } })
    .withExif({ IFD0: { Make: CAMERA.Make, Model: CAMERA.Model }, IFD2: { DateTimeOriginal: CAMERA.DateTimeOriginal, OffsetTimeOriginal: CAMERA.OffsetTimeOriginal } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

describe('PNG EXIF', () => {
  it('reads the camera and time from the eXIf chunk', async () => {
    const png = await pngWithExif();
    expect(chunksOf(png).map((c) => c.type)).toContain('eXIf');
    expect(await readExif(png)).toMatchObject(EXPECTED);
  });

  it('finds the chunk after the image data too, and with an Exif\\0\\0 prefix', async () => {
    const chunks = chunksOf(await pngWithExif());
    const exif = chunks.find((c) => c.type === 'eXIf')!;
    const rest = chunks.filter((c) => c.type !== 'eXIf' && c.type !== 'IEND');
    const late = pngOf([...rest, exif, { type: 'IEND', data: Buffer.alloc(0) }]);
    expect(await readExif(late)).toMatchObject(EXPECTED);
    const prefixed = pngOf([rest[0], { type: 'eXIf', data: Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exif.data]) }, ...rest.slice(1), { type: 'IEND', data: Buffer.alloc(0) }]);
    expect(await readExif(prefixed)).toMatchObject(EXPECTED);
    expect(pngExif(prefixed)!.equals(exif.data)).toBe(true);
  });

  it('gives nothing for a PNG without the chunk, or one cut off inside its chunks', async () => {
    const plain = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } }).png().toBuffer();
    expect(pngExif(plain)).toBeUndefined();
    expect(await readExif(plain)).toEqual({});
    const png = await pngWithExif();
    const exifAt = png.indexOf('eXIf', 0, 'latin1');
    expect(pngExif(png.subarray(0, exifAt - 2))).toBeUndefined();
  });
});
