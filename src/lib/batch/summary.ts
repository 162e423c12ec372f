import { DEFAULT_DUPLICATE_DISTANCE, nearDuplicateGroups } from '../images/near-duplicates';
import type { ImageDocument } from '../results/image-document';

export interface BatchSummary {
  itemCount: number;
  counts: { succeeded: number; failed: number; pending: number };
  /** Per-image processing time (processImage), succeeded items only. */
  durationsMs: { p50: number; p95: number; max: number; total: number };
  /** Orchestration start to summary, from the orchestration's own clock. */
  wallClockMs?: number;
  formats: Record<string, number>;
  sizes: { totalBytes: number; minBytes: number; maxBytes: number; buckets: Record<string, number> };
  /**
   * Near-duplicates: items whose perceptual hashes differ in at most DUPLICATE_HASH_DISTANCE bits (chained), degenerate
   * hashes left out (images/near-duplicates.ts); largest group first. `perceptualHash` is the first item's.
   */
  duplicateGroups: Array<{ perceptualHash: string; items: number[] }>;
  failures: Array<{ index: number; fileName?: string; reason: string }>;
  startedAt?: string;
  finishedAt?: string;
}

const SIZE_BUCKETS: Array<[label: string, upTo: number]> = [
  ['< 100 KB', 100 * 1024],
  ['100 KB - 1 MB', 1024 * 1024],
  ['1 - 5 MB', 5 * 1024 * 1024],
  ['>= 5 MB', Infinity],
];

/** Nearest-rank percentile of sorted values; 0 for none. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The batch summary from its item documents: pure, so the orchestration's fan-in is testable without Azure. */
export function summarise(
  items: ImageDocument[],
  itemCount: number,
  window: { startedAt?: string; finishedAt?: string } = {},
  duplicateDistance = DEFAULT_DUPLICATE_DISTANCE,
): BatchSummary {
  const sorted = [...items].sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0));
  const succeeded = sorted.filter((d) => d.status === 'succeeded');
  const failed = sorted.filter((d) => d.status === 'failed');
  const durations = succeeded.map((d) => d.processing?.durationMs ?? 0).sort((a, b) => a - b);
  const formats: Record<string, number> = {};
  const buckets: Record<string, number> = Object.fromEntries(SIZE_BUCKETS.map(([label]) => [label, 0]));
  for (const doc of succeeded) {
    const format = doc.metadata?.format ?? 'unknown';
    formats[format] = (formats[format] ?? 0) + 1;
    const bytes = doc.source.bytes;
    buckets[SIZE_BUCKETS.find(([, upTo]) => bytes < upTo)![0]]++;
  }
  const sizes = succeeded.map((d) => d.source.bytes);
  const started = window.startedAt ? Date.parse(window.startedAt) : NaN;
  const finished = window.finishedAt ? Date.parse(window.finishedAt) : NaN;
  return {
    itemCount,
    counts: { succeeded: succeeded.length, failed: failed.length, pending: itemCount - succeeded.length - failed.length },
    durationsMs: {
      p50: percentile(durations, 50),
      p95: percentile(durations, 95),
      max: durations.at(-1) ?? 0,
      total: Math.round(durations.reduce((sum, d) => sum + d, 0)),
    },
    ...(Number.isFinite(finished - started) ? { wallClockMs: finished - started } : {}),
    formats,
    sizes: {
      totalBytes: sizes.reduce((sum, b) => sum + b, 0),
      minBytes: sizes.length ? Math.min(...sizes) : 0,
      maxBytes: sizes.length ? Math.max(...sizes) : 0,
      buckets,
    },
    duplicateGroups: nearDuplicateGroups(
      succeeded.filter((d) => d.analysis).map((d) => ({ key: d, hash: d.analysis!.perceptualHash, contrast: d.analysis!.contrast })),
      duplicateDistance,
    )
      .map((group) => ({ perceptualHash: group[0].analysis!.perceptualHash, items: group.map((d) => d.itemIndex ?? -1) }))
      .sort((a, b) => b.items.length - a.items.length || a.items[0] - b.items[0]),
    failures: failed.map((d) => ({ index: d.itemIndex ?? -1, fileName: d.source.fileName, reason: d.error?.reason ?? 'unknown' })),
    ...window,
  };
}
