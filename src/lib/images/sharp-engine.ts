import sharp from 'sharp';
import type { DecodeOptions, DecodedImage, ImageEngine, Raster } from './engine';
import { jimpEngine } from './jimp-engine';

const rawInput = (image: Raster) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } });

const fitInside = (maxSide: number) => ({ width: maxSide, height: maxSide, fit: 'inside' as const, withoutEnlargement: true });

async function toRaster(pipeline: sharp.Sharp): Promise<Raster> {
  const { data, info } = await pipeline.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export const sharpEngine: ImageEngine = {
  name: 'sharp',

  async decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage> {
    // libvips has no BMP loader: BMP is uncompressed, so jimp's decoder costs little and sharp takes over from there.
    if (options.format === 'bmp') return jimpEngine.decode(bytes, options);
    const input = sharp(bytes, { limitInputPixels: options.maxPixels }).autoOrient();
    const { data, info } = await input
      .resize(fitInside(options.maxSide))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const meta = await sharp(bytes, { limitInputPixels: options.maxPixels }).metadata();
    const rotated = (meta.orientation ?? 1) >= 5;
    return {
      data,
      width: info.width,
      height: info.height,
      originalWidth: rotated ? meta.height : meta.width,
      originalHeight: rotated ? meta.width : meta.height,
    };
  },

  resize: (image, maxSide) => toRaster(rawInput(image).resize(fitInside(maxSide))),

  encodeJpeg: (image, quality) => rawInput(image).flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer(),
};
