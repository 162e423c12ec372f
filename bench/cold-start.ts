import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { median, table, target } from './measure';
import { photoLike } from './photo';

const RUNS = 7;

async function coldRun(what: 'app' | 'sharp', file: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, 'cold-child.js'), what, file]);
  return (JSON.parse(stdout) as { cpuMs: number }).cpuMs;
}

/**
 * Cold start: a fresh Node process from its start to the first processed image (a 12 MP JPEG), with the app's
 * processing modules (processImage and the default sharp engine) against sharp alone doing the same-output floor's
 * work. CPU time of each child, alternating, median of RUNS each.
 */
export async function benchColdStart(): Promise<void> {
  console.log('\n# Cold start: process start to first processed image (12 MP JPEG), CPU time of a fresh process');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-cold-'));
  try {
    const file = path.join(dir, '12mp.jpg');
    writeFileSync(file, await photoLike(4000, 3000, 'jpeg', 12));
    const samples = { app: [] as number[], sharp: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      for (const what of run % 2 ? (['app', 'sharp'] as const) : (['sharp', 'app'] as const)) samples[what].push(await coldRun(what, file));
    }
    const sharpMs = median(samples.sharp);
    const appMs = median(samples.app);
    console.log(
      table(
        ['what', 'CPU ms', 'x sharp alone'],
        [
          ['sharp alone (require sharp, floor pipeline)', sharpMs.toFixed(0), '1.00'],
          ['app (require processImage + engines, processImage)', appMs.toFixed(0), (appMs / sharpMs).toFixed(2)],
        ],
        1,
      ),
    );
    target({ what: 'cold start to first image / sharp alone', measured: appMs / sharpMs, limit: 1.3, unit: 'x' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
