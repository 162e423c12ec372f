import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src/lib/batch/record';
import { jsonLogger } from '../../src/lib/logger';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { startTestHost } from '../integration/local-host';
import { sampleImage, textFile, truncatedJpeg } from '../support/images';

/**
 * What the app logs in an end-to-end run (uploads good and bad, a blob from another client, batches with a callback
 * delivered and one refused, a record that fits no batch): every line is one JSON object with ids, and none carries a
 * file name, a URL or image content.
 */
const FILE_NAMES = ['Malaga-holiday-secret.png', 'Grandma 90th birthday.jpg', 'passport-scan.png', 'Family Photos/beach day.jpg', 'medical-xray.png', 'not an image.png'];
const CALLBACK_SECRET = 'hook-token-7f3a9c';

describe('structured logs of an end-to-end run', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  let receiver: Server;
  let receiverUrl: string;
  const lines: string[] = [];
  const images: Buffer[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const sink = (line: string) => lines.push(line);
    host = await startTestHost({ CALLBACK_ALLOWED_HOSTS: '127.0.0.1', BATCH_RECEIVE_TIMEOUT: '2' }, jsonLogger({ info: sink, warn: sink, error: sink }));
  });
  afterAll(async () => {
    await host?.stop();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  const api = (path: string, init?: RequestInit) => fetch(`${host.apiUrl}${path}`, init);
  async function waitFor<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await read();
      if (value !== undefined) return value;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what}; logged: ${lines.map((l) => (JSON.parse(l) as { message: string }).message).join(" | ")}`);
  }
  const ended = (id: string) => waitFor(`batch ${id}`, async () => {
    const batch = (await (await api(`/batches/${id}`)).json()) as { status: string };
    return ['completed', 'incomplete', 'failed'].includes(batch.status) ? batch : undefined;
  });

  it('logs ids, never file names, URLs or image bytes', async () => {
    const png = await sampleImage('png', 48, 32);
    const jpeg = await sampleImage('jpeg', 40, 30);
    images.push(png, jpeg);
    const single = new FormData();
    single.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), FILE_NAMES[0]);
    expect((await api('/images?wait=20', { method: 'POST', body: single })).status).toBe(200);
    expect((await api('/images', { method: 'POST', body: new Uint8Array(await truncatedJpeg()), headers: { 'content-type': 'image/jpeg' } })).status).toBe(422);
    // A blob another client wrote under a file name, which cannot be decoded: failed, and logged as such.
    const broken = Buffer.from(await sampleImage('png', 64, 64));
    const data = broken.indexOf('IDAT');
    for (let i = data + 6; i < data + 30; i++) broken[i] = 0x55; // a valid header and IEND around compressed data that is not
    images.push(broken);
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, FILE_NAMES[3], broken, { contentType: 'image/png' });

    const batch = new FormData();
    batch.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), FILE_NAMES[1]);
    batch.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), FILE_NAMES[2]);
    batch.append('file', new Blob([new Uint8Array(textFile())], { type: 'image/png' }), FILE_NAMES[5]);
    batch.append('callbackUrl', `${receiverUrl}/hooks/${CALLBACK_SECRET}?sig=abc`);
    const delivered = (await (await api('/batches', { method: 'POST', body: batch })).json()) as { id: string };
    // A callback that cannot be delivered: a port nobody listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = new FormData();
    refused.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), FILE_NAMES[4]);
    refused.append('callbackUrl', `http://127.0.0.1:${closedPort}/hooks/${CALLBACK_SECRET}`);
    const undelivered = (await (await api('/batches', { method: 'POST', body: refused })).json()) as { id: string };
    // A record that fits no batch, with a file name header; and a batch whose second record never comes.
    const stray = buildRecord({ batchId: 'stray', index: 0, count: 1, fileName: FILE_NAMES[2], contentType: 'image/png', bytes: png });
    await host.services.batchStream!.publish([{ ...stray, headers: { ...stray.headers, 'ip-batch-id': 'not a batch id!' } }]);
    await host.services.batchStream!.publish([buildRecord({ batchId: 'half-batch', index: 0, count: 2, fileName: FILE_NAMES[1], contentType: 'image/png', bytes: png })]);

    await ended(delivered.id);
    await ended(undelivered.id);
    await ended('half-batch');
    await waitFor('the blob from another client', async () => (lines.some((l) => l.includes('image processing failed for blob-')) ? true : undefined));
    await waitFor('the refused callback', async () => (lines.some((l) => l.includes('callback not delivered')) ? true : undefined));

    // The run logged what it did, as JSON with ids.
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) expect(record).toMatchObject({ time: expect.any(String), level: expect.stringMatching(/^(info|warn|error)$/), message: expect.any(String) });
    expect(records.some((r) => r.batchId === delivered.id)).toBe(true);
    expect(records.some((r) => r.level === 'error' && String(r.message).startsWith('image processing failed for blob-'))).toBe(true);
    expect(records.some((r) => String(r.message).includes('rejected'))).toBe(true);
    expect(records.some((r) => String(r.message).includes('receive window closed'))).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(8);

    // Nothing that identifies a person's files or where results go.
    const text = lines.join('\n');
    for (const name of FILE_NAMES) {
      for (const form of [name, encodeURIComponent(name), name.replace(/\.[a-z]+$/, '')]) expect(text, `file name ${form}`).not.toContain(form);
    }
    expect(text).not.toMatch(/\b[a-z][a-z0-9+.-]*:\/\//i);
    expect(text).not.toContain(CALLBACK_SECRET);
    expect(text).not.toContain(receiverUrl.replace('http://', ''));
    for (const bytes of images) {
      for (const at of [0, 64, Math.floor(bytes.length / 2)]) {
        const piece = bytes.subarray(at, at + 24);
        expect(text).not.toContain(piece.toString('base64'));
        expect(text).not.toContain(piece.toString('hex'));
        expect(text).not.toContain(piece.toString('latin1'));
      }
    }
  });
});
