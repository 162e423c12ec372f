import sharp from 'sharp';
import { ENGINES } from '../src/lib/images/engines';
import { DEFAULT_DUPLICATE_DISTANCE, degenerateReason, hammingDistance, nearDuplicateGroups } from '../src/lib/images/near-duplicates';
import { processImage } from '../src/lib/processing/process-image';
import { BENCH_LIMITS } from './images';
import { random, variedPhoto } from './photo';

/** The copies a near-duplicate should survive: resized, re-encoded, both. */
export const COPIES: Record<string, (bytes: Buffer) => Promise<Buffer>> = {
  'half size, JPEG q85': (b) => sharp(b).resize({ width: 400 }).jpeg({ quality: 85 }).toBuffer(),
  'quarter size, JPEG q85': (b) => sharp(b).resize({ width: 200 }).jpeg({ quality: 85 }).toBuffer(),
  '1.5x size, JPEG q85': (b) => sharp(b).resize({ width: 1200 }).jpeg({ quality: 85 }).toBuffer(),
  'JPEG q50': (b) => sharp(b).jpeg({ quality: 50 }).toBuffer(),
  'JPEG q95': (b) => sharp(b).jpeg({ quality: 95 }).toBuffer(),
  'WebP q75': (b) => sharp(b).webp({ quality: 75 }).toBuffer(),
  PNG: (b) => sharp(b).png().toBuffer(),
  'half size, JPEG q60, then WebP q70': async (b) => sharp(await sharp(b).resize({ width: 400 }).jpeg({ quality: 60 }).toBuffer()).webp({ quality: 70 }).toBuffer(),
};

/** Pictures whose hashes say nothing: gradients in every direction and noise of every grain. */
export async function flatImages(count: number): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = [320, 240];
    const hue = (i * 37) % 360;
    if (i % 2 === 0) {
      const [x2, y2] = [[1, 0], [0, 1], [1, 1], [0, 0]][i % 4 === 0 ? (i / 2) % 4 : ((i / 2) + 1) % 4];
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g" x1="0" y1="0" x2="${x2}" y2="${y2}">
        <stop offset="0" stop-color="hsl(${hue},60%,20%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},70%,80%)"/></linearGradient></defs>
        <rect width="100%" height="100%" fill="url(#g)"/></svg>`;
      images.push(await sharp(Buffer.from(svg)).png().toBuffer());
    } else {
      // Seeded noise (sharp's own is random), in a colour, of growing amplitude.
      const next = random(i);
      const amplitude = 10 + ((i * 13) % 120);
      const raw = Buffer.alloc(w * h * 3);
      for (let p = 0; p < raw.length; p++) raw[p] = Math.max(0, Math.min(255, 128 + (p % 3) * 20 - 20 + Math.round((next() - 0.5) * amplitude)));
      images.push(await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
    }
  }
  return images;
}

export async function hashOf(bytes: Buffer): Promise<{ hash: string; contrast: number }> {
  const { analysis } = await processImage(bytes, ENGINES.sharp, BENCH_LIMITS);
  return { hash: analysis.perceptualHash, contrast: analysis.contrast };
}

const spread = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const counts = new Map<number, number>();
  for (const v of sorted) counts.set(v, (counts.get(v) ?? 0) + 1);
  return `min ${sorted[0]}, median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)}; ${[...counts].map(([d, n]) => `${d}:${n}`).join(' ')}`;
};

/** Distances between copies of a picture and between different pictures, and how flat images fare. */
export async function benchNearDuplicates(pictures = 24, flat = 50): Promise<void> {
  console.log('\nNear-duplicates: distance of the 64-bit dHash (bits)');
  const originals = await Promise.all(Array.from({ length: pictures }, (_, i) => variedPhoto(800, 600, i + 1)));
  const hashes = await Promise.all(originals.map(hashOf));
  const byCopy: Record<string, number[]> = {};
  for (const [name, copy] of Object.entries(COPIES)) {
    byCopy[name] = await Promise.all(originals.map(async (bytes, i) => hammingDistance(hashes[i].hash, (await hashOf(await copy(bytes))).hash)));
  }
  const different = hashes.flatMap((a, i) => hashes.slice(i + 1).map((b) => hammingDistance(a.hash, b.hash)));
  for (const [name, distances] of Object.entries(byCopy)) console.log(`  copy, ${name.padEnd(36)} ${spread(distances)}`);
  console.log(`  all copies (${Object.values(byCopy).flat().length})${' '.repeat(30)}${spread(Object.values(byCopy).flat())}`);
  console.log(`  different pictures (${different.length} pairs)        ${spread(different)}`);
  const flatHashes = await Promise.all((await flatImages(flat)).map(hashOf));
  const zero = flatHashes.filter((h) => /^0{16}$/.test(h.hash)).length;
  const reasons = flatHashes.map((h) => degenerateReason(h.hash, h.contrast));
  // Without the exclusion: how many flat images would have a "near-duplicate" among the others.
  const naive = flatHashes.filter((a, i) => flatHashes.some((b, j) => i !== j && hammingDistance(a.hash, b.hash) <= DEFAULT_DUPLICATE_DISTANCE)).length;
  const grouped = nearDuplicateGroups(flatHashes.map((h, i) => ({ key: i, hash: h.hash, contrast: h.contrast })), DEFAULT_DUPLICATE_DISTANCE);
  console.log(`  ${flat} gradients and noise images: ${zero} hash to all zeros; ${reasons.filter(Boolean).length} degenerate; contrast ${spread(flatHashes.map((h) => Math.round(h.contrast * 100) / 100))}`);
  console.log(`    without the exclusion ${naive} of them would be someone's near-duplicate at distance ${DEFAULT_DUPLICATE_DISTANCE}; with it, groups: ${grouped.length}`);
}
