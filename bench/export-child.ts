// Writes one day of fact rows once and reports this process's time and peak RSS, so each writer is measured alone.
// Usage: node dist/bench/export-child.js <export|ndjson|duckdb> <rows>
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exportDay, type ExportTarget } from '../src/lib/analytics/export';
import { imageFact, type ImageFact } from '../src/lib/analytics/facts';
import { MemoryAnalyticsStore } from '../src/lib/analytics/memory-analytics-store';
import { IMAGE_COLUMNS } from '../src/lib/analytics/parquet-schema';
import { queuedImage } from '../src/lib/results/image-document';

const DAY = '2024-05-01';

const peakRssMb = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

/** Realistic facts: varied sizes, formats, hashes, a batch for half of them, one in twenty failed. */
function facts(rows: number): ImageFact[] {
  return Array.from({ length: rows }, (_, i) => {
    const id = `${i.toString(16).padStart(8, '0')}-4d2b-4c6a-9f0e-1b2d4c6a3c5a`;
    const source = { container: 'uploads', blob: id, contentType: 'image/jpeg', bytes: 50_000 + ((i * 7919) % 5_000_000), sha256: '', uploadedAt: `${DAY}T10:00:00.000Z` };
    const doc = queuedImage({ id, partitionKey: id, source, ...(i % 2 ? { batchId: `batch-${i % 500}`, itemIndex: i } : {}) }, new Date(`${DAY}T10:00:00.000Z`));
    const hash = ((BigInt(i) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString(16).padStart(16, '0');
    return imageFact(
      i % 20 === 0
        ? { ...doc, status: 'failed', error: { reason: 'The PNG image cannot be decoded: bad data' }, processing: { engine: 'sharp', durationMs: 0, finishedAt: `${DAY}T10:00:01.000Z` } }
        : {
            ...doc,
            status: 'succeeded',
            metadata: { format: (['jpeg', 'png', 'webp'] as const)[i % 3], width: 1000 + (i % 3000), height: 800 + (i % 2000), bytes: source.bytes, hasAlpha: i % 7 === 0, orientation: 1 },
            analysis: { perceptualHash: hash, meanColour: '#7a6b5c', palette: [{ colour: '#2f3b45', share: 0.41 }, { colour: '#7a6b5c', share: 0.59 }], brightness: (i % 100) / 100, contrast: (i % 50) / 100, sharpness: (i % 1000) * 1.5 },
            processing: { engine: 'sharp', durationMs: 20 + (i % 500), finishedAt: `${DAY}T10:00:01.000Z` },
          },
    );
  });
}

async function main(): Promise<void> {
  const [writer, rowsArg] = process.argv.slice(2);
  const rows = facts(Number(rowsArg));
  let bytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (writer === 'export') {
    // What the daily job does for a day: read the facts from the store, write the Parquet file.
    const store = new MemoryAnalyticsStore();
    for (const fact of rows) await store.putFact(fact);
    const target: ExportTarget = { describe: 'memory', write: async (_path, data) => void (bytes += data.length), read: async () => undefined, list: async function* () {} };
    const timed = process.cpuUsage();
    const begun = performance.now();
    await exportDay(store, target, DAY);
    const used = process.cpuUsage(timed);
    process.stdout.write(JSON.stringify({ writer, wallMs: performance.now() - begun, cpuMs: (used.user + used.system) / 1000, bytes, peakMb: peakRssMb() }) + '\n');
    return;
  }
  if (writer === 'ndjson') {
    // The floor: the same rows and columns serialised as newline-delimited JSON, nothing else.
    bytes = Buffer.byteLength(rows.map((row) => JSON.stringify(Object.fromEntries(IMAGE_COLUMNS.map((c) => [c.name, c.value(row)])))).join('\n'));
  } else if (writer === 'duckdb') {
    // The alternative: DuckDB (native) converting the same NDJSON to Parquet.
    const file = join(tmpdir(), `bench-export-${process.pid}`);
    writeFileSync(`${file}.ndjson`, rows.map((row) => JSON.stringify(Object.fromEntries(IMAGE_COLUMNS.map((c) => [c.name, c.value(row)])))).join('\n'));
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    await connection.run(`COPY (SELECT * FROM read_json('${file}.ndjson')) TO '${file}.parquet' (FORMAT parquet)`);
    bytes = readFileSync(`${file}.parquet`).length;
    rmSync(`${file}.ndjson`);
    rmSync(`${file}.parquet`);
  } else throw new Error(`unknown writer "${writer}"`);
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ writer, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, bytes, peakMb: peakRssMb() }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
