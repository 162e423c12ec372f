// `npm run bench`: each benchmark in turn, then every issue target with its figure.
// `npm run bench -- images batch` runs only the named ones.
import { benchBatch } from './batch';
import { benchBatchMemory } from './batch-memory';
import { benchBridge } from './bridge';
import { benchColdStart } from './cold-start';
import { benchExport } from './export';
import { benchImages } from './images';
import { printTargets } from './measure';
import { benchNearDuplicates } from './near-duplicates';
import { benchResponsiveness } from './responsiveness';
import { benchUpload } from './upload';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  images: benchImages,
  'cold-start': benchColdStart,
  batch: benchBatch,
  upload: benchUpload,
  responsiveness: benchResponsiveness,
  'batch-memory': benchBatchMemory,
  bridge: benchBridge,
  export: benchExport,
  'near-duplicates': benchNearDuplicates,
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !BENCHMARKS[name]);
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; there are ${Object.keys(BENCHMARKS).join(', ')}`);
  for (const [name, run] of Object.entries(BENCHMARKS)) if (!chosen.length || chosen.includes(name)) await run();
  printTargets();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
