import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/lib/config';
import type { ImageEngine } from '../src/lib/images/engine';
import { ENGINES } from '../src/lib/images/engines';
import type { ImageLimits } from '../src/lib/images/validate';
import { processImage } from '../src/lib/processing/process-image';
import { photoLike } from './photo';

/** Roomy enough for the 24 MP image; the pixel limit is the app's default. */
export const BENCH_LIMITS: ImageLimits = { maxBytes: 200 * 1024 * 1024, maxPixels: loadConfig({}).maxImagePixels };

/** The baseline: sharp alone decoding and making a 256 px JPEG thumbnail. */
export const baselineThumbnail = (bytes: Buffer): Promise<Buffer> =>
  sharp(bytes).resize({ width: 256, height: 256, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();

/** Full processing must stay within this many times the baseline with the default engine. */
const TARGET_RATIO = 2;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Median wall time of `iterations` runs after `warmup` unmeasured ones. */
async function time(run: () => Promise<unknown>, iterations: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))].join('\n');
}

interface Subject {
  label: string;
  bytes: Buffer;
}

/**
 * Per-image processing time for a 12 MP JPEG and a 1 MP PNG with each engine, as ratios to the sharp-thumbnail
 * baseline measured in the same run; then peak RSS for a 24 MP JPEG, one child process per engine.
 */
export async function benchImages(): Promise<void> {
  const defaultEngine = loadConfig({}).imageEngine;
  console.log('# Single-image processing');
  console.log(`node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${sharp.concurrency()} libvips threads`);
  const subjects: Subject[] = [
    { label: '12 MP JPEG (4000x3000)', bytes: await photoLike(4000, 3000, 'jpeg', 12) },
    { label: '1 MP PNG (1000x1000)', bytes: await photoLike(1000, 1000, 'png', 1) },
  ];
  const iterations = { baseline: 9, sharp: 9, jimp: 3 } as const;
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const { label, bytes } of subjects) {
    const baseline = await time(() => baselineThumbnail(bytes), iterations.baseline);
    rows.push([label, 'baseline (sharp 256 px thumbnail)', baseline.toFixed(1), '1.00']);
    for (const engine of Object.values(ENGINES) as ImageEngine[]) {
      const ms = await time(() => processImage(bytes, engine, BENCH_LIMITS), iterations[engine.name]);
      const ratio = ms / baseline;
      rows.push([label, `${engine.name}${engine.name === defaultEngine ? ' (default)' : ''}`, ms.toFixed(1), ratio.toFixed(2)]);
      if (engine.name === defaultEngine) {
        const verdict = ratio <= TARGET_RATIO ? 'PASS' : 'MISS';
        verdicts.push(`${verdict}  ${label}: ${defaultEngine} ${ratio.toFixed(2)}x the baseline (target <= ${TARGET_RATIO}x)`);
      }
    }
  }
  console.log(`${(subjects.map((s) => `${s.label}: ${(s.bytes.length / 1024 / 1024).toFixed(2)} MB`)).join(', ')}`);
  console.log(`median of ${iterations.sharp} runs (jimp ${iterations.jimp}) after one warm-up; full processing = validate, decode, EXIF, analysis, thumbnail + preview JPEGs\n`);
  console.log(table(['image', 'engine', 'median ms', 'x baseline'], rows));
  console.log('\nTarget, default engine: full processing within 2x of the baseline');
  for (const verdict of verdicts) console.log(verdict);

  console.log('\n# Peak RSS, 24 MP JPEG (6000x4000), one child process each');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-images-'));
  try {
    const file = path.join(dir, '24mp.jpg');
    writeFileSync(file, await photoLike(6000, 4000, 'jpeg', 24));
    const rssRows: string[][] = [];
    for (const engine of ['baseline', ...Object.keys(ENGINES)]) {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'rss-child.js'), engine, file]);
      const { peakMb, startMb } = JSON.parse(stdout) as { peakMb: number; startMb: number };
      const name = engine === 'baseline' ? 'baseline (sharp 256 px thumbnail)' : `${engine}${engine === defaultEngine ? ' (default)' : ''}`;
      rssRows.push(['24 MP JPEG', name, startMb.toFixed(0), peakMb.toFixed(0)]);
    }
    console.log(table(['image', 'engine', 'RSS before MB', 'peak RSS MB'], rssRows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
