// The privacy promise end to end on the local host (embedded Azurite, Cosmos stand-in, in-process stream, local
// Durable backend, everything kept in LOCAL_STORAGE_PATH): single uploads and a batch carrying a distinctive file
// name, EXIF camera and capture time, a callback URL with a secret, rejected and unplaced records; then the host's own
// retention-sweep job, run as of RETENTION_DAYS + 1 hour later. Every blob container, every Cosmos document, the
// Durable histories and the host's files are scanned for all of it: found before, gone after, while the de-identified
// values stay.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, type OutgoingRecord } from '../../src/lib/batch/record';
import { RETENTION_SWEEP_JOB } from '../../src/lib/jobs/maintenance';
import type { RetentionSweepResult } from '../../src/lib/jobs/retention-sweep';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import type { ImageDocument } from '../../src/lib/results/image-document';
import { waitForBatch, type BatchView } from '../batch/host';
import { EXIF_FIXTURE, jpegWithExif, sampleImage } from '../support/images';
import { GPS_IFD_POINTER, readJpegMetadata } from '../support/jpeg-metadata';
import { startTestHost } from './local-host';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

type Host = Awaited<ReturnType<typeof startTestHost>>;

/** Everything the stores hold, as text, with where each piece was found. */
interface Holding {
  where: string;
  text: string;
  bytes?: Buffer;
}

/** Every blob of every container, with its name, metadata and content (snapshots and versions included). */
async function blobHoldings(host: Host): Promise<Holding[]> {
  const config = host.services.config.storage!;
  const service = BlobServiceClient.fromConnectionString(config.kind === 'connectionString' ? config.value : '');
  const found: Holding[] = [];
  for await (const container of service.listContainers()) {
    const client = service.getContainerClient(container.name);
    for await (const blob of client.listBlobsFlat({ includeMetadata: true, includeSnapshots: true, includeVersions: true })) {
      const bytes = await client.getBlobClient(blob.name).downloadToBuffer();
      found.push({ where: `blob ${container.name}/${blob.name}`, text: `${blob.name} ${JSON.stringify(blob.metadata ?? {})} ${bytes.toString('latin1')}`, bytes });
    }
  }
  return found;
}

/** Every document of every container of every database. */
async function cosmosHoldings(host: Host): Promise<Holding[]> {
  const config = host.services.config.cosmos!;
  const [, endpoint, key] = /AccountEndpoint=([^;]+);AccountKey=([^;]+);/.exec(config.kind === 'connectionString' ? config.value : '')!;
  const client = new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
  const found: Holding[] = [];
  const { resources: databases } = await client.databases.readAll().fetchAll();
  for (const database of databases) {
    const { resources: containers } = await client.database(database.id).containers.readAll().fetchAll();
    for (const container of containers) {
      const { resources: items } = await client.database(database.id).container(container.id).items.readAll().fetchAll();
      for (const item of items) found.push({ where: `document ${container.id}/${item.id}`, text: JSON.stringify(item) });
    }
  }
  return found;
}

/** Every file under a folder (the host's LOCAL_STORAGE_PATH: histories, stream logs, the stand-in's journal, Azurite's). */
async function fileHoldings(folder: string, skip: (path: string) => boolean = () => false): Promise<Holding[]> {
  const found: Holding[] = [];
  for (const entry of await readdir(folder, { recursive: true })) {
    const path = join(folder, entry);
    if (skip(entry) || !(await stat(path)).isFile()) continue;
    const bytes = await readFile(path);
    found.push({ where: `file ${entry}`, text: bytes.toString('latin1'), bytes });
  }
  return found;
}

/** Where each needle occurs. */
function occurrences(holdings: Holding[], needles: Record<string, string | Buffer>): string[] {
  return holdings.flatMap((h) =>
    Object.entries(needles)
      .filter(([, needle]) => (typeof needle === 'string' ? h.text.includes(needle) : (h.bytes ?? Buffer.from(h.text, 'latin1')).includes(needle)))
      .map(([name]) => `${name} in ${h.where}`),
  );
}

const middle = (bytes: Buffer, length = 48) => bytes.subarray(Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + length);

