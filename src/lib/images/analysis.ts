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
  // Two 32-bit halves (rows 0-3, rows 4-7): plain numbers, where a BigInt would allocate at every step.
  const halves = [0, 0];
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      // A margin keeps flat areas (and tiny engine differences) from flipping bits.
      const bit = small[y * 9 + x] > small[y * 9 + x + 1] + 0.5 ? 1 : 0;
      halves[y >> 2] = ((halves[y >> 2] << 1) | bit) >>> 0;
    }
  }
  return halves.map((half) => half.toString(16).padStart(8, '0')).join('');
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

const BINS = 4096;

/**
 * Dominant colours from the 4-bit-a-channel bins filled by analyse(): k-means (k <= 5) seeded from the fullest bins,
 * each bin a point at its mean colour weighted by its pixel count. Deterministic, so the same image always gives the
 * same palette.
 */
function palette(binCounts: Uint32Array, binSums: Float64Array, pixels: number, size = 5, iterations = 8): PaletteColour[] {
  const keys: number[] = [];
  for (let key = 0; key < BINS; key++) if (binCounts[key]) keys.push(key);
  keys.sort((a, b) => binCounts[b] - binCounts[a] || a - b);
  const n = keys.length;
  const count = new Float64Array(n);
  const point = new Float64Array(n * 3);
  keys.forEach((key, i) => {
    count[i] = binCounts[key];
    for (let c = 0; c < 3; c++) point[i * 3 + c] = binSums[key * 3 + c] / binCounts[key];
  });
  const k = Math.min(size, n);
  const centres = point.slice(0, k * 3);
  const members = new Uint8Array(n);
  for (let iteration = 0; iteration < iterations; iteration++) {
    const totals = new Float64Array(k * 4);
    for (let i = 0; i < n; i++) {
      const r = point[i * 3];
      const g = point[i * 3 + 1];
      const b = point[i * 3 + 2];
      let best = 0;
      let bestDistance = Infinity;
      for (let j = 0; j < k; j++) {
        const d = (r - centres[j * 3]) ** 2 + (g - centres[j * 3 + 1]) ** 2 + (b - centres[j * 3 + 2]) ** 2;
        if (d < bestDistance) {
          best = j;
          bestDistance = d;
        }
      }
      members[i] = best;
      totals[best * 4] += count[i];
      totals[best * 4 + 1] += r * count[i];
      totals[best * 4 + 2] += g * count[i];
      totals[best * 4 + 3] += b * count[i];
    }
    for (let j = 0; j < k; j++) {
      const total = totals[j * 4];
      if (total) for (let c = 0; c < 3; c++) centres[j * 3 + c] = totals[j * 4 + 1 + c] / total;
    }
  }
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) counts[members[i]] += count[i];
  return Array.from({ length: k }, (_, j) => ({ colour: hex(centres[j * 3], centres[j * 3 + 1], centres[j * 3 + 2]), share: counts[j] / pixels }))
    .filter((c) => c.share > 0)
    .sort((a, b) => b.share - a.share || a.colour.localeCompare(b.colour))
    .map((c) => ({ ...c, share: round(c.share) }));
}

/**
 * What analyse() fills, in buffers kept for the next call: allocating them each time (half a megabyte for a 256 px
 * thumbnail) cost more in garbage collection than the analysis itself. One set per analysis in progress.
 */
interface Scratch {
  grey: Float64Array;
  binCounts: Uint32Array;
  binSums: Float64Array;
  /** Red, green, blue, luma and luma squared, summed. */
  sums: Float64Array;
  hasAlpha: boolean;
}

const spareScratch: Scratch[] = [];

function takeScratch(pixels: number): Scratch {
  const scratch = spareScratch.pop() ?? { grey: new Float64Array(0), binCounts: new Uint32Array(BINS), binSums: new Float64Array(BINS * 3), sums: new Float64Array(5), hasAlpha: false };
  if (scratch.grey.length < pixels) scratch.grey = new Float64Array(pixels);
  scratch.binCounts.fill(0);
  scratch.binSums.fill(0);
  scratch.sums.fill(0);
  scratch.hasAlpha = false;
  return scratch;
}

