import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROWS = 100_000;
const RUNS = 3;

interface Sample {
  writer: string;
  wallMs: number;
  cpuMs: number;
  bytes: number;
  peakMb: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * `npm run bench` (export): one day of 100k fact rows to Parquet, each run in a fresh process for its peak RSS. The
 * export (hyparquet-writer, reading the facts from the store) against the floor of serialising the same rows as
 * NDJSON, and DuckDB's native writer for comparison; medians of 3, CPU ratios against the NDJSON floor.
 */
export async function benchExport(): Promise<void> {
  console.log(`\nAnalytics export: one day of ${ROWS.toLocaleString('en')} fact rows (median of ${RUNS} runs, each in a fresh process)`);
  const results: Record<string, Sample> = {};
  for (const writer of ['ndjson', 'export', 'duckdb']) {
    const samples: Sample[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'export-child.js'), writer, String(ROWS)], { maxBuffer: 1 << 20 });
      samples.push(JSON.parse(stdout) as Sample);
    }
    results[writer] = { writer, wallMs: median(samples.map((s) => s.wallMs)), cpuMs: median(samples.map((s) => s.cpuMs)), bytes: samples[0].bytes, peakMb: median(samples.map((s) => s.peakMb)) };
  }
  const floor = results.ndjson.cpuMs;
  const labels: Record<string, string> = { ndjson: 'NDJSON serialisation (floor)', export: 'export: hyparquet-writer (the app)', duckdb: 'DuckDB native COPY to Parquet' };
  console.log('  writer                                 wall ms   CPU ms   vs floor   output      peak RSS');
  for (const r of Object.values(results)) {
    console.log(`  ${labels[r.writer].padEnd(38)} ${r.wallMs.toFixed(0).padStart(7)}  ${r.cpuMs.toFixed(0).padStart(7)}   ${(r.cpuMs / floor).toFixed(1).padStart(6)}x   ${(r.bytes / 1024 / 1024).toFixed(1).padStart(6)} MB   ${r.peakMb.toFixed(0).padStart(5)} MB`);
  }
}
