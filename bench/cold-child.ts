// One cold start: this fresh process loads what it needs, processes one image and reports the CPU time it used from
// process start (Node's own start-up included) to the finished image.
// Usage: node dist/bench/cold-child.js <app|sharp> <file>
// Everything is required inside the branch, so the `sharp` run never loads the app's modules.
import { readFileSync } from 'node:fs';

async function main(): Promise<void> {
  const [what, file] = process.argv.slice(2);
  const bytes = readFileSync(file);
  if (what === 'app') {
    const { processImage } = require('../src/lib/processing/process-image') as typeof import('../src/lib/processing/process-image');
    const { ENGINES } = require('../src/lib/images/engines') as typeof import('../src/lib/images/engines');
    await processImage(bytes, ENGINES.sharp, { maxBytes: bytes.length, maxPixels: 50_000_000 });
  } else if (what === 'sharp') {
    // The same work as the same-output floor in images.ts, with nothing else loaded.
    const sharp = require('sharp') as typeof import('sharp');
    const fit = (side: number) => ({ width: side, height: side, fit: 'inside' as const, withoutEnlargement: true });
    const { data, info } = await sharp(bytes).autoOrient().resize(fit(1024)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
    await Promise.all([sharp(data, raw).jpeg({ quality: 80 }).toBuffer(), sharp(data, raw).resize(fit(256)).jpeg({ quality: 80 }).toBuffer()]);
  } else {
    throw new Error(`unknown subject "${what}"`);
  }
  const { user, system } = process.cpuUsage();
  process.stdout.write(JSON.stringify({ what, cpuMs: (user + system) / 1000 }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
