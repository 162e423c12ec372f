import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite } from '../../src/local/azurite';
import { startCosmosStandIn } from '../../src/local/cosmos-standin';
import type { BatchView } from '../batch/host';

/*
 * kill -9 of the local host, as `npm start` runs it (node dist/src/local/main.js) with LOCAL_STORAGE_PATH, and of
 * each embedded store right after it acknowledged a write. The children run the built code, so it is built first.
 */
const ROOT = resolve(__dirname, '../..');
const folders: string[] = [];
const children = new Set<ChildProcess>();

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
}, 240_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'crash-'));
  folders.push(path);
  return path;
}

/** Runs `script` (CommonJS, with ROOT and FOLDER defined) in a child process that kills itself with SIGKILL when done. */
async function runThenKill(script: string, storage: string): Promise<string> {
  const child = spawn(process.execPath, ['-e', `const ROOT = ${JSON.stringify(ROOT)}; const FOLDER = ${JSON.stringify(storage)};\n(async () => {\n${script}\nprocess.kill(process.pid, 'SIGKILL');\n})();`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const [, signal] = await once(child, 'exit');
  children.delete(child);
  expect(signal, output).toBe('SIGKILL');
  return output;
}

interface Host {
  api: string;
  output(): string;
  kill(): Promise<void>;
}

/** The local host in a child process, as `npm start` runs it after building. */
async function startHost(storage: string): Promise<Host> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOCAL_STORAGE_PATH: storage, BLOB_WATCH_INTERVAL_MS: '1000' };
  for (const name of ['KAFKA_BROKERS', 'AzureWebJobsStorage', 'COSMOS_CONNECTION']) delete env[name];
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/local/main.js')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // Generous: the machine may be busy with other test files (the kill test is about what survives, not how fast).
  const deadline = Date.now() + 180_000;
  let api: string | undefined;
  while (!(api = /HTTP API: (http:\/\/localhost:\d+\/api)\//.exec(output)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the local host did not start: ${output}`);
    await sleep(50);
  }
  return {
    api,
    output: () => output,
    kill: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    },
  };
}

