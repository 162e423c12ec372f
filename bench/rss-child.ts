// Processes one image once and reports this process's peak RSS, so each figure is independent of the others.
// Usage: node dist/bench/rss-child.js <sharp|jimp|floor|baseline> <file>
import { readFileSync } from 'node:fs';
import { ENGINES } from '../src/lib/images/engines';
import { processImage } from '../src/lib/processing/process-image';
import { BENCH_LIMITS, baselineThumbnail, sameOutputFloor } from './images';
import { peakRssMb } from './measure';

async function main(): Promise<void> {
  const [what, file] = process.argv.slice(2);
  const bytes = readFileSync(file);
  const startMb = peakRssMb();
  if (what === 'baseline') await baselineThumbnail(bytes);
  else if (what === 'floor') await sameOutputFloor(bytes);
  else if (what === 'sharp' || what === 'jimp') await processImage(bytes, ENGINES[what], BENCH_LIMITS);
  else throw new Error(`unknown subject "${what}"`);
  process.stdout.write(JSON.stringify({ what, startMb, peakMb: peakRssMb() }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
