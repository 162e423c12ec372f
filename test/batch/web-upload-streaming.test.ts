import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle, ROUTES } from '../../src/lib/api/routes';
import { MAX_BATCH_ITEMS } from '../../src/lib/batch/record';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { problemTypeUri } from '../../src/lib/problem';
import { startBatchHost } from './host';
import { until } from '../support/until';

type Host = Awaited<ReturnType<typeof startBatchHost>>;

/**
 * POST /api/batches streams its body: large files reach blob storage while the body is still arriving, limits are
 * answered as the body passes them, and an upload refused or abandoned half-way leaves no blob and no batch behind.
 */
describe('POST /api/batches streams the body', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startBatchHost();
  });
  afterAll(() => host?.stop());

  const BOUNDARY = 'stream-test-boundary';
  const part = (name: string, fileName: string, bytes: Buffer) =>
    Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${fileName}"\r\nContent-Type: image/jpeg\r\n\r\n`), bytes, Buffer.from('\r\n')]);
  const closing = Buffer.from(`--${BOUNDARY}--\r\n`);

  const batchBlobs = async () => {
    const names: string[] = [];
    for await (const blob of host.services.blobs.list(BLOB_CONTAINERS.batches)) names.push(blob.name);
    return names;
  };
  const batchIds = async () => (await host.services.batches.list({}, { limit: 1000 })).items.map((batch) => batch.id);
  /** A raw HTTP/1.1 request whose body is sent when the test says, so it can pause or stop half-way. */
  function openUpload(contentLength: number): { socket: Socket; send(bytes: Buffer): void; answer: Promise<{ status: number; body: string }> } {
    const { port } = new URL(host.apiUrl);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    const answer = new Promise<{ status: number; body: string }>((resolve) => {
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.on('close', () => resolve({ status: Number(received.split(' ')[1] ?? 0), body: received.slice(received.indexOf('\r\n\r\n') + 4) }));
      socket.on('error', () => undefined);
    });
    socket.write(`POST /api/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${contentLength}\r\n\r\n`);
    return { socket, send: (bytes) => socket.write(bytes), answer };
  }

  it('answers too-many-files when the file count passes the limit mid-stream, and removes the files already stored', async () => {
    const blobsBefore = await batchBlobs();
    const batchesBefore = await batchIds();
    const form = new FormData();
    // The large file goes to blob storage first; the limit is passed only at the last of the small ones.
    form.append('files', new Blob([new Uint8Array(randomBytes(1_000_000))], { type: 'image/jpeg' }), 'large.jpg');
    const tiny = new Blob([new Uint8Array([0xff])], { type: 'image/jpeg' });
    for (let i = 0; i < MAX_BATCH_ITEMS; i++) form.append('files', tiny, `tiny-${i}.jpg`);
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await response.json()).toMatchObject({ type: problemTypeUri('too-many-files'), detail: `A batch holds at most ${MAX_BATCH_ITEMS} files; this one has more.` });
    expect(await batchBlobs()).toEqual(blobsBefore);
    expect(await batchIds()).toEqual(batchesBefore);
  });

  it('puts a large file in blob storage before the body has ended, and accepts the batch once it has', async () => {
    const blobsBefore = await batchBlobs();
    const first = part('files', 'first.jpg', randomBytes(1_500_000));
    const second = part('files', 'second.jpg', randomBytes(1_200_000));
    const body = Buffer.concat([first, second, closing]);
    const upload = openUpload(body.length);
    // The first file and half of the second: the handler cannot hold the whole body, which has not been sent.
    upload.send(body.subarray(0, first.length + 600_000));
    await until(async () => (await batchBlobs()).some((name) => !blobsBefore.includes(name) && name.endsWith('/0')), { what: 'the first file is in blob storage', timeoutMs: 20_000, everyMs: 50 });
    upload.send(body.subarray(first.length + 600_000));
    const answer = await upload.answer;
    expect(answer.status, answer.body).toBe(202);
    const { id, itemCount } = JSON.parse(answer.body) as { id: string; itemCount: number };
    expect(itemCount).toBe(2);
    const stored = await host.services.blobs.get(BLOB_CONTAINERS.batches, `${id}/1`);
    expect(stored!.bytes.equals(second.subarray(second.indexOf('\r\n\r\n') + 4, -2))).toBe(true);
  });

  it('leaves nothing behind when the client goes away half-way, and keeps serving', async () => {
    const blobsBefore = await batchBlobs();
    const batchesBefore = await batchIds();
    const first = part('files', 'first.jpg', randomBytes(1_500_000));
    const upload = openUpload(first.length + 5_000_000);
    upload.send(first);
    upload.send(part('files', 'second.jpg', randomBytes(800_000)).subarray(0, 500_000));
    await until(async () => (await batchBlobs()).some((name) => !blobsBefore.includes(name)), { what: 'the first file is in blob storage', timeoutMs: 20_000, everyMs: 50 });
    upload.socket.destroy();
    await until(async () => (await batchBlobs()).every((name) => blobsBefore.includes(name)), { what: 'the abandoned upload’s blobs are removed', timeoutMs: 20_000, everyMs: 50 });
    expect(await batchIds()).toEqual(batchesBefore);

    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(randomBytes(1000))], { type: 'image/jpeg' }), 'after.jpg');
    const after = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    expect(after.status).toBe(202);
  });

  it('answers content-too-large when the body passes the batch limit mid-stream (more bytes than it declared), and removes the files already stored', async () => {
    const blobsBefore = await batchBlobs();
    const batchesBefore = await batchIds();
    // A 200-byte image limit makes the batch limit 200 x 10000 = 2,000,000 bytes: passed by the second file.
    const services = { ...host.services, limits: { ...host.services.limits, maxBytes: 200 } };
    const chunks = [part('files', 'a.jpg', randomBytes(1_500_000)), part('files', 'b.jpg', randomBytes(1_500_000)), closing];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    const headers = new Headers({ 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': '1000' });
    const route = ROUTES.find((r) => r.name === 'uploadBatch')!;
    const response = await handle(route, { method: 'POST', url: `${host.apiUrl}/batches`, headers, params: {}, body }, services, host.log);
    expect(response.status).toBe(413);
    expect(JSON.parse(String(response.body))).toMatchObject({ type: problemTypeUri('content-too-large'), detail: 'The request body is over the limit of 2000000 bytes.' });
    expect(await batchBlobs()).toEqual(blobsBefore);
    expect(await batchIds()).toEqual(batchesBefore);
  });
});