describe('kill -9 with LOCAL_STORAGE_PATH', () => {
  it('Azurite keeps a blob it acknowledged just before the kill', async () => {
    const storage = await folder();
    await runThenKill(
      `const { startAzurite } = require(ROOT + '/dist/src/local/azurite.js');
       const { BlobServiceClient } = require('@azure/storage-blob');
       const azurite = await startAzurite(FOLDER);
       const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('kept');
       await container.create();
       await container.getBlockBlobClient('blob').upload('acknowledged', 12);`,
      storage,
    );
    const azurite = await startAzurite(storage);
    try {
      const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('kept').getBlockBlobClient('blob');
      expect((await blob.downloadToBuffer()).toString()).toBe('acknowledged');
    } finally {
      await azurite.stop();
    }
  });

  it('the Cosmos stand-in keeps every change it acknowledged just before the kill', async () => {
    const storage = await folder();
    await runThenKill(
      `const { startCosmosStandIn } = require(ROOT + '/dist/src/local/cosmos-standin.js');
       const { CosmosClient } = require('@azure/cosmos');
       const standIn = await startCosmosStandIn(0, FOLDER);
       const client = new CosmosClient({ connectionString: standIn.connectionString, connectionPolicy: { enableEndpointDiscovery: false } });
       const { database } = await client.databases.createIfNotExists({ id: 'db' });
       const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
       for (let i = 0; i < 4; i++) await container.items.create({ id: 'doc' + i, pk: 'p', n: i });
       await container.item('doc1', 'p').delete();
       await container.item('doc2', 'p').replace({ id: 'doc2', pk: 'p', n: 20 });
       await container.item('doc3', 'p').patch([{ op: 'incr', path: '/n', value: 30 }]);`,
      storage,
    );
    const standIn = await startCosmosStandIn(0, storage);
    try {
      const client = new CosmosClient({ connectionString: standIn.connectionString, connectionPolicy: { enableEndpointDiscovery: false } });
      const container = client.database('db').container('items');
      const { resources } = await container.items.query<{ id: string; n: number }>("SELECT c.id, c.n FROM c WHERE c.pk = 'p' ORDER BY c.id").fetchAll();
      expect(resources).toEqual([{ id: 'doc0', n: 0 }, { id: 'doc2', n: 20 }, { id: 'doc3', n: 33 }]);
      // New documents get new resource ids: the counter came back too.
      const { resource } = await container.items.create({ id: 'doc4', pk: 'p', n: 4 });
      const rids = (await container.items.query<{ _rid: string }>("SELECT c._rid FROM c WHERE c.pk = 'p'").fetchAll()).resources.map((r) => r._rid);
      expect(new Set(rids).size).toBe(4);
      expect(rids).toContain(resource!._rid);
    } finally {
      await standIn.stop();
    }
  });

  it('a 200-image batch survives kills of the local host during ingest and processing: completed, every item once', async () => {
    const storage = await folder();
    const form = new FormData();
    for (let i = 0; i < 200; i++) {
      const bytes = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: i, g: (i * 37) % 256, b: 255 - i } } }).jpeg().toBuffer();
      form.append('files', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), `image-${i}.jpg`);
    }
    const outputs: string[] = [];
    const views: Array<{ host: number; status: number; body: BatchView }> = [];
    let path = '';
    /** What happened, for a failure message: each host's first and last answers, and what each host printed. */
    const story = () =>
      `${JSON.stringify(views.filter((view, i) => i === 0 || i === views.length - 1 || views[i - 1].host !== view.host || views[i + 1].host !== view.host).map(({ host, status, body }) => ({ host, status, batch: status === 200 ? [body.status, body.received, body.processed] : body })))}\n${outputs.join('\n---\n')}`;
    const poll = async (host: number, api: string, until: (batch: BatchView) => boolean) => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const view = await fetch(`${api}${path}`).then(
          async (response) => ({ host, status: response.status, body: (await response.json()) as BatchView }),
          (error: Error) => ({ host, status: 0, body: { error: error.message } as unknown as BatchView }),
        );
        views.push(view);
        if (view.status === 200 && until(view.body)) return view.body;
        if (Date.now() > deadline) throw new Error(`no progress: ${story()}`);
        await sleep(50);
      }
    };

    // Host 1 accepts the batch and is killed as soon as the batch exists: during ingest.
    const first = await startHost(storage);
    const accepted = await fetch(`${first.api}/batches`, { method: 'POST', body: form });
    expect(accepted.status).toBe(202);
    path = new URL(accepted.headers.get('location')!).pathname.replace(/^\/api/, '');
    await poll(1, first.api, () => true);
    await first.kill();
    outputs.push(first.output());

    // Host 2 carries on, and is killed in the middle of processing.
    const second = await startHost(storage);
    const atKill = await poll(2, second.api, (batch) => batch.status === 'processing' && batch.processed >= 40);
    await second.kill();
    outputs.push(second.output());
    expect(atKill.processed, story()).toBeLessThan(200);

    // Host 3 finishes the batch.
    const third = await startHost(storage);
    const batch = await poll(3, third.api, (view) => view.status === 'completed').finally(() => outputs.push(third.output()));
    try {
      expect(batch, story()).toMatchObject({ itemCount: 200, received: 200, processed: 200, succeeded: 200, failed: 0 });
      expect(batch.summary!.counts).toEqual({ succeeded: 200, failed: 0, pending: 0 });
      const indexes: number[] = [];
      for (let next: string | undefined = `${third.api}${path}/items?limit=100`; next; ) {
        const page = (await (await fetch(next)).json()) as { items: Array<{ index: number; status: string }>; links?: { next?: string } };
        indexes.push(...page.items.map((item) => item.index));
        expect(page.items.every((item) => item.status === 'succeeded')).toBe(true);
        next = page.links?.next;
      }
      expect(indexes).toEqual(Array.from({ length: 200 }, (_, i) => i));
    } finally {
      await third.kill();
    }
    // After each restart the batch answered every time, and the orchestration started once and was resumed.
    expect(views.filter((view) => view.host > 1 && view.status !== 200), story()).toEqual([]);
    expect(outputs.join('\n').match(/all 200 items received; orchestration started/g), story()).toHaveLength(1);
    expect(outputs[2], story()).toMatch(/resuming \d+ orchestrations from their histories/);
  }, 900_000);
});
