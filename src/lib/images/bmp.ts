import type { Raster } from './engine';

/**
 * A BMP reader of our own: libvips has none, and jimp's misreads OS/2 headers, 4-bit RLE and 32-bit alpha.
 * Reads the Windows headers (40, 52, 56, 108, 124 bytes) and OS/2 1.x/2.x ones (12, 16-64 bytes); 1, 2, 4 and 8-bit
 * palettes, 16/24/32-bit pixels, RLE8, RLE4 and bit fields (with alpha). Embedded JPEG/PNG and OS/2 Huffman are refused.
 */
export class BmpError extends Error {
  override name = 'BmpError';
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export interface BmpHeader {
  width: number;
  height: number;
  /** Rows stored top row first (negative height in the file). */
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  pixelOffset: number;
  headerSize: number;
  /** OS/2 1.x (12-byte header): 3-byte palette entries and 16-bit dimensions. */
  core: boolean;
  colours: number;
  /** Red, green, blue, alpha masks for 16 and 32-bit pixels (alpha 0 when there is none). */
  masks: [number, number, number, number];
}

const need = (bytes: Uint8Array, end: number, what: string) => {
  if (bytes.length < end) throw new BmpError(`the file ends inside the ${what}`);
};

/** The header fields, checked; throws BmpError with a reason when they cannot describe an image. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  need(bytes, 18, 'file header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new BmpError('it does not start with "BM"');
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const core = headerSize === 12;
  if (!core && (headerSize < 16 || headerSize > 124)) throw new BmpError(`the info header size ${headerSize} is not one BMP has`);
  need(bytes, 14 + Math.min(headerSize, 40), 'info header');
  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  let colours = 0;
  if (core) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true); // unsigned: OS/2 1.x bitmaps are always bottom-up
    bitsPerPixel = view.getUint16(24, true);
  } else {
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bitsPerPixel = view.getUint16(28, true);
    if (headerSize >= 20) compression = view.getUint32(30, true);
    if (headerSize >= 36) colours = view.getUint32(46, true);
  }
  // OS/2 2.x headers (16 or 64 bytes) number their Huffman and RLE24 compressions 3 and 4.
  const os2 = headerSize === 16 || headerSize === 64;
  if (os2 && compression >= 3) throw new BmpError('OS/2 Huffman and RLE24 compression are not supported');
  if (compression === 4 || compression === 5) throw new BmpError(`embedded ${compression === 4 ? 'JPEG' : 'PNG'} data is not supported`);
  if (![BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS, BI_ALPHABITFIELDS].includes(compression)) throw new BmpError(`compression ${compression} is not one BMP has`);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw new BmpError(`${bitsPerPixel} bits per pixel is not one BMP has`);
  if ((compression === BI_RLE8 && bitsPerPixel !== 8) || (compression === BI_RLE4 && bitsPerPixel !== 4)) {
    throw new BmpError(`RLE${compression === BI_RLE8 ? 8 : 4} with ${bitsPerPixel} bits per pixel`);
  }
  if ((compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) && bitsPerPixel !== 16 && bitsPerPixel !== 32) {
    throw new BmpError(`bit fields with ${bitsPerPixel} bits per pixel`);
  }
  const topDown = height < 0;
  if (topDown && (compression === BI_RLE8 || compression === BI_RLE4)) throw new BmpError('RLE data cannot be stored top-down');
  height = Math.abs(height);
  if (width <= 0 || height <= 0) throw new BmpError(`the dimensions ${width}x${height} are not positive`);
  if (bitsPerPixel <= 8) {
    colours = colours || 2 ** bitsPerPixel;
    if (colours > 2 ** bitsPerPixel) throw new BmpError(`${colours} palette colours for ${bitsPerPixel} bits per pixel`);
  }
  return { width, height, topDown, bitsPerPixel, compression, pixelOffset, headerSize, core, colours: bitsPerPixel <= 8 ? colours : 0, masks: readMasks(view, headerSize, compression, bitsPerPixel) };
}

function readMasks(view: DataView, headerSize: number, compression: number, bitsPerPixel: number): BmpHeader['masks'] {
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // In the header from version 2 (52 bytes) on, else right after a 40-byte header.
    const at = 14 + (headerSize >= 52 ? 40 : headerSize);
    const withAlpha = headerSize >= 56 || compression === BI_ALPHABITFIELDS;
    const end = at + (withAlpha ? 16 : 12);
    if (view.byteLength < end) throw new BmpError('the file ends inside the bit field masks');
    return [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true), withAlpha ? view.getUint32(at + 12, true) : 0];
  }
  if (bitsPerPixel === 16) return [0x7c00, 0x03e0, 0x001f, 0];
  return [0xff0000, 0x00ff00, 0x0000ff, 0];
}

/** Bytes of one stored row (rows are padded to 4 bytes). */
const rowBytes = (header: BmpHeader) => Math.ceil((header.width * header.bitsPerPixel) / 32) * 4;

/** Why the pixel data is incomplete, for uncompressed files (RLE data is checked while it is decoded). */
export function bmpTruncation(bytes: Uint8Array, header: BmpHeader): string | undefined {
  if (header.compression === BI_RLE8 || header.compression === BI_RLE4) {
    return header.pixelOffset < bytes.length ? undefined : 'no pixel data';
  }
  const expected = header.pixelOffset + rowBytes(header) * (header.height - 1) + Math.ceil((header.width * header.bitsPerPixel) / 8);
  return bytes.length < expected ? `the pixel data needs ${expected} bytes, the file has ${bytes.length}` : undefined;
}

/** The palette as RGB, 256 entries: those past the declared colours read as black, as other readers do. */
function readPalette(bytes: Uint8Array, header: BmpHeader): Uint8Array {
  const entry = header.core ? 3 : 4;
  const masksAfterHeader = header.headerSize === 40 && (header.compression === BI_BITFIELDS || header.compression === BI_ALPHABITFIELDS);
  const start = 14 + header.headerSize + (masksAfterHeader ? 12 : 0);
  // Some writers put fewer entries than they declare before the pixels; missing ones read as black.
  const available = Math.max(0, Math.min(header.colours, Math.floor((Math.min(header.pixelOffset, bytes.length) - start) / entry)));
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < available; i++) {
    const o = start + i * entry;
    palette[i * 3] = bytes[o + 2];
    palette[i * 3 + 1] = bytes[o + 1];
    palette[i * 3 + 2] = bytes[o];
  }
  return palette;
}

