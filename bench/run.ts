// `npm run bench`: each benchmark in turn. Keep this a short list of awaited calls.
import { benchBatch } from './batch';
import { benchBridge } from './bridge';
import { benchExport } from './export';
import { benchImages } from './images';
import { benchNearDuplicates } from './near-duplicates';

async function main(): Promise<void> {
  await benchImages();
  await benchBatch();
  await benchBridge();
  await benchExport();
  await benchNearDuplicates();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
