import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/lib/config';
import { ENGINES } from '../src/lib/images/engines';
import { processImage } from '../src/lib/processing/process-image';
import { cpuMs, table, target } from './measure';
import { photoLike } from './photo';
import { startServerProcess } from './server-process';

const BATCH_SIZE = 500;
const DISTINCT = 50;
/** The host's warm-up, as processImage alone gets one: its first batch also pays for compiling its code paths. */
const WARM_UP_SIZE = 50;

/**
 * `npm run bench` (batch): a 500-image batch (640x480 JPEGs) end to end on the local host (its own process, with the
 * in-process stream and the embedded emulators): POST /api/batches -> ingest -> orchestration -> summary, after a
 * 50-image batch that warms the host up as five images warm processImage up (its figure is printed too). The host's
 * CPU per image is compared with processImage alone on the same images (this process, sequential); the emulator
 * requests the host sent are counted at Node's HTTP client, per batch item.
 */
export async function benchBatch(): Promise<void> {
  const images = await Promise.all(Array.from({ length: DISTINCT }, (_, i) => photoLike(640, 480, 'jpeg', 100 + i)));
  const config = loadConfig({});
  const engine = ENGINES[config.imageEngine];
  const limits = { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels };

  for (const image of images.slice(0, 5)) await processImage(image, engine, limits); // warm-up
  const singleCpu = cpuMs();
  const singleStart = performance.now();
  for (const image of images) await processImage(image, engine, limits);
  const singleMs = (performance.now() - singleStart) / images.length;
  const singleCpuMs = (cpuMs() - singleCpu) / images.length;

  const host = await startServerProcess('host', { BLOB_WATCH_INTERVAL_MS: '5000' });
  /** POSTs a batch of `size` images and waits for the host to log its end: the host's CPU over it, wall times, log line. */
  const runBatch = async (size: number) => {
    const form = new FormData();
    for (let i = 0; i < size; i++) form.append('files', new Blob([new Uint8Array(images[i % DISTINCT])], { type: 'image/jpeg' }), `photo-${i}.jpg`);
    const before = await host.stats();
    const started = performance.now();
    const response = await fetch(`${host.url}/batches`, { method: 'POST', body: form });
    if (response.status !== 202) throw new Error(`POST /api/batches answered ${response.status}: ${await response.text()}`);
    const acceptedMs = performance.now() - started;
    const { id } = (await response.json()) as { id: string };
    // The host logs the end of a batch: waiting on that sends no request to the stores.
    const line = await host.waitForLog(`batch ${id} (completed|incomplete)`);
    return { before, after: await host.stats(), acceptedMs, totalMs: performance.now() - started, line };
  };
  try {
    const warmUp = await runBatch(WARM_UP_SIZE);
    const { before, after, acceptedMs, totalMs, line } = await runBatch(BATCH_SIZE);
    const cores = availableParallelism();
    const batchCpuMs = (after.cpuMs - before.cpuMs) / BATCH_SIZE;
    const perItem = (service: string) => ((after.requests[service] ?? 0) - (before.requests[service] ?? 0)) / BATCH_SIZE;
    const bytes = images.reduce((sum, image) => sum + image.length, 0) / images.length;
    console.log(`\n# Batch: ${BATCH_SIZE} x 640x480 JPEG (~${Math.round(bytes / 1024)} KB), engine ${engine.name}, ${cores} cores, local host in its own process`);
    console.log(`${line.replace(/^info: /, '')}`);
    console.log(
      table(
        ['figure', 'value'],
        [
          ['upload accepted (202), wall', `${(acceptedMs / 1000).toFixed(2)} s`],
          ['POST -> summary, wall', `${(totalMs / 1000).toFixed(2)} s`],
          ['throughput, wall', `${((BATCH_SIZE * 1000) / totalMs).toFixed(1)} images/s`],
          ['processImage alone, wall (sequential, one core)', `${singleMs.toFixed(1)} ms = ${(1000 / singleMs).toFixed(1)} images/s`],
          [`host CPU per image, its first batch (${WARM_UP_SIZE} images, the warm-up)`, `${((warmUp.after.cpuMs - warmUp.before.cpuMs) / WARM_UP_SIZE).toFixed(1)} ms`],
          ['host process CPU per image (emulators included)', `${batchCpuMs.toFixed(1)} ms`],
          ['  of it, the embedded emulators thread (Azurite, Cosmos stand-in)', `${(((after.emulatorsCpuMs ?? 0) - (before.emulatorsCpuMs ?? 0)) / BATCH_SIZE).toFixed(1)} ms`],
          ['processImage alone CPU per image', `${singleCpuMs.toFixed(1)} ms`],
          ['blob requests per item', perItem('blob').toFixed(2)],
          ['Cosmos requests per item', perItem('cosmos').toFixed(2)],
        ],
        1,
      ),
    );
    target({ what: 'local batch throughput / processImage alone (CPU per image)', measured: singleCpuMs / batchCpuMs, limit: 0.6, atLeast: true, unit: 'x' });
    target({ what: 'Cosmos requests per batch item', measured: perItem('cosmos'), limit: 2, unit: '' });
    target({ what: 'blob requests per batch item', measured: perItem('blob'), limit: 3, unit: '' });
  } finally {
    await host.stop();
  }
}
