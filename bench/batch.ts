import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/lib/config';
import { ENGINES } from '../src/lib/images/engines';
import type { Logger } from '../src/lib/logger';
import { processImage } from '../src/lib/processing/process-image';
import { startLocalHost } from '../src/local/host';
import { photoLike } from './photo';

const BATCH_SIZE = 500;
const DISTINCT = 50;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: (message) => console.error(message) };

/**
 * `npm run bench` (batch): a 500-image batch (640x480 JPEGs) end to end on the local host with the in-process stream:
 * POST /api/batches -> ingest -> orchestration -> summary. Parallel efficiency compares the wall time with the
 * ideal: the sum of single-image processImage times spread over every core.
 */
export async function benchBatch(): Promise<void> {
  const images = await Promise.all(Array.from({ length: DISTINCT }, (_, i) => photoLike(640, 480, 'jpeg', 100 + i)));
  const config = loadConfig({});
  const engine = ENGINES[config.imageEngine];
  const limits = { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels };

  await processImage(images[0], engine, limits); // warm-up
  const singleStart = performance.now();
  for (const image of images) await processImage(image, engine, limits);
  const singleMs = (performance.now() - singleStart) / images.length;

  const host = await startLocalHost({ PORT: '0', BLOB_WATCH_INTERVAL_MS: '5000' }, quiet);
  try {
    const form = new FormData();
    for (let i = 0; i < BATCH_SIZE; i++) form.append('files', new Blob([new Uint8Array(images[i % DISTINCT])], { type: 'image/jpeg' }), `photo-${i}.jpg`);
    const started = performance.now();
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    if (response.status !== 202) throw new Error(`POST /api/batches answered ${response.status}: ${await response.text()}`);
    const location = response.headers.get('location')!;
    const acceptedMs = performance.now() - started;
    let batch: { status: string; summary?: { counts: Record<string, number>; durationsMs: { p50: number; p95: number } } };
    for (;;) {
      batch = (await (await fetch(location)).json()) as typeof batch;
      if (batch.status === 'completed') break;
      if (performance.now() - started > 10 * 60_000) throw new Error('The benchmark batch did not complete in 10 minutes.');
      await sleep(100);
    }
    const totalMs = performance.now() - started;
    const cores = availableParallelism();
    const idealMs = (singleMs * BATCH_SIZE) / cores;
    const bytes = images.reduce((sum, image) => sum + image.length, 0) / images.length;
    console.log(`\nBatch: ${BATCH_SIZE} x 640x480 JPEG (~${Math.round(bytes / 1024)} KB), engine ${engine.name}, ${cores} cores, in-process stream`);
    console.log(`  upload accepted (202)            ${(acceptedMs / 1000).toFixed(2)} s`);
    console.log(`  end to end (POST -> summary)     ${(totalMs / 1000).toFixed(2)} s`);
    console.log(`  throughput                       ${((BATCH_SIZE * 1000) / totalMs).toFixed(1)} images/s`);
    console.log(`  single-image processImage        ${singleMs.toFixed(1)} ms (sequential, mean of ${DISTINCT})`);
    console.log(`  ideal (sum of singles / cores)   ${(idealMs / 1000).toFixed(2)} s`);
    console.log(`  parallel efficiency              ${((idealMs / totalMs) * 100).toFixed(0)} %`);
    console.log(`  summary                          ${JSON.stringify(batch.summary?.counts)}, item p50 ${batch.summary?.durationsMs.p50} ms, p95 ${batch.summary?.durationsMs.p95} ms`);
  } finally {
    await host.stop();
  }
}