describe('retention: every copy of an image and its personal metadata gone after RETENTION_DAYS', () => {
  let host: Host;
  let folder: string;
  let receiver: Server;
  const received: string[] = [];
  // Distinctive values: nothing else in the stores can contain them by chance.
  const NAME = `anna${randomBytes(6).toString('hex')}`;
  const TOKEN = `tok${randomBytes(8).toString('hex')}`;
  let callbackUrl: string;
  let jpeg: Buffer;
  let png: Buffer;
  let single: { id: string };
  let otherClientId: string;
  let batch: BatchView;
  let needles: Record<string, string | Buffer>;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(req.url!);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/${TOKEN}?secret=${TOKEN}`;
    folder = await mkdtemp(join(tmpdir(), 'retention-'));
    host = await startTestHost({ LOCAL_STORAGE_PATH: folder, CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    jpeg = await jpegWithExif({ width: 320, height: 240 });
    png = await sampleImage('png', 200, 120);

    // A single upload with its file name, and a blob another client wrote straight into uploads/.
    const upload = new FormData();
    upload.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), `${NAME}-single.jpg`);
    const response = await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', body: upload });
    expect(response.status).toBe(200);
    single = (await response.json()) as { id: string };
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, `${NAME} other client.png`, png, { contentType: 'image/png' });

    // A batch: two images and a file that fails (its name lands in the summary), with a callback URL.
    const files = new FormData();
    files.append('files', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), `${NAME}-1.jpg`);
    files.append('files', new Blob([new Uint8Array(png)], { type: 'image/png' }), `${NAME}-2.png`);
    files.append('files', new Blob([Buffer.from('not an image')], { type: 'text/plain' }), `${NAME}-3.txt`);
    files.append('callbackUrl', callbackUrl);
    const accepted = (await (await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: files })).json()) as { id: string; links: { self: string } };
    batch = await waitForBatch(accepted.links.self);
    // A record for the ended batch (rejected, kept on the batch) and one without a batch id (deadletter/unplaced/).
    // The late record is the batch owner's: it carries the batch's ingest token, so it is rejected on the batch.
    const batchToken = (await host.services.batches.get(accepted.id))!.ingestToken;
    const late = buildRecord({ batchId: accepted.id, index: 1, count: 3, bytes: jpeg, fileName: `${NAME}-late.jpg`, callbackUrl, batchToken });
    const unplaced: OutgoingRecord = { key: '', headers: { 'ip-version': '1', 'ip-file-name': `${NAME}-unplaced.jpg`, 'ip-callback-url': callbackUrl }, value: jpeg };
    await host.services.batchStream!.publish([late, unplaced]);
    await (host.services.batchStream as unknown as { idle(): Promise<void> }).idle();

    otherClientId = '';
    for (let tries = 0; !otherClientId && tries < 200; tries++) {
      const listed = (await (await fetch(`${host.apiUrl}/images?format=png&status=succeeded`)).json()) as { items: Array<{ id: string; source: { fileName?: string } }> };
      otherClientId = listed.items.find((i) => i.source.fileName === `${NAME} other client.png`)?.id ?? '';
      if (!otherClientId) await sleep(100);
    }
    for (let tries = 0; received.length === 0 && tries < 100; tries++) await sleep(50);

    needles = {
      'file name': NAME,
      'camera make': EXIF_FIXTURE.make,
      'camera model': EXIF_FIXTURE.model,
      'capture time': EXIF_FIXTURE.takenAt.slice(0, 19),
      'callback URL': TOKEN,
      'JPEG bytes': middle(jpeg),
      'PNG bytes': middle(png),
      'JPEG bytes in base64': middle(Buffer.from(jpeg.toString('base64')), 64),
      'source sha256': ((await (await fetch(`${host.apiUrl}/images/${single.id}`)).json()) as { source: { sha256: string } }).source.sha256,
    };
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    receiver?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('stores what it was given, so the scan below can find it (it is not vacuous)', async () => {
    expect(batch).toMatchObject({ status: 'completed', succeeded: 2, failed: 1 });
    expect(received).toEqual([`/hook/${TOKEN}?secret=${TOKEN}`]);
    expect(otherClientId).toMatch(/^blob-/);
    const blobs = occurrences(await blobHoldings(host), needles);
    const documents = occurrences(await cosmosHoldings(host), needles);
    for (const needle of ['file name', 'JPEG bytes', 'PNG bytes', 'JPEG bytes in base64']) expect(blobs.some((o) => o.startsWith(`${needle} in`)), needle).toBe(true);
    for (const needle of ['file name', 'camera make', 'camera model', 'capture time', 'callback URL', 'source sha256']) expect(documents.some((o) => o.startsWith(`${needle} in`)), needle).toBe(true);
  });

  it('keeps the callback URL and file names out of the Durable histories, which do hold the batch', async () => {
    const histories = await fileHoldings(join(folder, 'orchestrations'));
    expect(histories.length).toBeGreaterThanOrEqual(2); // the batch and its chunk
    expect(histories.some((h) => h.text.includes(batch.id))).toBe(true);
    expect(occurrences(histories, needles)).toEqual([]);
  });

  it('stores no coordinates in any form: not in any document field, not in any derivative', async () => {
    // The upload does carry GPS (read by this test's own JPEG walker), so the check below can fail.
    expect(readJpegMetadata(jpeg).exifTags).toContain(GPS_IFD_POINTER);
    const documents = (await cosmosHoldings(host)).map((h) => JSON.parse(h.text) as unknown);
    const coordinates = [52.52, 13.4158]; // 52° 31' 12.34" N, 13° 24' 56.78" E as decimal degrees
    const problems: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`));
      if (value && typeof value === 'object') {
        for (const [key, v] of Object.entries(value)) {
          if (/gps|latitude|longitude|coordinate|geo|location|altitude/i.test(key)) problems.push(`key ${path}.${key}`);
          walk(v, `${path}.${key}`);
        }
        return;
      }
      if (typeof value === 'number' && coordinates.some((c) => Math.abs(value - c) < 0.01)) problems.push(`decimal degrees at ${path}`);
      // Degrees, minutes, seconds as EXIF writes them (rationals) or as text.
      if (typeof value === 'string' && /\b(52|13)\s*(°|deg|\/1)|12\.34|56\.78|1234\/100|5678\/100|\bN\b.*\bE\b/.test(value) && !path.endsWith('.id')) problems.push(`text at ${path}: ${value}`);
    };
    documents.forEach((doc, i) => walk(doc, `document[${i}]`));
    expect(problems).toEqual([]);

    // Each image's derivatives share a blob: cut into the derivatives its document's entries name, which fill it.
    const blobs = new Map((await blobHoldings(host)).filter((h) => h.where.startsWith(`blob ${BLOB_CONTAINERS.derived}/`)).map((h) => [h.where.slice(`blob ${BLOB_CONTAINERS.derived}/`.length), h.bytes!]));
    const entries = documents.flatMap((doc) => Object.values((doc as ImageDocument).derivatives ?? {}));
    const derived = entries.map((entry) => blobs.get(entry.blob)!.subarray(entry.offset, entry.offset! + entry.bytes));
    expect(derived.length).toBeGreaterThanOrEqual(6); // three images with a thumbnail and a preview each
    for (const [name, bytes] of blobs) expect(entries.filter((e) => e.blob === name).reduce((sum, e) => sum + e.bytes, 0), name).toBe(bytes.length);
    for (const bytes of derived) {
      const metadata = readJpegMetadata(bytes);
      expect(metadata.exifTags ?? []).not.toContain(GPS_IFD_POINTER);
      expect(metadata.xmp.join('')).not.toMatch(/gps/i);
      expect(metadata.markers.filter((m) => m === 0xe1), 'no Exif or XMP segment at all').toEqual([]);
    }
  });

  it('after a sweep as of RETENTION_DAYS + 1 hour: no file name, camera, capture time, URL, hash or image bytes anywhere', async () => {
    const sweep = host.jobs.find((job) => job.name === RETENTION_SWEEP_JOB)!;
    const asOf = new Date(Date.now() + host.services.config.retentionDays * DAY + HOUR);
    const result = (await sweep.run(asOf)) as RetentionSweepResult;
    // Two single uploads, three batch items; the batch; the rejected record. Every blob; the batch and its chunk.
    expect(result).toMatchObject({ images: 5, batches: 1, rejections: 1, failures: 0, more: false });
    expect(result.histories).toBe(2);

    const blobs = await blobHoldings(host);
    // Nothing of the app's containers is left at all.
    expect(blobs.filter((b) => Object.values(BLOB_CONTAINERS).some((c) => b.where.startsWith(`blob ${c}/`))).map((b) => b.where)).toEqual([]);
    expect(occurrences(blobs, needles)).toEqual([]);
    expect(occurrences(await cosmosHoldings(host), needles)).toEqual([]);
    // Histories purged, and the host's files (journal compacted, stream logs emptied) hold none of it either. Azurite's
    // blob data files are left out: it frees deleted blobs' bytes on its own garbage collection, every 10 minutes.
    expect(await fileHoldings(join(folder, 'orchestrations'))).toEqual([]);
    expect(occurrences(await fileHoldings(folder, (path) => path.includes('__blobstorage__')), needles)).toEqual([]);
    // And a second run finds nothing more to do.
    expect(await sweep.run(asOf)).toMatchObject({ images: 0, batches: 0, rejections: 0, blobs: 0, failures: 0 });
  });

  it('never logged a file name, the callback URL or anything else of it: ids and counts only', () => {
    expect(host.log.lines.some((line) => line.includes(batch.id)), 'the log does speak of the batch').toBe(true);
    expect(occurrences([{ where: 'the host log', text: host.log.lines.join('\n') }], needles)).toEqual([]);
  });

  it('keeps the de-identified values: status, format, dimensions, bytes, analysis, timings, batch, day; thumbnails answer 410', async () => {
    const image = (await (await fetch(`${host.apiUrl}/images/${single.id}`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(image).toMatchObject({
      status: 'succeeded',
      source: { contentType: 'image/jpeg', bytes: jpeg.length, uploadedAt: expect.stringMatching(/T00:00:00\.000Z$/) },
      metadata: { format: 'jpeg', width: 240, height: 320, bytes: jpeg.length, orientation: 6 },
      analysis: { perceptualHash: expect.stringMatching(/^[0-9a-f]{16}$/), sharpness: expect.any(Number) },
      processing: { engine: 'sharp', durationMs: expect.any(Number) },
      deidentifiedAt: expect.any(String),
    });
    expect(image.source.fileName).toBeUndefined();
    expect(image.source.sha256).toBeUndefined();
    expect(image.metadata.camera).toBeUndefined();
    expect(image.metadata.takenAt).toBeUndefined();
    expect(image.derivatives).toBeUndefined();
    for (const derivative of ['thumbnail', 'preview']) {
      const gone = await fetch(`${host.apiUrl}/images/${single.id}/${derivative}`);
      expect(gone.status).toBe(410);
      expect(gone.headers.get('content-type')).toMatch(/problem\+json/);
      expect(await gone.json()).toMatchObject({ type: 'urn:image-pipeline:problem:derivative-expired', status: 410 });
    }

    const after = (await (await fetch(`${host.apiUrl}/batches/${batch.id}`)).json()) as BatchView & Record<string, unknown>;
    expect(after).toMatchObject({ status: 'completed', itemCount: 3, succeeded: 2, failed: 1, callback: { configured: true, delivered: true, status: 204 } });
    expect(after.summary).toMatchObject({ counts: { succeeded: 2, failed: 1, pending: 0 }, formats: { jpeg: 1, png: 1 }, failures: [{ index: 2, reason: expect.any(String) }] });
    expect(after.summary!.failures[0].fileName).toBeUndefined();
    expect(after.rejected).toEqual([{ index: 1, reason: 'Item 1 already holds other content.', headers: {}, at: expect.stringMatching(/T00:00:00\.000Z$/), deidentifiedAt: expect.any(String) }]);
    const items = (await (await fetch(`${host.apiUrl}/batches/${batch.id}/items`)).json()) as { items: Array<{ status: string; metadata?: { format: string }; batchId: string }> };
    expect(items.items.map((i) => [i.status, i.metadata?.format, i.batchId])).toEqual([
      ['succeeded', 'jpeg', batch.id],
      ['succeeded', 'png', batch.id],
      ['failed', undefined, batch.id],
    ]);
  });
});
