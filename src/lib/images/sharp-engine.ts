import { endianness } from 'node:os';
import sharp from 'sharp';
import type { DecodeOptions, DecodedImage, ImageEngine, Raster } from './engine';
import { decodeBmp } from './bmp';
import { imageWorkers } from './worker-pool';

const channelsOf = (image: Raster) => image.channels ?? 4;

const rawInput = (image: Raster) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: channelsOf(image) } });

const LITTLE_ENDIAN = endianness() === 'LE';

/** Whether every pixel of RGBA data is opaque: alpha is each 32-bit word's top byte (little-endian RGBA). */
function allOpaque(data: Uint8Array): boolean {
  let i = 0;
  if (LITTLE_ENDIAN && data.byteOffset % 4 === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
    // Eight words a step, AND-ed together: one test per eight pixels.
    let w = 0;
    for (const end = words.length & ~7; w < end; w += 8) {
      const all = words[w] & words[w + 1] & words[w + 2] & words[w + 3] & words[w + 4] & words[w + 5] & words[w + 6] & words[w + 7];
      if (all >>> 24 !== 0xff) return false;
    }
    i = w * 4;
  }
  for (i += 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

/**
 * Copies the RGB bytes of RGBA pixels into `rgb`, four pixels (16 bytes in, 12 out) a step as 32-bit words: about a
 * fifth of the time a byte at a time takes (and cheaper than a libvips pass, which copies the raster in and out
 * again). `rgb` may be `rgba` itself (each step writes only below what it read), so a raster of our own is
 * converted where it is, without a second raster of garbage.
 */
function copyRgb(rgba: Uint8Array, rgb: Uint8Array): void {
  let i = 0;
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0 && rgb.byteOffset % 4 === 0) {
    const source = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2);
    const target = new Uint32Array(rgb.buffer, rgb.byteOffset, rgb.length >> 2);
    const steps = source.length >> 2;
    for (let s = 0, o = 0; s < steps * 4; s += 4, o += 3) {
      const p0 = source[s];
      const p1 = source[s + 1];
      const p2 = source[s + 2];
      const p3 = source[s + 3];
      target[o] = (p0 & 0xffffff) | (p1 << 24);
      target[o + 1] = ((p1 >>> 8) & 0xffff) | (p2 << 16);
      target[o + 2] = ((p2 >>> 16) & 0xff) | (p3 << 8);
    }
    i = steps * 16;
  }
  for (let o = (i / 4) * 3; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i];
    rgb[o + 1] = rgba[i + 1];
    rgb[o + 2] = rgba[i + 2];
  }
}

/**
 * The raster as RGB when every pixel is opaque (else as it is): the same pixels as resizing or flattening with alpha
 * would give, without libvips premultiplying (resize) or blending (flatten) in floating point. sharp's removeAlpha()
 * would not do: it drops the channel only after the resize. `inPlace`: the raster's buffer is the caller's alone, so
 * the RGB bytes are packed into it rather than into a second raster of garbage.
 */
function withoutOpaqueAlpha(image: Raster, inPlace = false): Raster {
  if (channelsOf(image) === 3 || !allOpaque(image.data)) return image;
  const length = (image.data.length / 4) * 3;
  const rgb = inPlace ? image.data.subarray(0, length) : new Uint8Array(length);
  copyRgb(image.data, rgb);
  return { data: rgb, width: image.width, height: image.height, channels: 3 };
}

const fitInside = (maxSide: number) => ({ width: maxSide, height: maxSide, fit: 'inside' as const, withoutEnlargement: true });

/** What a raw pipeline gives: RGB without alpha, RGBA with it. */
async function toRaster(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

/**
 * sRGB pixels: RGB, or RGBA when the image has an alpha channel. Alpha is never added: an opaque image is cheaper
 * to resize and encode without it (and with ensureAlpha() in the pipeline libvips would not report the decoder's
 * warnings either).
 */
async function toRgb(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4) throw new Error(`libvips gave ${info.channels} channels for sRGB`);
  // An alpha channel with every pixel opaque (common in PNGs) is dropped here, once, for everything after: in place,
  // as the buffer is ours alone.
  return withoutOpaqueAlpha({ data, width: info.width, height: info.height, channels: info.channels }, true);
}

