import { imageSize } from 'image-size';
import { Jimp } from 'jimp';
import { decodeBmp } from './bmp';
import { rgbaOf, type DecodeOptions, type DecodedImage, type ImageEngine, type Raster } from './engine';
import { readExif } from './exif';
import { decodeWebp } from './jimp-webp';
import { applyOrientation } from './orientation';

type JimpImage = ReturnType<typeof Jimp.fromBitmap>;

/**
 * Pixels as Jimp.fromBitmap must get them. It takes `data.buffer` whole, ignoring the view's offset and length, so a
 * view into a larger buffer (small Buffers share Node's allocation pool) would turn its neighbours' bytes into pixels:
 * such data is copied into a buffer of its own.
 */
const ownBytes = (data: Uint8Array): Uint8Array =>
  data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);

/** A jimp image of the raster (jimp bitmaps are always RGBA). */
function fromRaster(image: Raster): JimpImage {
  const rgba = rgbaOf(image);
  return Jimp.fromBitmap({ data: ownBytes(rgba.data), width: rgba.width, height: rgba.height });
}

function fit(image: JimpImage, maxSide: number): JimpImage {
  return image.width > maxSide || image.height > maxSide ? image.scaleToFit({ w: maxSide, h: maxSide }) : image;
}

/**
 * jimp has no WebP decoder of its own: @jimp/wasm-webp decodes, after a header check so no pixels are allocated for a
 * bomb, and the EXIF orientation (which jimp applies only to JPEG) is applied here.
 */
async function decodeWebpImage(bytes: Buffer, maxPixels: number): Promise<JimpImage> {
  const { width = 0, height = 0 } = imageSize(bytes);
  if (width * height > maxPixels) throw new Error(`image is ${width}x${height}, over the pixel limit`);
  const [bitmap, { orientation }] = await Promise.all([decodeWebp(bytes), readExif(bytes)]);
  return fromRaster(applyOrientation(bitmap, orientation));
}

/**
 * The default image of an animated PNG, as a plain PNG: jimp refuses APNG by its signature chunk (acTL), while every
 * other reader shows the IDAT image. Dropping the animation chunks leaves exactly that.
 */
function withoutAnimation(png: Buffer): Buffer {
  const keep: Buffer[] = [png.subarray(0, 8)];
  for (let offset = 8; offset + 12 <= png.length; ) {
    const end = offset + 12 + png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type !== 'acTL' && type !== 'fcTL' && type !== 'fdAT') keep.push(png.subarray(offset, end));
    offset = end;
  }
  return Buffer.concat(keep);
}

const toRaster = (image: JimpImage): Raster => ({ data: image.bitmap.data, width: image.width, height: image.height });

export const jimpEngine: ImageEngine = {
  name: 'jimp',

  async decode(bytes: Buffer, options: DecodeOptions): Promise<DecodedImage> {
    // Jimp.fromBuffer, never Jimp.read: read() also accepts a string and fetches it as a URL.
    const megapixels = options.maxPixels / 1e6;
    const image =
      options.format === 'webp'
        ? await decodeWebpImage(bytes, options.maxPixels)
        : options.format === 'bmp'
          ? fromRaster(decodeBmp(bytes, options.maxPixels))
          : await Jimp.fromBuffer(options.format === 'png' ? withoutAnimation(bytes) : bytes, { 'image/jpeg': { maxResolutionInMP: megapixels } });
    // jimp has already applied the EXIF orientation.
    const originalWidth = image.width;
    const originalHeight = image.height;
    if (originalWidth * originalHeight > options.maxPixels) {
      throw new Error(`decoded image is ${originalWidth}x${originalHeight}, over the pixel limit`);
    }
    return { ...toRaster(fit(image as JimpImage, options.maxSide)), originalWidth, originalHeight };
  },

  async resize(image, maxSide) {
    // fromBitmap uses the bytes in place and jimp resizes in place: a copy keeps the caller's raster intact.
    const copy = image.channels === 3 ? rgbaOf(image) : { ...image, data: Buffer.from(image.data) };
    return toRaster(fit(fromRaster(copy), maxSide));
  },

  async encodeJpeg(image, quality) {
    const background = new Jimp({ width: image.width, height: image.height, color: 0xffffffff });
    background.composite(fromRaster(image), 0, 0);
    return background.getBuffer('image/jpeg', { quality });
  },
};
