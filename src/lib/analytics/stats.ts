import type { Aggregate } from './analytics-store';
import { HISTOGRAMS, type HistogramName } from './counters';

export interface Bucket {
  /** Inclusive lower edge. */
  from: number;
  /** Exclusive upper edge; null for the last, open bucket. */
  to: number | null;
  count: number;
}

/** A percentile read from buckets: the true value lies in [from, to). */
export interface BucketPercentile {
  from: number;
  to: number | null;
}

export interface Stats {
  images: number;
  byStatus: { succeeded: number; failed: number };
  /** Succeeded images by format. */
  byFormat: Record<string, number>;
  byDay: Array<{ day: string; succeeded: number; failed: number }>;
  processingMs: { p50: BucketPercentile | null; p95: BucketPercentile | null; histogram: Bucket[] };
  histograms: Record<Exclude<HistogramName, 'processingMs'>, Bucket[]>;
  /** Succeeded images that are near-duplicates of an earlier image, and their share of the succeeded ones. */
  duplicates: { images: number; rate: number };
  /** Failure categories, most frequent first. */
  topFailureReasons: Array<{ category: string; count: number }>;
  /** Batches that ended, by status (day aggregates only). */
  batches: Record<string, number>;
}

const prefixed = (counts: Record<string, number>, prefix: string) =>
  Object.fromEntries(
    Object.entries(counts)
      .filter(([key, count]) => key.startsWith(`${prefix}.`) && count !== 0)
      .map(([key, count]) => [key.slice(prefix.length + 1), count]),
  );

function histogram(name: HistogramName, counts: Record<string, number>): Bucket[] {
  const edges = HISTOGRAMS[name];
  return edges.map((from, i) => ({ from, to: edges[i + 1] ?? null, count: counts[`${name}.${i}`] ?? 0 }));
}

/** Nearest-rank percentile over buckets: the bucket holding the ceil(p% x n)-th value. */
export function bucketPercentile(buckets: Bucket[], p: number): BucketPercentile | null {
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const bucket of buckets) {
    seen += bucket.count;
    if (seen >= rank) return { from: bucket.from, to: bucket.to };
  }
  return null;
}

/** GET /api/stats' answer from the aggregates of the days (or of a batch's days) asked for. */
export function statsFrom(aggregates: Aggregate[]): Stats {
  const counts: Record<string, number> = {};
  const days = new Map<string, { succeeded: number; failed: number }>();
  for (const aggregate of aggregates) {
    for (const [key, count] of Object.entries(aggregate.counts)) counts[key] = (counts[key] ?? 0) + count;
    const day = days.get(aggregate.day) ?? { succeeded: 0, failed: 0 };
    day.succeeded += aggregate.counts['status.succeeded'] ?? 0;
    day.failed += aggregate.counts['status.failed'] ?? 0;
    days.set(aggregate.day, day);
  }
  const succeeded = counts['status.succeeded'] ?? 0;
  const failed = counts['status.failed'] ?? 0;
  const processing = histogram('processingMs', counts);
  const duplicates = counts.duplicates ?? 0;
  return {
    images: succeeded + failed,
    byStatus: { succeeded, failed },
    byFormat: prefixed(counts, 'format'),
    byDay: [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, c]) => ({ day, ...c })),
    processingMs: { p50: bucketPercentile(processing, 50), p95: bucketPercentile(processing, 95), histogram: processing },
    histograms: {
      sharpness: histogram('sharpness', counts),
      brightness: histogram('brightness', counts),
      bytes: histogram('bytes', counts),
      megapixels: histogram('megapixels', counts),
    },
    duplicates: { images: duplicates, rate: succeeded ? Math.round((duplicates / succeeded) * 10000) / 10000 : 0 },
    topFailureReasons: Object.entries(prefixed(counts, 'failure'))
      .map(([category, count]) => ({ category, count }))
      .sort((a, b) => b.count - a.count || a.category.localeCompare(b.category)),
    batches: prefixed(counts, 'batches'),
  };
}