/**
 * A mask's value as 0-255. Masks are any contiguous run of bits (5 or 6 for 16-bit pixels, 10 for 10-bit channels):
 * shorter ones are widened by repeating their bits (5-bit 11000 -> 11000110), as ImageMagick and GPUs do; longer
 * ones keep their top 8 bits.
 */
function channel(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 255;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  return (pixel) => {
    const value = ((pixel & mask) >>> shift) & (2 ** bits - 1);
    if (bits >= 8) return value >>> (bits - 8);
    let wide = 0;
    let filled = 0;
    for (; filled < 8; filled += bits) wide = (wide << bits) | value;
    return wide >>> (filled - 8);
  };
}

function decodeRle(bytes: Uint8Array, header: BmpHeader, indices: Uint8Array): void {
  const { width, height } = header;
  const four = header.compression === BI_RLE4;
  let x = 0;
  let y = height - 1; // RLE rows run bottom-up
  let i = header.pixelOffset;
  const put = (index: number) => {
    if (x < width && y >= 0) indices[y * width + x] = index;
    x++;
  };
  const byte = () => {
    if (i >= bytes.length) throw new BmpError('the RLE data ends before its end-of-bitmap marker');
    return bytes[i++];
  };
  for (;;) {
    const count = byte();
    const value = byte();
    if (count > 0) {
      for (let n = 0; n < count; n++) put(four ? (n % 2 === 0 ? value >> 4 : value & 15) : value);
    } else if (value === 0) {
      x = 0;
      y--;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      x += byte();
      y -= byte();
    } else {
      // An absolute run of `value` pixels, padded to a 16-bit boundary.
      const length = four ? Math.ceil(value / 2) : value;
      for (let n = 0; n < value; n++) {
        if (four) {
          const packed = bytes[i + (n >> 1)];
          if (packed === undefined) throw new BmpError('the RLE data ends inside an absolute run');
          put(n % 2 === 0 ? packed >> 4 : packed & 15);
        } else {
          put(byte());
        }
      }
      if (four) i += length;
      if (length % 2) i++;
    }
    if (y < 0) return; // past the top row without an end marker: what was drawn stands
  }
}

/**
 * Decodes a BMP, refusing more than `maxPixels` before allocating anything: RGBA when the file has an alpha mask,
 * else RGB.
 */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): Raster {
  const header = readBmpHeader(bytes);
  const { width, height, bitsPerPixel, compression } = header;
  if (width * height > maxPixels) throw new BmpError(`image is ${width}x${height}, over the pixel limit`);
  const truncated = bmpTruncation(bytes, header);
  if (truncated) throw new BmpError(truncated);
  const channels = header.masks[3] !== 0 && bitsPerPixel > 8 ? 4 : 3;
  const data = new Uint8Array(width * height * channels);

  if (bitsPerPixel <= 8) {
    const colours = readPalette(bytes, header);
    const paint = (target: number, index: number) => {
      data[target] = colours[index * 3];
      data[target + 1] = colours[index * 3 + 1];
      data[target + 2] = colours[index * 3 + 2];
    };
    if (compression === BI_RLE8 || compression === BI_RLE4) {
      const indices = new Uint8Array(width * height); // pixels an RLE stream skips take palette entry 0
      decodeRle(bytes, header, indices);
      for (let p = 0; p < indices.length; p++) paint(p * 3, indices[p]);
      return { data, width, height, channels };
    }
    const stride = rowBytes(header);
    const mask = (1 << bitsPerPixel) - 1;
    for (let row = 0; row < height; row++) {
      const y = header.topDown ? row : height - 1 - row;
      const start = header.pixelOffset + row * stride;
      for (let x = 0, target = y * width * 3; x < width; x++, target += 3) {
        const bit = x * bitsPerPixel;
        paint(target, (bytes[start + (bit >> 3)] >> (8 - bitsPerPixel - (bit & 7))) & mask);
      }
    }
    return { data, width, height, channels };
  }

  const stride = rowBytes(header);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [red, green, blue, alpha] = header.masks.map(channel);
  for (let row = 0; row < height; row++) {
    const y = header.topDown ? row : height - 1 - row;
    const start = header.pixelOffset + row * stride;
    for (let x = 0, target = y * width * channels; x < width; x++, target += channels) {
      if (bitsPerPixel === 24 && compression === BI_RGB) {
        const o = start + x * 3;
        data[target] = bytes[o + 2];
        data[target + 1] = bytes[o + 1];
        data[target + 2] = bytes[o];
      } else {
        const pixel = bitsPerPixel === 16 ? view.getUint16(start + x * 2, true) : view.getUint32(start + x * 4, true);
        data[target] = red(pixel);
        data[target + 1] = green(pixel);
        data[target + 2] = blue(pixel);
        // Alpha only from an alpha mask: the fourth byte of 32-bit BI_RGB is unused, as Windows and most readers take it.
        if (channels === 4) data[target + 3] = alpha(pixel);
      }
    }
  }
  return { data, width, height, channels };
}
