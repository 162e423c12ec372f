import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, table, target } from './measure';
import { bilevelBmp } from './photo';
import { startServerProcess, type ServerProcess } from './server-process';

const STATIC = '/web/upload.html';
const BMPS = 4;

/**
 * One static request's latency. A connection the host closed while its event loop was held (keep-alive timeout) can
 * reset the request: it is sent again and the time counts from the first try.
 */
async function staticLatency(host: ServerProcess): Promise<number> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${host.url}${STATIC}`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET ${STATIC} answered ${response.status}`);
      return performance.now() - started;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Static requests one after another, 10 ms apart, until `until` resolves (or `count` of them when idle). */
async function sample(host: ServerProcess, until: Promise<unknown> | number): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  if (typeof until !== 'number') until.finally(() => (done = true)).catch(() => undefined);
  while (typeof until === 'number' ? latencies.length < until : !done) {
    latencies.push(await staticLatency(host));
    await sleep(10);
  }
  return latencies;
}

/** Azurite and the Cosmos stand-in, each in a process of its own, as the host's configured connections. */
async function emulatorProcesses(): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const azurite = await startServerProcess('azurite');
  const cosmos = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'local', 'cosmos-standin-main.js')], {
    env: { ...process.env, COSMOS_STANDIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const connection = await new Promise<string>((resolve, reject) => {
    let output = '';
    cosmos.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /COSMOS_CONNECTION=(\S+)/.exec(output);
      if (found) resolve(found[1]);
    });
    cosmos.once('exit', (code) => reject(new Error(`the Cosmos stand-in exited (${code})`)));
  });
  return {
    env: { AzureWebJobsStorage: azurite.url, COSMOS_CONNECTION: connection },
    async stop() {
      const gone = new Promise((resolve) => cosmos.once('exit', resolve));
      cosmos.kill();
      await Promise.all([gone, azurite.stop()]);
    },
  };
}

/**
 * Whether the event loop stays free while images decode: a static page's latency idle, and while four 7000x7000
 * 1-bit BMPs (6 MB each, 196 MB of pixels decoded) are uploaded and processed by the blob trigger, per engine; on the
 * host as `npm start` runs it (the target), and again with the emulators in processes of their own.
 */
export async function benchResponsiveness(): Promise<void> {
  const bmp = bilevelBmp(7000, 7000, 7);
  const rows: string[][] = [];
  const p99s: Array<[string, number]> = [];
  const setups = [
    { name: 'host', emulators: false },
    { name: 'host, emulators apart', emulators: true },
  ];
  for (const { name, emulators } of setups) for (const engine of ['sharp', 'jimp']) {
    const apart = emulators ? await emulatorProcesses() : undefined;
    const host = await startServerProcess('host', { BLOB_WATCH_INTERVAL_MS: '50', IMAGE_ENGINE: engine, ...apart?.env });
    try {
      await host.reset();
      const idle = await sample(host, 100);
      const idleLoop = (await host.stats()).loopDelayMs;
      await host.reset();
      let refused = 0;
      const ids = await Promise.all(
        Array.from({ length: BMPS }, async () => {
          // An upload can be cut off while a decode holds the event loop (its body timeout fires): counted, sent again.
          for (;;) {
            const response = await fetch(`${host.url}/images`, { method: 'POST', body: bmp, headers: { 'content-type': 'image/bmp' } }).catch((error: Error) => error);
            if (!(response instanceof Error) && response.status === 202) return ((await response.json()) as { id: string }).id;
            if (++refused > 3 * BMPS) throw new Error(`POST /api/images failed: ${response instanceof Error ? response.message : response.status}`);
          }
        }),
      );
      if (refused) console.log(`${engine}: ${refused} BMP uploads were cut off while other BMPs decoded, and sent again`);
      const processed = Promise.all(
        ids.map(async (id) => {
          for (;;) {
            const response = await fetch(`${host.url}/images/${id}`).catch(() => undefined); // reset: asked again
            const doc = response ? ((await response.json()) as { status: string; error?: { reason: string } }) : { status: 'unknown' };
            if (doc.status === 'failed') throw new Error(`the BMP failed: ${doc.error?.reason}`);
            if (doc.status === 'succeeded') return;
            await sleep(250);
          }
        }),
      );
      const started = performance.now();
      const busy = await sample(host, processed);
      await processed;
      const busyLoop = (await host.stats()).loopDelayMs;
      const seconds = (performance.now() - started) / 1000;
      const row = (label: string, latencies: number[], loop: { p99: number; max: number }) =>
        [name, engine, label, String(latencies.length), percentile(latencies, 50).toFixed(1), percentile(latencies, 99).toFixed(1), Math.max(...latencies).toFixed(1), loop.p99.toFixed(1), loop.max.toFixed(1)];
      rows.push(row('idle', idle, idleLoop), row(`${BMPS} BMPs decoding (${seconds.toFixed(1)} s)`, busy, busyLoop));
      // The target is the host as `npm start` runs it; the other setup only shows what is left without the emulators.
      if (!emulators) p99s.push([engine, percentile(busy, 99)]);
    } finally {
      await host.stop();
      await apart?.stop();
    }
  }
  console.log(`\n# Event loop: GET /api${STATIC} latency (wall) while ${BMPS} 7000x7000 1-bit BMPs are uploaded and processed`);
  console.log("with the host's event-loop delay (perf_hooks.monitorEventLoopDelay) over the same time; idle is the floor on this machine.");
  console.log('"emulators apart": Azurite and the Cosmos stand-in in processes of their own (as Azure has them), so what is left is');
  console.log("the host's own work: HTTP, the SDK clients and image processing");
  console.log(table(['setup', 'engine', 'while', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'loop delay p99 ms', 'loop delay max ms'], rows, 3));
  for (const [engine, p99] of p99s) target({ what: `static request p99 while ${BMPS} large BMPs decode (${engine})`, measured: p99, limit: 50, unit: ' ms' });
}
