import type { ImageEngine } from './engine';
import { jimpEngine } from './jimp-engine';
import { sharpEngine } from './sharp-engine';

export const ENGINES: Record<ImageEngine['name'], ImageEngine> = { sharp: sharpEngine, jimp: jimpEngine };
