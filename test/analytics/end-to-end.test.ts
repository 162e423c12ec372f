// From a known set of uploads and a batch on the local host (Azurite, Cosmos stand-in): /api/stats against a
// computation of our own over the same documents, the Parquet export read back by DuckDB (not the writer), the saved
// queries, and near-duplicates across the collection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { variedPhoto } from '../../bench/photo';
import { runAnalyticsCommand } from '../../src/cli/analytics-command';
import { runExportCommand } from '../../src/cli/export-command';
import { SAVED_QUERIES } from '../../src/cli/analytics-queries';
import { HISTOGRAMS } from '../../src/lib/analytics/counters';
import { processUpload } from '../../src/lib/processing/process-upload';
import type { ImageDocument } from '../../src/lib/results/image-document';
import { waitForBatch } from '../batch/host';
import { startTestHost } from '../integration/local-host';
import { corruptPng, hammingDistance } from '../support/images';

type Host = Awaited<ReturnType<typeof startTestHost>>;

const flatGradient = (hue: number) =>
  sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="hsl(${hue},60%,20%)"/><stop offset="1" stop-color="hsl(${hue},70%,80%)"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/></svg>`)).png().toBuffer();

async function uploadAndWait(host: Host, bytes: Buffer, name: string): Promise<ImageDocument & { id: string }> {
  const body = new FormData();
  body.append('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', body });
  expect(response.status).toBe(200);
  const { id } = (await response.json()) as { id: string };
  return (await host.services.images.get(id, id))!;
}

/** Every image document, through the listing (newest first). */
async function allImages(host: Host): Promise<ImageDocument[]> {
  const docs: ImageDocument[] = [];
  let token: string | undefined;
  do {
    const page = await host.services.images.list({}, { limit: 100, continuationToken: token });
    docs.push(...page.items);
    token = page.continuationToken;
  } while (token);
  return docs;
}

const bucket = (edges: readonly number[], value: number) => edges.filter((edge) => value >= edge).length - 1;

/**
 * What /api/stats should say about these documents, computed here from their fields alone. `everything` holds the
 * images they may repeat (a batch's image can repeat one uploaded before the batch).
 */
function expectedStats(docs: ImageDocument[], everything = docs) {
  const ended = docs.filter((d) => d.status === 'succeeded' || d.status === 'failed');
  const succeeded = ended.filter((d) => d.status === 'succeeded');
  const histogram = (name: keyof typeof HISTOGRAMS, value: (d: ImageDocument) => number) => {
    const counts = HISTOGRAMS[name].map(() => 0);
    for (const d of succeeded) counts[bucket(HISTOGRAMS[name], value(d))]++;
    return counts;
  };
  const byFormat: Record<string, number> = {};
  for (const d of succeeded) byFormat[d.metadata!.format] = (byFormat[d.metadata!.format] ?? 0) + 1;
  // A near-duplicate: within 4 bits of an image that ended before it, neither hash flat (all zeros here).
  const usable = (d: ImageDocument) => !/^0+$|^f+$/.test(d.analysis!.perceptualHash) && d.analysis!.contrast >= 0.02;
  const earlier = everything.filter((e) => e.status === 'succeeded' && usable(e));
  const duplicates = succeeded.filter(
    (d) => usable(d) && earlier.some((e) => e.processing!.finishedAt < d.processing!.finishedAt && hammingDistance(d.analysis!.perceptualHash, e.analysis!.perceptualHash) <= 4),
  ).length;
  const processing = succeeded.map((d) => d.processing!.durationMs).sort((a, b) => a - b);
  return {
    images: ended.length,
    byStatus: { succeeded: succeeded.length, failed: ended.length - succeeded.length },
    byFormat,
    histograms: {
      processingMs: histogram('processingMs', (d) => d.processing!.durationMs),
      sharpness: histogram('sharpness', (d) => d.analysis!.sharpness),
      brightness: histogram('brightness', (d) => d.analysis!.brightness),
      bytes: histogram('bytes', (d) => d.source.bytes),
      megapixels: histogram('megapixels', (d) => Math.round((d.metadata!.width * d.metadata!.height) / 1e4) / 100),
    },
    duplicates,
    p50: processing[Math.ceil(0.5 * processing.length) - 1],
    p95: processing[Math.ceil(0.95 * processing.length) - 1],
  };
}

interface StatsBody {
  images: number;
  byStatus: { succeeded: number; failed: number };
  byFormat: Record<string, number>;
  byDay: Array<{ day: string; succeeded: number; failed: number }>;
  processingMs: { p50: { from: number; to: number | null }; p95: { from: number; to: number | null }; histogram: Array<{ count: number }> };
  histograms: Record<string, Array<{ count: number }>>;
  duplicates: { images: number; rate: number };
  topFailureReasons: Array<{ category: string; count: number }>;
  batches: Record<string, number>;
}

function compare(stats: StatsBody, docs: ImageDocument[], everything = docs) {
  const expected = expectedStats(docs, everything);
  expect(stats.images).toBe(expected.images);
  expect(stats.byStatus).toEqual(expected.byStatus);
  expect(stats.byFormat).toEqual(expected.byFormat);
  expect(stats.processingMs.histogram.map((b) => b.count)).toEqual(expected.histograms.processingMs);
  for (const name of ['sharpness', 'brightness', 'bytes', 'megapixels'] as const) {
    expect(stats.histograms[name].map((b) => b.count), name).toEqual(expected.histograms[name]);
  }
  expect(stats.duplicates.images).toBe(expected.duplicates);
  // The exact percentile lies in the bucket the API names.
  for (const [p, value] of [['p50', expected.p50], ['p95', expected.p95]] as const) {
    const range = stats.processingMs[p];
    expect(value).toBeGreaterThanOrEqual(range.from);
    if (range.to !== null) expect(value).toBeLessThan(range.to);
  }
}

describe('analytics from uploads and a batch', () => {
  let host: Host;
  let out: string;
  const named: Record<string, ImageDocument & { id: string }> = {};
  let batchId: string;
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    host = await startTestHost();
    out = mkdtempSync(join(tmpdir(), 'analytics-export-'));
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map((seed) => variedPhoto(640, 480, seed)));
    // One at a time, so "earlier" is well defined for near-duplicates.
    named.a = await uploadAndWait(host, a, 'holiday-a.jpg');
    named.b = await uploadAndWait(host, b, 'holiday-b.jpg');
    named.aSmall = await uploadAndWait(host, await sharp(a).resize({ width: 320 }).webp({ quality: 70 }).toBuffer(), 'a-small.webp');
    named.flat1 = await uploadAndWait(host, await flatGradient(20), 'flat-1.png');
    named.flat2 = await uploadAndWait(host, await flatGradient(200), 'flat-2.png');
    named.broken = await uploadAndWait(host, await corruptPng(), 'broken.png');
    named.c = await uploadAndWait(host, c, 'c.jpg');
    // Near-duplicates ending at the same moment could miss each other (README "Near-duplicates"), so the batch's copy
    // is of an earlier upload.
    const body = new FormData();
    body.append('files', new Blob([new Uint8Array(d)]), 'd.jpg');
    body.append('files', new Blob([new Uint8Array(await sharp(c).png().toBuffer())]), 'c-copy.png');
    body.append('files', new Blob([new Uint8Array(Buffer.from('not an image'))]), 'notes.txt');
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body });
    expect(response.status).toBe(202);
    batchId = ((await response.json()) as { id: string }).id;
    await waitForBatch(response.headers.get('location')!);
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('GET /api/stats equals a computation over the same documents, for the day and for the batch', async () => {
    const docs = await allImages(host);
    expect(docs).toHaveLength(10);
    const stats = (await (await fetch(`${host.apiUrl}/stats?from=${today}&to=${tomorrow}`)).json()) as StatsBody;
    compare(stats, docs);
    expect(stats.byStatus).toEqual({ succeeded: 8, failed: 2 });
    expect(stats.duplicates.images).toBe(2); // the small WebP of a, the PNG copy of c; never the flat gradients
    expect(stats.byDay).toEqual([{ day: today, succeeded: 8, failed: 2 }]);
    expect(stats.topFailureReasons).toEqual([
      { category: 'undecodable', count: 1 },
      { category: 'unsupported-type', count: 1 },
    ]);
    // The batch is recorded just after its status reads completed.
    await expect
      .poll(async () => ((await (await fetch(`${host.apiUrl}/stats?from=${today}&to=${tomorrow}`)).json()) as StatsBody).batches)
      .toEqual({ completed: 1 });

    const batch = (await (await fetch(`${host.apiUrl}/stats?batch=${batchId}`)).json()) as StatsBody;
    compare(batch, docs.filter((d) => d.batchId === batchId), docs);
    expect(batch.duplicates.images).toBe(1); // its copy of c
    expect(batch.byStatus).toEqual({ succeeded: 2, failed: 1 });

    // Counted once however often completion is recorded again (a redelivered blob event).
    await processUpload(host.services, named.a.id, host.log);
    expect(((await (await fetch(`${host.apiUrl}/stats?from=${today}&to=${tomorrow}`)).json()) as StatsBody).byStatus).toEqual({ succeeded: 8, failed: 2 });
  });

  it('refuses bad stats queries with 400 invalid-query', async () => {
    for (const query of ['from=2024-02-30', 'from=yesterday', 'from=2024-05-02&to=2024-05-01', 'from=2023-01-01&to=2024-06-01', 'batch=a%20b', 'colour=red']) {
      const response = await fetch(`${host.apiUrl}/stats?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { type: string }).type).toBe('urn:image-pipeline:problem:invalid-query');
    }
  });

  it('finds near-duplicates across the collection, never for a flat image', async () => {
    const similar = (await (await fetch(`${host.apiUrl}/images/${named.aSmall.id}/similar`)).json()) as { items: Array<{ id: string; distance: number }> };
    expect(similar.items.map((i) => i.id)).toEqual([named.a.id]);
    expect(similar.items[0].distance).toBe(hammingDistance(named.a.analysis!.perceptualHash, named.aSmall.analysis!.perceptualHash));
    const flat = (await (await fetch(`${host.apiUrl}/images/${named.flat1.id}/similar`)).json()) as { degenerate: string; items: unknown[] };
    expect(named.flat1.analysis!.perceptualHash).toBe(named.flat2.analysis!.perceptualHash);
    expect(flat).toMatchObject({ degenerate: 'all zeros', items: [] });
    const failed = await fetch(`${host.apiUrl}/images/${named.broken.id}/similar`);
    expect(failed.status).toBe(409);
    expect(((await failed.json()) as { type: string }).type).toBe('urn:image-pipeline:problem:image-not-analysed');
    expect((await fetch(`${host.apiUrl}/images/${named.a.id}/similar?maxDistance=9`)).status).toBe(400);
  });

  it('exports Parquet that DuckDB reads back with the expected rows and no personal field', async () => {
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    const lines: string[] = [];
    const port = String(new URL(host.apiUrl).port);
    expect(await runExportCommand(['--from', today, '--out', out, '--local-port', port], io, {})).toBe(0);
    expect(lines.join('')).toContain(`${today}: 10 images, 1 batches`);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const read = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJS();
    const facts = await read(`SELECT * FROM read_parquet('${out}/facts/*/*.parquet', hive_partitioning = true)`);
    const docs = await allImages(host);
    expect(facts.map((f) => f.image_id).sort()).toEqual(docs.map((d) => d.id).sort());
    for (const doc of docs) {
      const row = facts.find((f) => f.image_id === doc.id)!;
      expect(row).toMatchObject({ status: doc.status, bytes: BigInt(doc.source.bytes), batch_id: doc.batchId ?? null, date: expect.anything() });
      if (doc.status === 'succeeded') expect(row).toMatchObject({ format: doc.metadata!.format, width: doc.metadata!.width, perceptual_hash: doc.analysis!.perceptualHash });
      // Nothing that names or traces the person's file.
      const values = JSON.stringify(Object.values(row), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      for (const personal of [doc.source.fileName, doc.source.sha256, doc.source.blob].filter((v): v is string => Boolean(v) && v !== doc.id)) expect(values).not.toContain(personal);
    }
    const columns = Object.keys(facts[0]);
    for (const forbidden of ['file_name', 'filename', 'camera', 'make', 'model', 'taken_at', 'captured_at', 'url', 'sha256', 'source']) {
      expect(columns.filter((c) => c.includes(forbidden)), forbidden).toEqual([]);
    }
    const batches = await read(`SELECT * FROM read_parquet('${out}/batches/*/*.parquet')`);
    expect(batches).toMatchObject([{ batch_id: batchId, status: 'completed', item_count: 3, succeeded: 2, failed: 1, duplicate_groups: 0 }]);

    // Rewriting the day replaces it (still one file, the same rows).
    expect(await runExportCommand(['--to', today, '--out', out, '--local-port', port], io, {})).toBe(0);
    expect((await read(`SELECT count(*) AS n FROM read_parquet('${out}/facts/*/*.parquet')`))[0].n).toBe(10n);
  });

  it('answers the saved queries with DuckDB', async () => {
    const results: Record<string, string> = {};
    for (const name of Object.keys(SAVED_QUERIES)) {
      let text = '';
      const io = { out: (t: string) => (text += t), err: () => undefined };
      expect(await runAnalyticsCommand(['--dir', out, '--saved', name], io, {}), name).toBe(0);
      results[name] = text;
    }
    expect(results['daily-volume']).toMatch(new RegExp(`${today}\\s+10\\s+8\\s+2`));
    expect(results['top-failure-reasons']).toMatch(/undecodable\s+1/);
    expect(results['duplicate-rate']).toMatch(/^2\s+8\s+0\.25\s+2$/m);
    expect(results['success-by-format']).toMatch(/png\s+4\s+0\.75/); // flat-1, flat-2, c-copy, broken (sniffed as PNG)
  });

  it("exports the changed days into the local host's analytics container, where analytics finds them", async () => {
    const port = String(new URL(host.apiUrl).port);
    let text = '';
    const io = { out: (t: string) => (text += t), err: (t: string) => (text += t) };
    expect(await runExportCommand(['--local-port', port], io, {})).toBe(0);
    expect(text).toContain(`${today}: 10 images, 1 batches`);
    text = '';
    expect(await runAnalyticsCommand(['--saved', 'daily-volume', '--local-port', port], io, {})).toBe(0);
    expect(text).toContain('Read 2 file(s) from blob container analytics');
    expect(text).toMatch(new RegExp(`${today}\\s+10\\s+8\\s+2`));
  });
});
