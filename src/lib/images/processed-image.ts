import type { ImageAnalysis } from './analysis';
import type { ImageEngine } from './engine';
import type { ExifSummary } from './exif';
import type { ImageFormat } from './sniff';

/** Derivative names and their long side in pixels. */
export const DERIVATIVE_SIZES = { thumbnail: 256, preview: 1024 } as const;
export type DerivativeName = keyof typeof DERIVATIVE_SIZES;

export interface ImageMetadata extends ExifSummary {
  format: ImageFormat;
  /** After EXIF orientation. */
  width: number;
  height: number;
  bytes: number;
  hasAlpha: boolean;
}

export interface Derivative {
  name: DerivativeName;
  bytes: Buffer;
  contentType: 'image/jpeg';
  width: number;
  height: number;
}

/** What processing makes of one image: the result documents store it, the processing code produces it. */
export interface ProcessedImage {
  metadata: ImageMetadata;
  analysis: Omit<ImageAnalysis, 'hasAlpha'>;
  derivatives: Derivative[];
  engine: ImageEngine['name'];
  durationMs: number;
  /** Problems with a file that was still processed, such as a damaged scan decoded as far as it goes. */
  warnings?: string[];
}