/**
 * Pixels `from` to `to` (alpha-composited onto white, as the derivatives are, so transparent areas count as white)
 * into the grey image, the sums and the palette bins.
 */
function accumulate(image: Raster, from: number, to: number, scratch: Scratch): void {
  const { data } = image;
  const channels = image.channels ?? 4;
  const { grey, binCounts, binSums, sums } = scratch;
  let rSum = sums[0];
  let gSum = sums[1];
  let bSum = sums[2];
  let lumaSum = sums[3];
  let lumaSq = sums[4];
  for (let p = from, i = from * channels; p < to; p++, i += channels) {
    let r = data[i];
    let g = data[i + 1];
    let b = data[i + 2];
    if (channels === 4 && data[i + 3] < 255) {
      scratch.hasAlpha = true;
      const a = data[i + 3] / 255;
      r = r * a + 255 * (1 - a);
      g = g * a + 255 * (1 - a);
      b = b * a + 255 * (1 - a);
    }
    const v = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    grey[p] = v;
    lumaSum += v;
    lumaSq += v * v;
    rSum += r;
    gSum += g;
    bSum += b;
    const key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    binCounts[key]++;
    binSums[key * 3] += r;
    binSums[key * 3 + 1] += g;
    binSums[key * 3 + 2] += b;
  }
  sums[0] = rSum;
  sums[1] = gSum;
  sums[2] = bSum;
  sums[3] = lumaSum;
  sums[4] = lumaSq;
}

/** Pixels per slice of the pass: a few milliseconds of work at most, even before the JIT has compiled this code. */
const SLICE = 8192;

/**
 * The longest an analysis holds the event loop before it lets it in. A warm process analyses a 256 px thumbnail in
 * about 2 ms and never pauses (a pause costs CPU: measured, a few milliseconds an image); the first thumbnails a
 * process analyses, before the JIT has compiled this code, take tens of milliseconds and pause every few.
 */
const HOLD_MS = 8;

/** Returns a function to call between slices of work: it lets the event loop in once `holdMs` have gone by. */
function pauser(holdMs: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < holdMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Analyses a working-size raster (a few hundred pixels a side is plenty and keeps this cheap). One pass over the
 * pixels fills the grey image, the colour and luma sums and the palette bins; hash, sharpness and palette work from
 * those. Done in slices, pausing for the event loop when one analysis has held it for `holdMs`.
 */
export async function analyse(image: Raster, holdMs = HOLD_MS): Promise<ImageAnalysis> {
  const { width, height } = image;
  const pixels = width * height;
  const scratch = takeScratch(pixels);
  const pause = pauser(holdMs);
  try {
    for (let from = 0; from < pixels; from += SLICE) {
      await pause();
      accumulate(image, from, Math.min(pixels, from + SLICE), scratch);
    }
    const { grey, binCounts, binSums, sums, hasAlpha } = scratch;
    const [rSum, gSum, bSum, lumaSum, lumaSq] = sums;
    const meanLuma = lumaSum / pixels;
    const variance = Math.max(0, lumaSq / pixels - meanLuma * meanLuma);
    await pause();
    const perceptualHash = differenceHash(grey, width, height);
    await pause();
    const sharpness = round(laplacianVariance(grey, width, height), 2);
    await pause();
    return {
      perceptualHash,
      meanColour: hex(rSum / pixels, gSum / pixels, bSum / pixels),
      palette: palette(binCounts, binSums, pixels),
      brightness: round(meanLuma / 255),
      contrast: round(Math.sqrt(variance) / 255),
      sharpness,
      hasAlpha,
    };
  } finally {
    spareScratch.push(scratch);
  }
}
