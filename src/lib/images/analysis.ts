import type { Raster } from './engine';

export interface PaletteColour {
  colour: string;
  share: number;
}

export interface ImageAnalysis {
  /** 64-bit difference hash (dHash) as 16 hex digits: bit set where a pixel is brighter than its right neighbour. */
  perceptualHash: string;
  meanColour: string;
  /** Up to 5 dominant colours, largest share first; shares sum to 1. */
  palette: PaletteColour[];
  /** Mean luma, 0 (black) to 1 (white). */
  brightness: number;
  /** RMS contrast: standard deviation of luma, 0 to 0.5. */
  contrast: number;
  /** Variance of the Laplacian of the grey image (0-255 scale); higher is sharper. */
  sharpness: number;
  /** Whether any pixel is not fully opaque. */
  hasAlpha: boolean;
}

const round = (value: number, digits = 4) => Number(value.toFixed(digits));
const hex = (r: number, g: number, b: number) => '#' + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');

/** Alpha-composited onto white, as the derivatives are, so transparent areas count as white. */
function rgbOverWhite(data: Uint8Array, i: number): [number, number, number] {
  const a = data[i + 3] / 255;
  return [data[i] * a + 255 * (1 - a), data[i + 1] * a + 255 * (1 - a), data[i + 2] * a + 255 * (1 - a)];
}

const luma = (r: number, g: number, b: number) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

function greyscale(image: Raster): Float64Array {
  const grey = new Float64Array(image.width * image.height);
  for (let p = 0; p < grey.length; p++) grey[p] = luma(...rgbOverWhite(image.data, p * 4));
  return grey;
}

/** Box-filter downscale of a grey image to exactly w x h (area average), so the hash ignores engine resampling. */
function shrink(grey: Float64Array, width: number, height: number, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = (y * height) / h;
    const y1 = ((y + 1) * height) / h;
    for (let x = 0; x < w; x++) {
      const x0 = (x * width) / w;
      const x1 = ((x + 1) * width) / w;
      let sum = 0;
      let area = 0;
      for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) {
        const wy = Math.min(sy + 1, y1) - Math.max(sy, y0);
        for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
          const weight = wy * (Math.min(sx + 1, x1) - Math.max(sx, x0));
          sum += grey[sy * width + sx] * weight;
          area += weight;
        }
      }
      out[y * w + x] = sum / area;
    }
  }
  return out;
}

function differenceHash(grey: Float64Array, width: number, height: number): string {
  const small = shrink(grey, width, height, 9, 8);
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      // A margin keeps flat areas (and tiny engine differences) from flipping bits.
      bits = (bits << 1n) | (small[y * 9 + x] > small[y * 9 + x + 1] + 0.5 ? 1n : 0n);
    }
  }
  return bits.toString(16).padStart(16, '0');
}

function laplacianVariance(grey: Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = grey[i - width] + grey[i + width] + grey[i - 1] + grey[i + 1] - 4 * grey[i];
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/**
 * Dominant colours: pixels binned at 4 bits a channel, then k-means (k <= 5) seeded from the fullest bins.
 * Deterministic, so the same image always gives the same palette.
 */
function palette(image: Raster, size = 5, iterations = 8): PaletteColour[] {
  const bins = new Map<number, { count: number; r: number; g: number; b: number }>();
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    const [r, g, b] = rgbOverWhite(image.data, p * 4);
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    const bin = bins.get(key) ?? { count: 0, r: 0, g: 0, b: 0 };
    bin.count++;
    bin.r += r;
    bin.g += g;
    bin.b += b;
    bins.set(key, bin);
  }
  const points = [...bins.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0] - b[0])
    .map(([, bin]) => ({ count: bin.count, r: bin.r / bin.count, g: bin.g / bin.count, b: bin.b / bin.count }));
  let centres = points.slice(0, size).map(({ r, g, b }) => ({ r, g, b }));
  let members: number[] = [];
  for (let iteration = 0; iteration < iterations; iteration++) {
    const totals = centres.map(() => ({ count: 0, r: 0, g: 0, b: 0 }));
    members = points.map((point) => {
      let best = 0;
      let bestDistance = Infinity;
      centres.forEach((c, k) => {
        const d = (point.r - c.r) ** 2 + (point.g - c.g) ** 2 + (point.b - c.b) ** 2;
        if (d < bestDistance) [best, bestDistance] = [k, d];
      });
      const total = totals[best];
      total.count += point.count;
      total.r += point.r * point.count;
      total.g += point.g * point.count;
      total.b += point.b * point.count;
      return best;
    });
    centres = totals.map((t, k) => (t.count ? { r: t.r / t.count, g: t.g / t.count, b: t.b / t.count } : centres[k]));
  }
  const counts = centres.map((_, k) => points.reduce((sum, point, i) => sum + (members[i] === k ? point.count : 0), 0));
  return centres
    .map((c, k) => ({ colour: hex(c.r, c.g, c.b), share: counts[k] / pixels }))
    .filter((c) => c.share > 0)
    .sort((a, b) => b.share - a.share || a.colour.localeCompare(b.colour))
    .map((c) => ({ ...c, share: round(c.share) }));
}

/** Analyses a working-size raster (a few hundred pixels a side is plenty and keeps this cheap). */
export function analyse(image: Raster): ImageAnalysis {
  const grey = greyscale(image);
  const pixels = grey.length;
  let r = 0;
  let g = 0;
  let b = 0;
  let hasAlpha = false;
  for (let p = 0; p < pixels; p++) {
    const [pr, pg, pb] = rgbOverWhite(image.data, p * 4);
    r += pr;
    g += pg;
    b += pb;
    if (image.data[p * 4 + 3] < 255) hasAlpha = true;
  }
  let lumaSum = 0;
  let lumaSq = 0;
  for (const v of grey) {
    lumaSum += v;
    lumaSq += v * v;
  }
  const meanLuma = lumaSum / pixels;
  const variance = Math.max(0, lumaSq / pixels - meanLuma * meanLuma);
  return {
    perceptualHash: differenceHash(grey, image.width, image.height),
    meanColour: hex(r / pixels, g / pixels, b / pixels),
    palette: palette(image),
    brightness: round(meanLuma / 255),
    contrast: round(Math.sqrt(variance) / 255),
    sharpness: round(laplacianVariance(grey, image.width, image.height), 2),
    hasAlpha,
  };
}
