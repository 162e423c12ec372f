// Measures processImage with one engine in a process of its own, as production runs one engine per process
// (IMAGE_ENGINE): jimp's workers and the heap they leave behind then cost nothing to the figures of the other engine.
// Usage: node dist/bench/engine-child.js <sharp|jimp> <rounds> <file>...; prints the median CPU ms per file as JSON.
import { readFileSync } from 'node:fs';
import { ENGINES } from '../src/lib/images/engines';
import type { ImageEngine } from '../src/lib/images/engine';
import { processImage } from '../src/lib/processing/process-image';
import { BENCH_LIMITS, cpuOf } from './images';
import { median } from './measure';

async function main(): Promise<void> {
  const [name, rounds, ...files] = process.argv.slice(2);
  const engine = ENGINES[name as ImageEngine['name']];
  if (!engine) throw new Error(`unknown engine "${name}"`);
  const medians: number[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    await processImage(bytes, engine, BENCH_LIMITS); // warm-up
    const samples: number[] = [];
    for (let round = 0; round < Number(rounds); round++) samples.push(await cpuOf(() => processImage(bytes, engine, BENCH_LIMITS)));
    medians.push(median(samples));
  }
  process.stdout.write(JSON.stringify(medians) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
