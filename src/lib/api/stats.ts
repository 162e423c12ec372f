import { z } from 'zod';
import { statsFrom } from '../analytics/stats';
import { BATCH_ID_PATTERN } from '../batch/record';
import { badRequest } from '../problem';
import type { Services } from '../services';
import { json, type ApiRequest, type ApiResponse } from './http';

const DAY_MS = 86_400_000;
/** Days a request may span: a year of day aggregates is a few hundred small documents. */
export const MAX_STATS_DAYS = 366;
/** Without `from` and `to` (and without `batch`): the last 30 days, today included. */
const DEFAULT_DAYS = 30;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), 'is not a calendar date');

/** GET /api/stats' query (zod, so the OpenAPI document can describe it). `code` is the function key in Azure. */
export const statsQuery = z
  .object({
    from: day.optional().describe('first UTC day, inclusive (YYYY-MM-DD)'),
    to: day.optional().describe('last UTC day, exclusive (YYYY-MM-DD)'),
    batch: z.string().regex(BATCH_ID_PATTERN, 'is not a valid batch id').optional().describe("only this batch's images"),
    code: z.string().optional(),
  })
  .strict();

const bucket = z.strictObject({ from: z.number(), to: z.number().nullable().meta({ description: 'Exclusive; null for the last, open bucket.' }), count: z.int().min(0) });
const percentile = z.strictObject({ from: z.number(), to: z.number().nullable() }).nullable().meta({ description: 'The bucket the percentile falls in; null without images.' });
const counts = z.record(z.string(), z.int().min(0));

/** GET /api/stats' answer. */
export const StatsResult = z
  .strictObject({
    from: day.nullable(),
    to: day.nullable(),
    batch: z.string().nullable(),
    images: z.int().min(0),
    byStatus: z.strictObject({ succeeded: z.int().min(0), failed: z.int().min(0) }),
    byFormat: counts.meta({ description: 'Succeeded images by format.' }),
    byDay: z.array(z.strictObject({ day, succeeded: z.int().min(0), failed: z.int().min(0) })),
    processingMs: z.strictObject({ p50: percentile, p95: percentile, histogram: z.array(bucket) }),
    histograms: z.strictObject({ sharpness: z.array(bucket), brightness: z.array(bucket), bytes: z.array(bucket), megapixels: z.array(bucket) }),
    duplicates: z.strictObject({ images: z.int().min(0), rate: z.number().min(0).max(1) }).meta({ description: 'Succeeded images that are near-duplicates of an earlier one, and their share.' }),
    topFailureReasons: z.array(z.strictObject({ category: z.string(), count: z.int().min(0) })),
    batches: counts.meta({ description: 'Batches that ended, by status.' }),
  })
  .meta({ id: 'Stats', description: 'Statistics from the de-identified day (or batch) aggregates.' });

const addDays = (value: string, days: number) => new Date(Date.parse(`${value}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

export function readStatsQuery(url: URL, today = new Date()): { from?: string; to?: string; batchId?: string } {
  const parsed = statsQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    throw badRequest(parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')} ${issue.message}` : issue.message)).join('; ') + '.', 'invalid-query');
  }
  const { batch: batchId } = parsed.data;
  let { from, to } = parsed.data;
  // A batch is a handful of days at most: without bounds, all of them.
  if (!batchId || from || to) {
    to ??= addDays(from ?? today.toISOString().slice(0, 10), from ? DEFAULT_DAYS : 1);
    from ??= addDays(to, -DEFAULT_DAYS);
  }
  if (from && to && from >= to) throw badRequest(`from (${from}) must be before to (${to}).`, 'invalid-query');
  if (from && to && (Date.parse(to) - Date.parse(from)) / DAY_MS > MAX_STATS_DAYS) throw badRequest(`from and to may span at most ${MAX_STATS_DAYS} days.`, 'invalid-query');
  return { from, to, batchId };
}

/**
 * GET /api/stats: counts by status, format and day, processing-time percentiles, histograms, the duplicate rate and
 * the top failure reasons, from the day (or batch) aggregates: one small document per day, never a scan of images.
 */
export async function getStats(request: ApiRequest, services: Services): Promise<ApiResponse> {
  const filter = readStatsQuery(new URL(request.url));
  const aggregates = await services.analytics.aggregates(filter);
  return json(200, { from: filter.from ?? null, to: filter.to ?? null, batch: filter.batchId ?? null, ...statsFrom(aggregates) } satisfies z.infer<typeof StatsResult>);
}
