import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/lib/config';
import { ENGINES } from '../src/lib/images/engines';
import type { ImageLimits } from '../src/lib/images/validate';
import { processImage } from '../src/lib/processing/process-image';
import { cpuMs, median, table, target } from './measure';
import { photoLike } from './photo';

/** Roomy enough for the 24 MP image; the pixel limit is the app's default. */
export const BENCH_LIMITS: ImageLimits = { maxBytes: 200 * 1024 * 1024, maxPixels: loadConfig({}).maxImagePixels };

const fitInside = (side: number) => ({ width: side, height: side, fit: 'inside' as const, withoutEnlargement: true });

/** The old reference: sharp alone decoding and making only the 256 px thumbnail (libvips shrinks a JPEG on load by 8). */
export const baselineThumbnail = (bytes: Buffer): Promise<Buffer> => sharp(bytes).resize(fitInside(256)).jpeg({ quality: 80 }).toBuffer();

/**
 * The floor for the same outputs of an opaque image: sharp alone decoding once (oriented, scaled to the 1024 px
 * preview) to 3-channel RGB and encoding both derivatives from those pixels, the 256 px thumbnail resized from the
 * preview as processImage does. No validation, EXIF, analysis or alpha handling.
 */
export async function sameOutputFloor(bytes: Buffer): Promise<Buffer[]> {
  const { data, info } = await sharp(bytes).autoOrient().resize(fitInside(1024)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  return Promise.all([sharp(data, raw).jpeg({ quality: 80 }).toBuffer(), sharp(data, raw).resize(fitInside(256)).jpeg({ quality: 80 }).toBuffer()]);
}

/** CPU milliseconds one call takes (this process, every thread). */
export async function cpuOf(run: () => Promise<unknown>): Promise<number> {
  const before = cpuMs();
  await run();
  return cpuMs() - before;
}

interface Alternative {
  name: string;
  run: (bytes: Buffer) => Promise<unknown>;
}

// Enough that a median holds still on a 2-core machine that other builds keep busy.
const ROUNDS = 15;
/** jimp is ~20x slower than sharp. */
const JIMP_ROUNDS = 5;

const run = promisify(execFile);

/**
 * Per-image CPU time for a 12 MP JPEG and a 1 MP PNG: processImage (sharp) against the same-output floor and the
 * 256 px baseline, all interleaved round by round in this process (so load from other work on the machine falls on
 * each alike); processImage with jimp in a process of its own, as production runs one engine per process (jimp's
 * worker threads and their garbage would otherwise be collected during, and counted in, the sharp figures); then
 * peak RSS for a 24 MP JPEG, one child process each.
 */
export async function benchImages(): Promise<void> {
  console.log('# Single-image processing (CPU time of this process, every thread)');
  console.log(`node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ${sharp.concurrency()} libvips threads`);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-images-'));
  try {
    const subjects = [
      { label: '12 MP JPEG (4000x3000)', bytes: await photoLike(4000, 3000, 'jpeg', 12), file: path.join(dir, '12mp.jpg') },
      { label: '1 MP PNG (1000x1000)', bytes: await photoLike(1000, 1000, 'png', 1), file: path.join(dir, '1mp.png') },
    ];
    const alternatives: Alternative[] = [
      { name: 'floor: one decode, both JPEGs (sharp alone)', run: sameOutputFloor },
      { name: 'baseline: 256 px thumbnail only (sharp alone)', run: baselineThumbnail },
      { name: 'processImage, sharp (default)', run: (bytes: Buffer) => processImage(bytes, ENGINES.sharp, BENCH_LIMITS) },
    ];
    const rows: string[][] = [];
    const ratios: Array<[string, number]> = [];
    const floors: number[] = [];
    const baselines: number[] = [];
    for (const { label, bytes } of subjects) {
      for (const alternative of alternatives) await alternative.run(bytes); // warm-up
      const samples = new Map<string, number[]>(alternatives.map((a) => [a.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        // A different one goes first each round.
        for (let k = 0; k < alternatives.length; k++) {
          const alternative = alternatives[(round + k) % alternatives.length];
          samples.get(alternative.name)!.push(await cpuOf(() => alternative.run(bytes)));
        }
      }
      const floor = median(samples.get(alternatives[0].name)!);
      const baseline = median(samples.get(alternatives[1].name)!);
      floors.push(floor);
      baselines.push(baseline);
      for (const alternative of alternatives) {
        const ms = median(samples.get(alternative.name)!);
        rows.push([label, alternative.name, ms.toFixed(1), (ms / floor).toFixed(2), (ms / baseline).toFixed(2)]);
      }
      ratios.push([label, median(samples.get(alternatives[2].name)!) / floor]);
    }
    for (const { bytes, file } of subjects) writeFileSync(file, bytes);
    const { stdout } = await run(process.execPath, [path.join(__dirname, 'engine-child.js'), 'jimp', String(JIMP_ROUNDS), ...subjects.map((s) => s.file)]);
    const jimpMs = JSON.parse(stdout) as number[];
    subjects.forEach(({ label }, i) => {
      const at = rows.findIndex((row) => row[0] === label) + alternatives.length;
      rows.splice(at, 0, [label, 'processImage, jimp (a process of its own)', jimpMs[i].toFixed(1), (jimpMs[i] / floors[i]).toFixed(2), (jimpMs[i] / baselines[i]).toFixed(2)]);
    });
    console.log(`${subjects.map((s) => `${s.label}: ${(s.bytes.length / 1024 / 1024).toFixed(2)} MB`).join(', ')}`);
    console.log(`median CPU ms of ${ROUNDS} interleaved rounds (jimp: ${JIMP_ROUNDS} rounds in its own process) after a warm-up; processImage = validate, decode, EXIF, analysis, thumbnail + preview JPEGs\n`);
    console.log(table(['image', 'what', 'CPU ms', 'x floor', 'x baseline'], rows));
    for (const [label, ratio] of ratios) target({ what: `processImage (sharp) / same-output floor, ${label}`, measured: ratio, limit: 1.15, unit: 'x' });

    console.log('\n# Peak RSS, 24 MP JPEG (6000x4000), one child process each');
    const file = path.join(dir, '24mp.jpg');
    writeFileSync(file, await photoLike(6000, 4000, 'jpeg', 24));
    const rssRows: string[][] = [];
    let sharpPeak = NaN;
    for (const engine of ['floor', 'baseline', ...Object.keys(ENGINES)]) {
      const { stdout } = await run(process.execPath, [path.join(__dirname, 'rss-child.js'), engine, file]);
      const { peakMb, startMb } = JSON.parse(stdout) as { peakMb: number; startMb: number };
      const name = engine === 'floor' || engine === 'baseline' ? `${engine} (sharp alone)` : `processImage, ${engine}${engine === 'sharp' ? ' (default)' : ''}`;
      rssRows.push(['24 MP JPEG', name, startMb.toFixed(0), peakMb.toFixed(0)]);
      if (engine === 'sharp') sharpPeak = peakMb;
    }
    console.log(table(['image', 'what', 'RSS before MB', 'peak RSS MB'], rssRows));
    target({ what: 'peak RSS processing a 24 MP JPEG (sharp, fresh process)', measured: sharpPeak, limit: 150, unit: ' MB' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
