import type { DecodedImage, ImageEngine, Raster } from './engine';
import { sharpEngine } from './sharp-engine';
import { imageWorkers } from './worker-pool';

/**
 * jimp is pure JavaScript: it runs in the worker pool, never on the event loop (a 7000x7000 image holds a thread for
 * seconds). jimp and its codecs load in the workers on first use, so a cold start of the sharp default never pays for
 * them.
 */
const pooledJimpEngine: ImageEngine = {
  name: 'jimp',
  decode: (bytes, options) => imageWorkers().run<DecodedImage>({ op: 'decode', bytes, options }),
  resize: (image, maxSide) => imageWorkers().run<Raster>({ op: 'resize', image, maxSide }),
  encodeJpeg: async (image, quality) => {
    // A Buffer crosses the thread boundary as a plain Uint8Array.
    const jpeg = await imageWorkers().run<Uint8Array>({ op: 'encodeJpeg', image, quality });
    return Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  },
};

export const ENGINES: Record<ImageEngine['name'], ImageEngine> = { sharp: sharpEngine, jimp: pooledJimpEngine };
