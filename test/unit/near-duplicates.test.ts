import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { COPIES, flatImages, hashOf } from '../../bench/near-duplicates';
import { variedPhoto } from '../../bench/photo';
import { loadConfig } from '../../src/lib/config';
import {
  DEFAULT_DUPLICATE_DISTANCE,
  degenerateReason,
  hammingDistance,
  hashBands,
  MAX_DUPLICATE_DISTANCE,
  nearDuplicateGroups,
} from '../../src/lib/images/near-duplicates';
import { hammingDistance as referenceDistance } from '../support/images';

/** A seeded 64-bit hash generator, so the property checks are the same every run. */
function* hashes(seed: number): Generator<string> {
  let state = BigInt(seed) | 1n;
  for (;;) {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    yield state.toString(16).padStart(16, '0');
  }
}

const flip = (hash: string, bits: number[]) => bits.reduce((h, bit) => h ^ (1n << BigInt(bit)), BigInt(`0x${hash}`)).toString(16).padStart(16, '0');

describe('near-duplicates', () => {
  it('counts differing bits as the test helper does', () => {
    const gen = hashes(7);
    for (let i = 0; i < 200; i++) {
      const [a, b] = [gen.next().value!, gen.next().value!];
      expect(hammingDistance(a, b)).toBe(referenceDistance(a, b));
    }
  });

  it('hashes within MAX_DUPLICATE_DISTANCE bits always share a band (the lookup misses nothing); 5 bits may not', () => {
    const gen = hashes(11);
    for (let i = 0; i < 2000; i++) {
      const hash = gen.next().value!;
      const bits = Array.from({ length: MAX_DUPLICATE_DISTANCE }, (_, k) => (i * 7 + k * 13 + (i % 5) * k) % 64);
      const near = flip(hash, [...new Set(bits)]);
      const [a, b] = [hashBands(hash), hashBands(near)];
      expect(a.some((band, k) => band === b[k]), `${hash} ${near}`).toBe(true);
    }
    // One bit in each of the five bands: no band equal, so 4 is the bound five bands give.
    const hash = '3c5a9f0e1b2d4c6a';
    const apart = flip(hash, [63, 50, 37, 24, 11]);
    expect(hammingDistance(hash, apart)).toBe(5);
    expect(hashBands(hash).some((band, k) => band === hashBands(apart)[k])).toBe(false);
    expect(loadConfig({}).duplicateHashDistance).toBe(DEFAULT_DUPLICATE_DISTANCE);
    expect(() => loadConfig({ DUPLICATE_HASH_DISTANCE: String(MAX_DUPLICATE_DISTANCE + 1) })).toThrow(`DUPLICATE_HASH_DISTANCE must be an integer from 0 to ${MAX_DUPLICATE_DISTANCE}`);
  });

  it('calls all-zero, all-one, nearly uniform and flat hashes degenerate', () => {
    expect(degenerateReason('0000000000000000', 0.3)).toBe('all zeros');
    expect(degenerateReason('ffffffffffffffff', 0.3)).toBe('all ones');
    expect(degenerateReason('0000000000000103', 0.3)).toMatch(/only 3 of 64 bits/);
    expect(degenerateReason('3c5a9f0e1b2d4c6a', 0.01)).toMatch(/contrast 0.01/);
    expect(degenerateReason('3c5a9f0e1b2d4c6a', 0.2)).toBeUndefined();
  });

  it('groups resized and re-encoded copies of varied pictures, each with its own original only', async () => {
    const originals = await Promise.all([1, 2, 3, 4].map((seed) => variedPhoto(800, 600, seed)));
    const items: Array<{ key: string; hash: string; contrast: number }> = [];
    for (const [i, bytes] of originals.entries()) {
      items.push({ key: `${i}:original`, ...(await hashOf(bytes)) });
      for (const [name, copy] of Object.entries(COPIES)) items.push({ key: `${i}:${name}`, ...(await hashOf(await copy(bytes))) });
    }
    const groups = nearDuplicateGroups(items, DEFAULT_DUPLICATE_DISTANCE).map((group) => group.sort());
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      const picture = group[0].split(':')[0];
      expect(group).toEqual(items.filter((item) => item.key.startsWith(`${picture}:`)).map((item) => item.key).sort());
    }
  });

  it('puts no degenerate hash in a group: 50 gradients and noise images stay apart', async () => {
    const flat = await Promise.all((await flatImages(50)).map(hashOf));
    expect(flat.filter((h) => h.hash === '0000000000000000').length).toBeGreaterThan(10); // what used to make one big group
    const photo = await hashOf(await sharp(await variedPhoto(400, 300, 9)).jpeg().toBuffer());
    const groups = nearDuplicateGroups([...flat, photo, photo].map((h, i) => ({ key: i, ...h })), DEFAULT_DUPLICATE_DISTANCE);
    expect(groups).toEqual([[50, 51]]);
  });
});
