// `npm run bench`: each benchmark in turn. Keep this a short list of awaited calls.
import { benchBatch } from './batch';
import { benchBridge } from './bridge';
import { benchImages } from './images';

async function main(): Promise<void> {
  await benchImages();
  await benchBatch();
  await benchBridge();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