/**
 * CMYK without an ICC profile, converted the plain way (R = (1 - C)(1 - K), ...), as Pillow, jimp and browsers do:
 * libvips would assume a press profile, which turns the colours a file's writer meant into others.
 */
async function plainCmyk(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(info.width * info.height * 3);
  for (let p = 0, i = 0; p < rgb.length; p += 3, i += 4) {
    const white = 255 - data[i + 3];
    rgb[p] = Math.round(((255 - data[i]) * white) / 255);
    rgb[p + 1] = Math.round(((255 - data[i + 1]) * white) / 255);
    rgb[p + 2] = Math.round(((255 - data[i + 2]) * white) / 255);
  }
  return { data: rgb, width: info.width, height: info.height, channels: 3 };
}

/**
 * A damaged file is decoded leniently only while it is still a picture: a stray marker or a few bad bytes cost
 * libjpeg one or two warnings, scrambled image data dozens.
 */
const MAX_DECODER_WARNINGS = 3;

/** libvips has no BMP loader: our reader gives the pixels, sharp scales them (run on an image worker thread). */
export async function decodeBmpWithSharp(bytes: Uint8Array, options: DecodeOptions): Promise<DecodedImage> {
  const raster = decodeBmp(bytes, options.maxPixels);
  return { ...(await toRaster(rawInput(raster).resize(fitInside(options.maxSide)))), originalWidth: raster.width, originalHeight: raster.height };
}

export const sharpEngine: ImageEngine = {
  name: 'sharp',

  async decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage> {
    // Our BMP reader is JavaScript: on a worker thread, which also scales, so only the small raster comes back.
    if (options.format === 'bmp') return imageWorkers().run<DecodedImage>({ op: 'sharpBmp', bytes, options });
    const meta = await sharp(bytes, { limitInputPixels: options.maxPixels }).metadata();
    let decoderWarnings = 0;
    const decode = (failOn: 'warning' | 'error') => {
      const pipeline = sharp(bytes, { limitInputPixels: options.maxPixels, failOn }).autoOrient().resize(fitInside(options.maxSide));
      // libvips reports "read gave N warnings" after a lenient read, and each warning on its own.
      pipeline.on('warning', (message: string) => {
        const total = /read gave (\d+) warnings/.exec(message);
        decoderWarnings = total ? Math.max(decoderWarnings, Number(total[1])) : decoderWarnings;
      });
      // Greyscale and 16-bit images come out as 8-bit sRGB like everything else.
      return meta.space === 'cmyk' && !meta.hasProfile ? plainCmyk(pipeline) : toRgb(pipeline);
    };
    let decoded: Raster;
    const warnings: string[] = [];
    try {
      decoded = await decode('warning');
    } catch (strict) {
      // Damaged data that the decoder only warns about (a corrupt scan that viewers still show): decode what is
      // there and say so. Real errors fail this second try too, and so does data too damaged to be a picture.
      const reason = (strict as Error).message.split('\n')[0].replace(/^VipsJpeg: /, '');
      decoded = await decode('error');
      if (decoderWarnings > MAX_DECODER_WARNINGS) throw new Error(`the image data is too damaged to use (${decoderWarnings} decoder warnings, the first: ${reason})`);
      warnings.push(`The image data is damaged (${reason}); it was decoded as far as it goes.`);
    }
    const rotated = (meta.orientation ?? 1) >= 5;
    return {
      ...decoded,
      originalWidth: rotated ? meta.height! : meta.width!,
      originalHeight: rotated ? meta.width! : meta.height!,
      ...(warnings.length ? { warnings } : {}),
    };
  },

  resize: (image, maxSide) => toRaster(rawInput(withoutOpaqueAlpha(image)).resize(fitInside(maxSide))),

  encodeJpeg: (image, quality) => {
    const pixels = withoutOpaqueAlpha(image);
    return (channelsOf(pixels) === 3 ? rawInput(pixels) : rawInput(pixels).flatten({ background: '#ffffff' })).jpeg({ quality }).toBuffer();
  },
};
