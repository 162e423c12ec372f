import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largePng, mixedBatch, type TestFile } from './batch-images';
import { buildRecord } from '../../src/lib/batch/record';
import { startBatchHost, waitForBatch } from './host';

type Host = Awaited<ReturnType<typeof startBatchHost>>;

function form(files: TestFile[], fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const file of files) body.append('files', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

describe('POST /api/batches through the in-process stream', () => {
  let host: Host;
  let callbackServer: Server;
  const callbacks: unknown[] = [];

  beforeAll(async () => {
    // The receiver is on loopback, which callbacks reach only when listed.
    host = await startBatchHost({ CALLBACK_ALLOWED_HOSTS: '127.0.0.1' });
    callbackServer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        callbacks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    callbackServer?.close();
    await host?.stop();
  });

  it('publishes the files as records and ends with a summary, a callback and paged items', async () => {
    const { files, invalid, duplicateOf } = await mixedBatch(5);
    files.splice(2, 0, { name: 'big.png', type: 'image/png', bytes: await largePng() });
    expect(files[2].bytes.length).toBeGreaterThan(900 * 1024);
    const callbackUrl = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/done`;
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form(files, { callbackUrl }) });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { id: string; itemCount: number };
    expect(accepted.itemCount).toBe(files.length);
    const location = response.headers.get('location')!;
    expect(location).toBe(`${host.apiUrl}/batches/${accepted.id}`);

    const batch = await waitForBatch(location);
    const failedIndexes = invalid.map((i) => i + 1); // shifted by the inserted big file
    expect(batch).toMatchObject({ itemCount: 9, received: 9, processed: 9, succeeded: 6, failed: 3 });
    expect(batch.summary!.counts).toEqual({ succeeded: 6, failed: 3, pending: 0 });
    expect(batch.summary!.failures.map((f) => f.index)).toEqual(failedIndexes);
    expect(batch.summary!.failures[0]).toMatchObject({ fileName: 'notes.txt', reason: expect.stringContaining('not a JPEG') });
    expect(batch.summary!.failures[2].reason).toMatch(/limit/);
    expect(batch.summary!.duplicateGroups).toEqual([{ perceptualHash: expect.any(String), items: duplicateOf.map((i) => (i >= 2 ? i + 1 : i)) }]);
    expect(batch.summary!.formats).toEqual({ jpeg: 2, png: 3, webp: 1 });
    expect(batch.summary!.durationsMs.p95).toBeGreaterThanOrEqual(batch.summary!.durationsMs.p50);

    const until = Date.now() + 5000;
    while (!callbacks.length && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(callbacks).toEqual([expect.objectContaining({ batchId: accepted.id, status: 'completed', summary: expect.objectContaining({ itemCount: 9 }) })]);
    // The URL (which may carry a secret token) is never returned: only whether there is one and how its call went.
    const afterCallback = await (await fetch(location)).text();
    expect(JSON.parse(afterCallback).callback).toEqual({ configured: true, delivered: true, status: 204 });
    expect(afterCallback).not.toContain(callbackUrl);
    expect(afterCallback).not.toContain('callbackUrl');
    expect(host.log.lines.join('\n')).not.toContain(callbackUrl);

    const first = (await (await fetch(`${location}/items?limit=4`)).json()) as { items: Array<{ index: number; status: string; links: { self: string } }>; continuationToken?: string; links?: { next: string } };
    expect(first.items.map((i) => i.index)).toEqual([0, 1, 2, 3]);
    const second = (await (await fetch(first.links!.next)).json()) as typeof first;
    const third = (await (await fetch(second.links!.next)).json()) as typeof first;
    expect([...second.items, ...third.items].map((i) => i.index)).toEqual([4, 5, 6, 7, 8]);
    expect(third.continuationToken).toBeUndefined();
    // Each item is an image result like a single upload's, with its derivatives.
    const item = (await (await fetch(first.items[2].links.self)).json()) as { status: string; derivatives: { thumbnail: { url: string } } };
    expect(item.status).toBe('succeeded');
    expect((await fetch(item.derivatives.thumbnail.url)).headers.get('content-type')).toBe('image/jpeg');
  });

  it('answers problems for bad requests', async () => {
    const notMultipart = await fetch(`${host.apiUrl}/batches`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' });
    expect(notMultipart.status).toBe(415);
    expect(notMultipart.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form([]) })).status).toBe(400);
    const ftp = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form([{ name: 'a.txt', type: 'text/plain', bytes: Buffer.from('a') }], { callbackUrl: 'ftp://x/y' }) });
    expect(ftp.status).toBe(400);
    // Refused when submitted, not only when the callback would be sent; loopback other than the listed 127.0.0.1 too.
    for (const callbackUrl of ['http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/hook', 'http://0.0.0.0/']) {
      const refused = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form([{ name: 'a.txt', type: 'text/plain', bytes: Buffer.from('a') }], { callbackUrl }) });
      expect(refused.status, callbackUrl).toBe(400);
      expect(await refused.json()).toMatchObject({ type: 'urn:image-pipeline:problem:callback-not-allowed', detail: expect.stringContaining('is refused') });
    }
    expect((await fetch(`${host.apiUrl}/batches/not_valid!`)).status).toBe(400);
    expect((await fetch(`${host.apiUrl}/batches/unknown-batch`)).status).toBe(404);
  });

  it('fails the records of a producer whose ip-callback-url reaches a refused address, and a file name over 255 bytes is shortened, not refused', async () => {
    const batchId = `refused-callback-${Date.now()}`;
    const image = (await mixedBatch(1)).files[0].bytes;
    const longName = `${'é'.repeat(200)}.jpg`; // 404 bytes of UTF-8
    await host.services.batchStream!.publish([
      buildRecord({ batchId, index: 0, count: 2, bytes: image, fileName: longName, callbackUrl: 'http://169.254.169.254/latest/meta-data/' }),
      buildRecord({ batchId, index: 1, count: 2, bytes: image, fileName: longName, callbackUrl: 'http://169.254.169.254/latest/meta-data/' }),
    ]);
    const batch = await waitForBatch(`${host.apiUrl}/batches/${batchId}`);
    expect(batch).toMatchObject({ failed: 2, succeeded: 0 });
    expect(batch.summary!.failures[0].reason).toMatch(/ip-callback-url is refused: its host is or resolves to a link-local, platform, multicast or reserved address/);

    const valid = `long-name-${Date.now()}`;
    await host.services.batchStream!.publish([buildRecord({ batchId: valid, index: 0, count: 1, bytes: image, fileName: longName })]);
    const done = await waitForBatch(`${host.apiUrl}/batches/${valid}`);
    expect(done).toMatchObject({ succeeded: 1, failed: 0 });
    const items = (await (await fetch(`${host.apiUrl}/batches/${valid}/items`)).json()) as { items: Array<{ source: { fileName: string } }> };
    const kept = items.items[0].source.fileName;
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(255);
    expect(kept).toBe(`${'é'.repeat(125)}.jpg`); // whole characters only, and the extension kept
  });
});
