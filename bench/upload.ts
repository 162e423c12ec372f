import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BlobServiceClient } from '@azure/storage-blob';
import { percentile, table, target } from './measure';
import { photoLike } from './photo';
import { startServerProcess, type ServerProcess } from './server-process';

const CONCURRENCY = 16;
const PER_ROUND = 300;
const ROUNDS = 3;

interface Round {
  cpuMs: number;
  /** Of cpuMs, the host's embedded emulators' thread (0 for Azurite alone, which is all emulator). */
  emulatorsCpuMs: number;
  wallMs: number;
  latencies: number[];
}

/** PER_ROUND requests, CONCURRENCY at a time; the server's CPU time over the round and each request's latency. */
async function round(server: ServerProcess, send: (i: number) => Promise<void>): Promise<Round> {
  const before = await server.stats();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PER_ROUND) {
        const i = next++;
        const t = performance.now();
        await send(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const after = await server.stats();
  return { cpuMs: after.cpuMs - before.cpuMs, emulatorsCpuMs: (after.emulatorsCpuMs ?? 0) - (before.emulatorsCpuMs ?? 0), wallMs, latencies };
}

/**
 * Upload API against its floor: POST /api/images of ~200 KB JPEGs at concurrency 16 on the local host, against the
 * same bytes PUT straight into Azurite (the SDK's uploadData), each server in its own process, rounds alternating.
 * Throughput is compared by the server processes' CPU time per request (the machine is shared: wall time is noise);
 * p99 is wall latency seen by the client. The blob watcher is slowed to once an hour, so the host's figure is the
 * upload alone (processing is measured by the other benchmarks): at once a minute, a run slowed past a minute by a
 * loaded machine had the host process the uploads of the earlier rounds during the later ones.
 */
export async function benchUpload(): Promise<void> {
  const images = await Promise.all(Array.from({ length: 8 }, (_, i) => photoLike(1280, 960, 'jpeg', 300 + i)));
  const azurite = await startServerProcess('azurite');
  const host = await startServerProcess('host', { BLOB_WATCH_INTERVAL_MS: '3600000' });
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.url).getContainerClient('uploads');
    await container.createIfNotExists();
    const putRaw = async (i: number) => {
      await container.getBlockBlobClient(randomUUID()).uploadData(images[i % images.length], { blobHTTPHeaders: { blobContentType: 'image/jpeg' } });
    };
    const postApi = async (i: number) => {
      const response = await fetch(`${host.url}/images`, { method: 'POST', body: images[i % images.length], headers: { 'content-type': 'image/jpeg' } });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`POST /api/images answered ${response.status}`);
    };
    await round(azurite, putRaw); // warm-up
    await round(host, postApi);
    const raw: Round[] = [];
    const api: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw.push(await round(azurite, putRaw));
      api.push(await round(host, postApi));
    }
    const sum = (rounds: Round[], key: 'cpuMs' | 'emulatorsCpuMs' | 'wallMs') => rounds.reduce((total, r) => total + r[key], 0);
    const count = ROUNDS * PER_ROUND;
    const row = (name: string, rounds: Round[], emulators: string) => {
      const latencies = rounds.flatMap((r) => r.latencies);
      return [name, (sum(rounds, 'cpuMs') / count).toFixed(2), emulators, ((count * 1000) / sum(rounds, 'wallMs')).toFixed(0), percentile(latencies, 50).toFixed(1), percentile(latencies, 99).toFixed(1)];
    };
    const bytes = images.reduce((total, image) => total + image.length, 0) / images.length;
    console.log(`\n# Upload API vs raw Azurite PUT: ~${Math.round(bytes / 1024)} KB JPEGs, concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds of ${PER_ROUND}`);
    console.log(
      table(
        ['what', 'server CPU ms/request', 'of it, the emulators thread', 'requests/s (wall)', 'p50 ms', 'p99 ms'],
        [row('raw PUT into Azurite', raw, 'all'), row('POST /api/images (local host)', api, (sum(api, 'emulatorsCpuMs') / count).toFixed(2))],
        1,
      ),
    );
    const p99 = (rounds: Round[]) => percentile(rounds.flatMap((r) => r.latencies), 99);
    target({ what: 'upload API throughput / raw Azurite PUT (server CPU per request)', measured: sum(raw, 'cpuMs') / sum(api, 'cpuMs'), limit: 0.6, atLeast: true, unit: 'x' });
    target({ what: 'upload API p99 / raw Azurite PUT p99', measured: p99(api) / p99(raw), limit: 2, unit: 'x' });
  } finally {
    await Promise.all([azurite.stop(), host.stop()]);
  }
}
