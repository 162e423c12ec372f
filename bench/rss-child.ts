// Processes one image once and reports this process's peak RSS, so each engine's figure is independent of the others.
// Usage: node dist/bench/rss-child.js <sharp|jimp|baseline> <file>
import { readFileSync } from 'node:fs';
import { ENGINES } from '../src/lib/images/engines';
import { processImage } from '../src/lib/processing/process-image';
import { BENCH_LIMITS, baselineThumbnail } from './images';

/**
 * Peak RSS of this process in MB. On Linux, getrusage's maxRSS (process.resourceUsage().maxRSS) carries over the
 * parent's peak through fork + exec, so a child of a big process reports the parent's figure; /proc's VmHWM belongs
 * to this process's own address space. Elsewhere fall back to maxRSS (kilobytes).
 */
function peakRssMb(): number {
  try {
    const match = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function main(): Promise<void> {
  const [engine, file] = process.argv.slice(2);
  const bytes = readFileSync(file);
  const startMb = peakRssMb();
  if (engine === 'baseline') await baselineThumbnail(bytes);
  else if (engine === 'sharp' || engine === 'jimp') await processImage(bytes, ENGINES[engine], BENCH_LIMITS);
  else throw new Error(`unknown engine "${engine}"`);
  process.stdout.write(JSON.stringify({ engine, startMb, peakMb: peakRssMb() }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
