import sharp from 'sharp';
import type { DecodeOptions, DecodedImage, ImageEngine, Raster } from './engine';
import { decodeBmp } from './bmp';

const rawInput = (image: Raster) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } });

const fitInside = (maxSide: number) => ({ width: maxSide, height: maxSide, fit: 'inside' as const, withoutEnlargement: true });

async function toRaster(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * sRGB pixels as RGBA, the alpha added here rather than by libvips: with ensureAlpha() in the pipeline, libvips no
 * longer reports the decoder's warnings.
 */
async function toRgba(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 4) return { data, width: info.width, height: info.height };
  const rgba = new Uint8Array(info.width * info.height * 4);
  for (let p = 0, i = 0; p < rgba.length; p += 4, i += info.channels) {
    rgba[p] = data[i];
    rgba[p + 1] = data[i + 1];
    rgba[p + 2] = data[i + 2];
    rgba[p + 3] = 255;
  }
  return { data: rgba, width: info.width, height: info.height };
}

/**
 * CMYK without an ICC profile, converted the plain way (R = (1 - C)(1 - K), ...), as Pillow, jimp and browsers do:
 * libvips would assume a press profile, which turns the colours a file's writer meant into others.
 */
async function plainCmyk(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
  const rgba = new Uint8Array(info.width * info.height * 4);
  for (let p = 0, i = 0; p < rgba.length; p += 4, i += 4) {
    const white = 255 - data[i + 3];
    rgba[p] = Math.round(((255 - data[i]) * white) / 255);
    rgba[p + 1] = Math.round(((255 - data[i + 1]) * white) / 255);
    rgba[p + 2] = Math.round(((255 - data[i + 2]) * white) / 255);
    rgba[p + 3] = 255;
  }
  return { data: rgba, width: info.width, height: info.height };
}

/**
 * A damaged file is decoded leniently only while it is still a picture: a stray marker or a few bad bytes cost
 * libjpeg one or two warnings, scrambled image data dozens.
 */
const MAX_DECODER_WARNINGS = 3;

export const sharpEngine: ImageEngine = {
  name: 'sharp',

  async decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage> {
    // libvips has no BMP loader: our reader gives the pixels, sharp scales them.
    if (options.format === 'bmp') {
      const raster = decodeBmp(bytes, options.maxPixels);
      return { ...(await toRaster(rawInput(raster).resize(fitInside(options.maxSide)))), originalWidth: raster.width, originalHeight: raster.height };
    }
    const meta = await sharp(bytes, { limitInputPixels: options.maxPixels }).metadata();
    let decoderWarnings = 0;
    const decode = (failOn: 'warning' | 'error') => {
      const pipeline = sharp(bytes, { limitInputPixels: options.maxPixels, failOn }).autoOrient().resize(fitInside(options.maxSide));
      // libvips reports "read gave N warnings" after a lenient read, and each warning on its own.
      pipeline.on('warning', (message: string) => {
        const total = /read gave (\d+) warnings/.exec(message);
        decoderWarnings = total ? Math.max(decoderWarnings, Number(total[1])) : decoderWarnings;
      });
      // Greyscale and 16-bit images come out as 8-bit sRGB RGBA like everything else.
      return meta.space === 'cmyk' && !meta.hasProfile ? plainCmyk(pipeline) : toRgba(pipeline);
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

  resize: (image, maxSide) => toRaster(rawInput(image).resize(fitInside(maxSide))),

  encodeJpeg: (image, quality) => rawInput(image).flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer(),
};
