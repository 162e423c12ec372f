// `npm run bench`: each benchmark in turn. Keep this a short list of awaited calls.
import { benchImages } from './images';

async function main(): Promise<void> {
  await benchImages();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
