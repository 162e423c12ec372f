import type { BatchFact, ImageFact } from './facts';

/**
 * Fixed histogram buckets of the daily aggregates: bucket i holds values from edges[i] (inclusive) to edges[i + 1]
 * (exclusive), the last one everything from its edge up. Fixed, so aggregates of any days add up; percentiles read
 * from them are only as precise as a bucket (README "Stats").
 */
export const HISTOGRAMS = {
  processingMs: [0, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
  sharpness: [0, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  brightness: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  bytes: [0, 100 * 1024, 500 * 1024, 1024 ** 2, 2 * 1024 ** 2, 5 * 1024 ** 2, 10 * 1024 ** 2, 20 * 1024 ** 2],
  megapixels: [0, 0.5, 1, 2, 4, 8, 12, 16, 24, 36],
} as const;

export type HistogramName = keyof typeof HISTOGRAMS;

export function bucketOf(edges: readonly number[], value: number): number {
  let i = 0;
  while (i + 1 < edges.length && value >= edges[i + 1]) i++;
  return i;
}

/**
 * The counters one ended image adds to its day's (and its batch's) aggregate, each by 1. At most 8, so one Cosmos
 * patch (10 operations at most) carries them with the idempotency marker.
 */
export function imageCounters(fact: ImageFact): string[] {
  if (fact.status === 'failed') return ['status.failed', `failure.${fact.failureCategory ?? 'other'}`];
  const counters = ['status.succeeded', `format.${fact.format ?? 'unknown'}`];
  const values: Record<HistogramName, number | null> = {
    processingMs: fact.processingMs,
    sharpness: fact.sharpness,
    brightness: fact.brightness,
    bytes: fact.bytes,
    megapixels: fact.megapixels,
  };
  for (const [name, value] of Object.entries(values) as Array<[HistogramName, number | null]>) {
    if (value !== null) counters.push(`${name}.${bucketOf(HISTOGRAMS[name], value)}`);
  }
  if (fact.duplicateOf) counters.push('duplicates');
  return counters;
}

export const batchCounters = (fact: BatchFact): string[] => [`batches.${fact.status}`];

/** Counter changes from what was counted before (`previous`) to `next`. */
export function counterDeltas(previous: readonly string[], next: readonly string[]): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const key of previous) deltas[key] = (deltas[key] ?? 0) - 1;
  for (const key of next) deltas[key] = (deltas[key] ?? 0) + 1;
  return Object.fromEntries(Object.entries(deltas).filter(([, delta]) => delta !== 0));
}
