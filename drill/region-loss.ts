// A disaster recovery drill that runs on one machine: region A (a local host with its own storage and Cosmos DB
// stand-in, persisted in a folder) takes uploads and batches and is backed up to cold storage (image-pipeline backup);
// then region A is lost (the host and its stores stopped); region B (a second local host with empty stores) is started
// from a restore of the latest backup (image-pipeline restore), takes the rest of an in-flight batch from its producer,
// and the batch that ended there with failures is re-run (POST /api/batches/{id}/retry) once its images are copied
// from region A's storage replica. It measures the recovery point and the recovery time. `npm run drill` prints them;
// test/dr/drill.test.ts checks them.
import { BlobServiceClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { APP_CONTAINERS, documentStoreFor } from '../src/cli/backup-stores';
import { runCli } from '../src/cli/cli';
import { appFields, type Document } from '../src/lib/backup/document-store';
import { isoOf } from '../src/lib/backup/manifest';
import { buildRecord } from '../src/lib/batch/record';
import type { Logger } from '../src/lib/logger';
import { BLOB_CONTAINERS } from '../src/lib/names';
import { startAzurite } from '../src/local/azurite';
import { startLocalHost, type LocalHost } from '../src/local/host';

export interface DrillResult {
  /** When region A was lost, and what the latest backup reaches (the recovery point). */
  lossAt: Date;
  recoveryPoint: Date;
  /** Documents region A had that region B does not (`<container>/<id>`), and the upload made after the last backup. */
  lost: string[];
  uploadAfterBackup: string;
  restored: number;
  /** From the loss to region B serving the restored data; and its parts. */
  recoverySeconds: number;
  hostStartSeconds: number;
  restoreSeconds: number;
  /** The batch in flight at the loss: how it ended in region B, and after the re-run. */
  inFlight: { id: string; ended: BatchState; rerun: BatchState; rerunSeconds: number };
  lines: string[];
}

interface BatchState {
  status: string;
  succeeded: number;
  failed: number;
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const seconds = (from: number, to: number) => Math.round((to - from) / 100) / 10;

const image = (hue: number) =>
  sharp({ create: { width: 48, height: 32, channels: 3, background: { r: hue, g: 255 - hue, b: (hue * 7) % 256 } } })
    .png()
    .toBuffer();

async function cli(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (text) => (out += text), err: (text) => (err += text) });
  if (code !== 0) throw new Error(`image-pipeline ${args[0]} exited ${code}: ${err || out}`);
  return out;
}

async function upload(host: LocalHost, hue: number): Promise<string> {
  const response = await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await image(hue)) });
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

