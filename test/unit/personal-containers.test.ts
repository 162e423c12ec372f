import { describe, expect, it } from 'vitest';
import { holdsPersonalData } from '../../src/lib/names';

// The README's Privacy table is the independent source: images and batches carry personal fields until the sweep;
// facts, stats and usage hold none (facts and usage only under the salted owner hash).
describe('which Cosmos containers hold personal data', () => {
  it('images and batches do; facts, stats and usage do not', () => {
    expect(['images', 'batches', 'facts', 'stats', 'usage'].map(holdsPersonalData)).toEqual([true, true, false, false, false]);
  });

  it('a container it does not know is taken to hold some, so backup prune still expires it', () => {
    expect(holdsPersonalData('audit')).toBe(true);
  });
});
