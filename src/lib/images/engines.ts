import type { ImageEngine } from './engine';
import { sharpEngine } from './sharp-engine';

/**
 * jimp (and its codecs) load on first use, not with this module: loading them costs more CPU than loading sharp, and
 * every cold start of the sharp default would pay it for an engine it never calls.
 */
let jimp: Promise<ImageEngine> | undefined;
const loadJimp = (): Promise<ImageEngine> => (jimp ??= import('./jimp-engine.js').then((module) => module.jimpEngine));

const lazyJimpEngine: ImageEngine = {
  name: 'jimp',
  decode: async (bytes, options) => (await loadJimp()).decode(bytes, options),
  resize: async (image, maxSide) => (await loadJimp()).resize(image, maxSide),
  encodeJpeg: async (image, quality) => (await loadJimp()).encodeJpeg(image, quality),
};

export const ENGINES: Record<ImageEngine['name'], ImageEngine> = { sharp: sharpEngine, jimp: lazyJimpEngine };