async function batchState(host: LocalHost, id: string): Promise<BatchState & { received: number }> {
  const response = await fetch(`${host.apiUrl}/batches/${id}`);
  if (response.status !== 200) throw new Error(`GET batch ${id} answered ${response.status}`);
  return (await response.json()) as BatchState & { received: number };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`drill: ${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** What a backup made now, with a settle time of 1 s, can see: whatever was written before this returns. */
async function letSettle(): Promise<void> {
  const written = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) < written + 2) await sleep(50);
}

/** Every document of the region's Cosmos DB, by `<container>/<id>`. */
async function documents(host: LocalHost): Promise<Map<string, Document>> {
  const { store } = documentStoreFor({}, Number(new URL(host.apiUrl).port));
  const all = new Map<string, Document>();
  for (const container of APP_CONTAINERS) {
    let continuationToken: string | undefined;
    do {
      const page = await store.changed(container, { afterTs: 0, untilTs: 4_000_000_000 }, { limit: 500, continuationToken });
      for (const doc of page.documents) all.set(`${container.id}/${doc.id}`, appFields(doc));
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }
  return all;
}

export async function runRegionLossDrill(folder = mkdtempSync(join(tmpdir(), 'dr-drill-')), print: (line: string) => void = () => undefined): Promise<DrillResult> {
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    print(line);
  };
  const cold = join(folder, 'cold-storage');
  const regionA = join(folder, 'region-a');
  const env = (storage: string) => ({ PORT: '0', LOCAL_STORAGE_PATH: storage, BLOB_WATCH_INTERVAL_MS: '100' });

  // Region A at work, backed up as a schedule would: a full backup, then an incremental one.
  const a = await startLocalHost(env(regionA), quiet);
  const portA = new URL(a.apiUrl).port;
  let lossAt = new Date();
  let before = new Map<string, Document>();
  let pending: ReturnType<typeof buildRecord>[] = [];
  let uploadAfterBackup = '';
  const batchId = `drill-${randomUUID()}`;
  try {
    for (const hue of [10, 90]) await upload(a, hue);
    await letSettle();
    await cli(['backup', '--to', cold, '--local-port', portA, '--settle-seconds', '1']);
    // A batch of 4 in flight: its producer has sent the first 2 records when the region is lost.
    const records = await Promise.all([0, 1, 2, 3].map(async (index) => buildRecord({ batchId, index, count: 4, fileName: `frame-${index}.png`, contentType: 'image/png', bytes: await image(40 + 50 * index) })));
    await a.services.batchStream!.publish(records.slice(0, 2));
    pending = records.slice(2);
    await until('the first records of the batch', async () => ((await batchState(a, batchId)).received === 2 ? true : undefined));
    await letSettle();
    const backup = await cli(['backup', '--to', cold, '--local-port', portA, '--settle-seconds', '1']);
    say(`region A: 2 uploads and 2 of 4 records of batch ${batchId} in, backed up to ${cold}`);
    say(`  ${backup.trim().split('\n').at(-1)}`);
    uploadAfterBackup = await upload(a, 170); // after the last backup: this one is lost
    before = await documents(a);
    lossAt = new Date();
  } finally {
    await a.stop();
  }
  say(`region A lost at ${lossAt.toISOString()}: its host, storage and Cosmos DB stopped`);

  // Region B: a host on empty stores, restored from the latest backup.
  const started = Date.now();
  const b = await startLocalHost(env(join(folder, 'region-b')), quiet);
  try {
    const hostStarted = Date.now();
    const portB = new URL(b.apiUrl).port;
    const restore = await cli(['restore', '--from', cold, '--local-port', portB]);
    const recoveryPoint = new Date(/recovery point (\S+)/.exec(restore)![1]);
    const after = await documents(b);
    const someImage = [...after.values()].find((doc) => doc.type === 'image' && !doc.batchId)!;
    await until('region B serving the restored data', async () => ((await fetch(`${b.apiUrl}/images/${someImage.id}`)).status === 200 ? true : undefined));
    const serving = Date.now();
    const lost = [...before.keys()].filter((key) => !after.has(key) || JSON.stringify(after.get(key)) !== JSON.stringify(before.get(key))).sort();
    const rpo = seconds(recoveryPoint.getTime(), lossAt.getTime());
    say(`recovery point: ${isoOf(recoveryPoint.getTime() / 1000)}, ${rpo} s before the loss; lost: ${lost.length} document${lost.length === 1 ? '' : 's'} written after it (${lost.join(', ')})`);
    say(
      `recovery time: ${seconds(lossAt.getTime(), serving)} s from the loss to region B serving the restored data ` +
        `(host B started in ${seconds(started, hostStarted)} s, restore of ${after.size} documents in ${seconds(hostStarted, serving)} s)`,
    );

    // The in-flight batch: the producer sends the records region A never took to region B (through the Event Hubs
    // alias in Azure). The batch completes there, failing the 2 items whose images were stored in region A.
    await b.services.batchStream!.publish(pending);
    const ended = await until('the in-flight batch to end in region B', async () => {
      const state = await batchState(b, batchId);
      return ['completed', 'incomplete', 'failed'].includes(state.status) ? state : undefined;
    });
    say(`batch ${batchId}: ${ended.status} in region B, ${ended.succeeded} succeeded, ${ended.failed} failed (their images were in region A's storage)`);

    // Re-run it once those images are copied from region A's storage replica (RA-GZRS: readable from the secondary
    // endpoint while the primary region is down). Here: region A's storage folder, opened read-only.
    const rerunStarted = Date.now();
    const replica = await startAzurite(regionA);
    try {
      const from = BlobServiceClient.fromConnectionString(replica.connectionString).getContainerClient(BLOB_CONTAINERS.batches);
      const to = BlobServiceClient.fromConnectionString((b.services.config.storage as { value: string }).value).getContainerClient(BLOB_CONTAINERS.batches);
      for await (const blob of from.listBlobsFlat({ prefix: `${batchId}/` })) {
        await to.getBlockBlobClient(blob.name).uploadData(await from.getBlobClient(blob.name).downloadToBuffer());
      }
    } finally {
      await replica.stop();
    }
    const retry = await fetch(`${b.apiUrl}/batches/${batchId}/retry`, { method: 'POST' });
    if (retry.status !== 202) throw new Error(`retry answered ${retry.status}: ${await retry.text()}`);
    const rerun = await until('the re-run batch to end', async () => {
      const state = await batchState(b, batchId);
      return state.status !== 'processing' ? state : undefined;
    });
    const rerunSeconds = seconds(rerunStarted, Date.now());
    say(`batch ${batchId}: re-run (POST /api/batches/{id}/retry) after copying its images from region A's storage replica: ${rerun.status}, ${rerun.succeeded} succeeded, ${rerun.failed} failed, in ${rerunSeconds} s`);
    return {
      lossAt,
      recoveryPoint,
      lost,
      uploadAfterBackup,
      restored: after.size,
      recoverySeconds: seconds(lossAt.getTime(), serving),
      hostStartSeconds: seconds(started, hostStarted),
      restoreSeconds: seconds(hostStarted, serving),
      inFlight: { id: batchId, ended, rerun, rerunSeconds },
      lines,
    };
  } finally {
    await b.stop();
  }
}
