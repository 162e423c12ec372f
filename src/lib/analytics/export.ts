import type { AnalyticsStore } from './analytics-store';
import { FACT_SCHEMA_VERSION, type BatchFact, type Fact, type ImageFact } from './facts';
import { BATCH_COLUMNS, IMAGE_COLUMNS, type Column, type ColumnType } from './parquet-schema';

/** Where exports go: the `analytics` container (Data Lake Storage Gen2 in Azure), or a folder (`export --out`). */
export interface ExportTarget {
  /** Creates or replaces the file at `path` ("facts/date=2024-05-01/part-0.parquet") in one write. */
  write(path: string, bytes: Buffer): Promise<void>;
  read(path: string): Promise<Buffer | undefined>;
  /** Paths under a prefix, in name order. */
  list(prefix: string): AsyncIterable<string>;
  /** Where it is, for messages. */
  describe: string;
}

/** The tables, Hive-partitioned by day: `<table>/date=YYYY-MM-DD/part-0.parquet`. */
export const TABLES = { facts: 'facts', batches: 'batches' } as const;
export const partPath = (table: keyof typeof TABLES, day: string) => `${TABLES[table]}/date=${day}/part-0.parquet`;

/** The export job's progress: when its last run started (epoch seconds), so the next exports what changed since. */
const STATE_PATH = '_state/export.json';
/** Changes this close before a run may not be visible to its queries yet: they are exported again next time. */
const MARGIN_SECONDS = 300;

const DAY_MS = 86_400_000;
const PARQUET_TYPES: Record<ColumnType, Record<string, string>> = {
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  INT32: { type: 'INT32' },
  INT64: { type: 'INT64' },
  DOUBLE: { type: 'DOUBLE' },
  BOOLEAN: { type: 'BOOLEAN' },
  DATE: { type: 'INT32', converted_type: 'DATE' },
};

function cell(type: ColumnType, value: string | number | boolean | null) {
  if (value === null) return null;
  if (type === 'INT64') return BigInt(value as number);
  if (type === 'DATE') return Math.round(Date.parse(`${value as string}T00:00:00Z`) / DAY_MS);
  return value;
}

/**
 * One Parquet file of `rows` (zero rows too: a day with none still replaces what was there). hyparquet-writer:
 * pure JavaScript, so the function app's package carries no native Parquet library (README "Analytics exports").
 */
export async function parquetOf<F>(columns: Column<F>[], rows: F[], table: string): Promise<Buffer> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const schema = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, ...PARQUET_TYPES[c.type], repetition_type: c.required ? 'REQUIRED' : 'OPTIONAL' })),
  ];
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: rows.map((row) => cell(c.type, c.value(row))), nullable: !c.required })),
    schema: schema as Parameters<typeof parquetWriteBuffer>[0]['schema'],
    rowGroupSize: 100_000,
    kvMetadata: [{ key: 'image-pipeline.table', value: `${table}/v${FACT_SCHEMA_VERSION}` }],
    createdBy: 'image-pipeline',
  });
  return Buffer.from(buffer);
}

async function factsOf<F extends Fact>(store: AnalyticsStore, type: F['type'], day: string): Promise<F[]> {
  const rows: F[] = [];
  for await (const page of store.factsOfDay(type, day)) rows.push(...(page as unknown as F[]));
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

export interface DayExport {
  day: string;
  facts: number;
  batches: number;
}

/** Writes one day's two files, replacing what was there (a day is always written whole). */
export async function exportDay(store: AnalyticsStore, target: ExportTarget, day: string): Promise<DayExport> {
  const images = await factsOf<ImageFact>(store, 'image', day);
  const batches = await factsOf<BatchFact>(store, 'batch', day);
  await target.write(partPath('facts', day), await parquetOf(IMAGE_COLUMNS, images, 'facts'));
  await target.write(partPath('batches', day), await parquetOf(BATCH_COLUMNS, batches, 'batches'));
  return { day, facts: images.length, batches: batches.length };
}

/** Every day from `from` to `to`, both included (YYYY-MM-DD). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export const exportDays = async (store: AnalyticsStore, target: ExportTarget, days: string[]): Promise<DayExport[]> => {
  const done: DayExport[] = [];
  for (const day of days) done.push(await exportDay(store, target, day));
  return done;
};

/**
 * The daily export (and `image-pipeline export` without days): every day whose aggregate changed since the last run
 * started, which includes days an old batch retried today changed. Idempotent: a run that fails part way leaves the
 * state as it was, so the next run writes those days again.
 */
export async function exportChanged(store: AnalyticsStore, target: ExportTarget, now = new Date()): Promise<DayExport[]> {
  const state = await target.read(STATE_PATH);
  const lastRun = state ? (JSON.parse(state.toString('utf8')) as { lastRunStarted: number }).lastRunStarted : 0;
  const started = Math.floor(now.getTime() / 1000);
  const days = [...new Set((await store.changedDays(Math.max(0, lastRun - MARGIN_SECONDS))).map((d) => d.day))].sort();
  const done = await exportDays(store, target, days);
  await target.write(STATE_PATH, Buffer.from(JSON.stringify({ lastRunStarted: started, days: days.length })));
  return done;
}
