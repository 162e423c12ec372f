/**
 * Near-duplicates by the 64-bit difference hash (analysis.ts): two images are near-duplicates when their hashes differ
 * in at most `maxDistance` bits and neither hash is degenerate. Measured on resized and re-encoded copies of varied
 * photo-like images (`npm run bench`, README "Near-duplicates"): copies differ by 0 to 4 bits, different pictures by
 * 11 or more, so the default is 4, the smallest distance that catches every measured copy.
 */

/** Default of DUPLICATE_HASH_DISTANCE. */
export const DEFAULT_DUPLICATE_DISTANCE = 4;

/** Where the hash is cut into bands: bits [0, 13), [13, 26), [26, 39), [39, 52), [52, 64) from the most significant. */
const BAND_STARTS = [0, 13, 26, 39, 52, 64];

/**
 * The largest distance a band lookup finds every match for: the hash is stored as five bands (13, 13, 13, 13 and 12
 * bits), and by the pigeonhole principle two hashes within 4 bits agree exactly on at least one of them, so a query
 * for equal bands misses nothing. (Four 16-bit bands would bound it at 3.)
 */
export const MAX_DUPLICATE_DISTANCE = BAND_STARTS.length - 2;

/** Bits set for a hash to carry enough structure: below 8 (or above 56) nearly every neighbour comparison agreed. */
export const MIN_HASH_BITS = 8;

/**
 * RMS contrast (0-0.5) below which an image is too flat to hash meaningfully: every neighbour difference of its 9x8
 * grid is within the hash's margin, so unrelated flat images share a hash. Smooth gradients and fine noise fall under
 * MIN_HASH_BITS instead (they hash to all zeros, all ones or nearly so).
 */
export const MIN_HASH_CONTRAST = 0.02;

const popcount32 = (value: number) => {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

const halves = (hash: string): [number, number] => [parseInt(hash.slice(0, 8), 16), parseInt(hash.slice(8, 16), 16)];

export const isPerceptualHash = (hash: unknown): hash is string => typeof hash === 'string' && /^[0-9a-f]{16}$/.test(hash);

/** Bits in which two 16-hex-digit hashes differ. */
export function hammingDistance(a: string, b: string): number {
  const [a1, a2] = halves(a);
  const [b1, b2] = halves(b);
  return popcount32((a1 ^ b1) >>> 0) + popcount32((a2 ^ b2) >>> 0);
}

/** The hash's five bands as integers: the indexed fields a near-duplicate lookup matches on. */
export function hashBands(hash: string): number[] {
  const bits = BigInt(`0x${hash}`);
  return BAND_STARTS.slice(0, -1).map((start, i) => Number((bits >> BigInt(64 - BAND_STARTS[i + 1])) & ((1n << BigInt(BAND_STARTS[i + 1] - start)) - 1n)));
}

/** Why a hash cannot take part in near-duplicate matching, or undefined when it can. */
export function degenerateReason(hash: string, contrast: number | undefined): string | undefined {
  if (/^0{16}$/.test(hash)) return 'all zeros';
  if (/^f{16}$/.test(hash)) return 'all ones';
  const [high, low] = halves(hash);
  const bits = popcount32(high) + popcount32(low);
  if (bits < MIN_HASH_BITS || bits > 64 - MIN_HASH_BITS) return `only ${Math.min(bits, 64 - bits)} of 64 bits differ from the rest`;
  if (contrast !== undefined && contrast < MIN_HASH_CONTRAST) return `contrast ${contrast} is below ${MIN_HASH_CONTRAST}`;
  return undefined;
}

export const isDegenerateHash = (hash: string, contrast: number | undefined) => degenerateReason(hash, contrast) !== undefined;

export interface HashedItem<K> {
  key: K;
  hash: string;
  contrast?: number;
}

/**
 * Groups of near-duplicates (single linkage: a chain of pairs within `maxDistance` joins one group), each in input
 * order, only groups of two or more, degenerate hashes left out. Candidates come from equal bands, so this is
 * linear in the items for distances up to MAX_DUPLICATE_DISTANCE rather than comparing every pair.
 */
export function nearDuplicateGroups<K>(items: HashedItem<K>[], maxDistance: number): K[][] {
  const usable = items.filter((item) => isPerceptualHash(item.hash) && !isDegenerateHash(item.hash, item.contrast));
  const parent = usable.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  const byBand = new Map<string, number[]>();
  usable.forEach((item, i) => {
    hashBands(item.hash).forEach((band, b) => {
      const key = `${b}:${band}`;
      let bucket = byBand.get(key);
      if (!bucket) byBand.set(key, (bucket = []));
      for (const j of bucket) {
        if (root(i) !== root(j) && hammingDistance(item.hash, usable[j].hash) <= maxDistance) parent[root(i)] = root(j);
      }
      bucket.push(i);
    });
  });
  const groups = new Map<number, K[]>();
  usable.forEach((item, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), item.key]));
  return [...groups.values()].filter((group) => group.length > 1);
}
