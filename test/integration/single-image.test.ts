import { request as httpRequest } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageView } from '../../src/lib/api/image-view';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { startTestHost } from './local-host';

let host: Awaited<ReturnType<typeof startTestHost>>;
const MAX_UPLOAD_BYTES = 300_000;

beforeAll(async () => {
  host = await startTestHost({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
});
afterAll(() => host?.stop());

/** A small photo-like image: gradient plus a few shapes, so hashes and palettes are not trivial. */
async function photo(format: 'jpeg' | 'png' | 'gif' | 'webp', width = 320, height = 240): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#f59e0b"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="#dc2626"/>
    <rect x="${width / 2}" y="20" width="${width / 4}" height="${height / 3}" fill="#16a34a"/></svg>`;
  return sharp(Buffer.from(svg)).toFormat(format).toBuffer();
}

const post = (body: Uint8Array | string, contentType: string, query = '') =>
  fetch(`${host.apiUrl}/images${query}`, { method: 'POST', headers: { 'content-type': contentType }, body });

const view = (response: Response) => response.json() as Promise<ImageView>;

async function expectProblem(response: Response, status: number, detail: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = await response.json();
  expect(problem).toMatchObject({ status, title: expect.any(String), detail: expect.stringMatching(detail) });
}

async function expectStillServing() {
  const response = await fetch(`${host.apiUrl}/images/does-not-exist`);
  expect(response.status).toBe(404);
}

describe('single-image path over HTTP', () => {
  it.each(['jpeg', 'png', 'gif', 'webp'] as const)('processes a %s upload and serves its result and thumbnail', async (format) => {
    const image = await photo(format);
    const response = await post(image, `image/${format}`, '?wait=30');
    expect(response.status).toBe(200);
    const result = await view(response);
    expect(response.headers.get('location')).toBe(result.links.self);
    expect(result).toMatchObject({
      status: 'succeeded',
      schemaVersion: 1,
      metadata: { format, width: 320, height: 240, bytes: image.length },
      source: { contentType: `image/${format}`, bytes: image.length },
      processing: { engine: 'sharp' },
    });
    expect(result.analysis!.perceptualHash).toMatch(/^[0-9a-f]{16}$/);
    expect(result.analysis!.palette.length).toBeGreaterThanOrEqual(3);
    expect(result.analysis!.sharpness).toBeGreaterThan(0);

    const thumbnail = await fetch(result.derivatives!.thumbnail!.url);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 256, 192]);

    const again = await view(await fetch(result.links.self));
    expect(again).toEqual(result);
  });

  it('takes multipart/form-data with the file name, answers 202 without wait, and finishes later', async () => {
    const form = new FormData();
    form.append('file', new Blob([await photo('png')], { type: 'text/plain' }), 'holiday snap.png');
    const response = await fetch(`${host.apiUrl}/images`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    const accepted = await view(response);
    expect(accepted).toMatchObject({ status: 'queued', source: { fileName: 'holiday snap.png', contentType: 'image/png' } });
    let result = accepted;
    for (let i = 0; i < 100 && result.status !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await view(await fetch(response.headers.get('location')!));
    }
    expect(result).toMatchObject({ status: 'succeeded', source: { fileName: 'holiday snap.png' } });
  });

  it('processes a blob written straight into uploads by another storage client', async () => {
    const image = await photo('jpeg');
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'from-another-client', image, { contentType: 'image/jpeg' });
    let response: Response | undefined;
    for (let i = 0; i < 100; i++) {
      response = await fetch(`${host.apiUrl}/images/from-another-client`);
      if (response.status === 200 && (await view(response.clone())).status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const result = await view(response!);
    expect(result).toMatchObject({ id: 'from-another-client', status: 'succeeded', source: { fileName: 'from-another-client', bytes: image.length } });
  });
});

describe('bad input gets a precise problem and the server keeps serving', () => {
  it('empty body: 400', async () => {
    await expectProblem(await post(new Uint8Array(0), 'image/jpeg'), 400, /empty/);
    await expectStillServing();
  });

  it('a text file named .jpg: 415', async () => {
    const form = new FormData();
    form.append('file', new Blob(['just some words'], { type: 'image/jpeg' }), 'cat.jpg');
    await expectProblem(await fetch(`${host.apiUrl}/images`, { method: 'POST', body: form }), 415, /not a JPEG, PNG, GIF, WebP, TIFF or BMP image/);
    await expectStillServing();
  });

  it('a content type that is neither an image nor multipart: 415', async () => {
    await expectProblem(await post('{"a":1}', 'application/json'), 415, /application\/json/);
  });

  it('a truncated JPEG: 422', async () => {
    const image = await photo('jpeg');
    await expectProblem(await post(image.subarray(0, Math.floor(image.length / 2)), 'image/jpeg'), 422, /truncated/);
    await expectStillServing();
  });

  it('a PNG whose header claims 50000x50000: 422 before any decoding', async () => {
    const png = await photo('png', 8, 8);
    png.writeUInt32BE(50_000, 16);
    png.writeUInt32BE(50_000, 20);
    await expectProblem(await post(png, 'image/png'), 422, /50000x50000 \(2500\.0 MP\); the limit is 50\.0 MP/);
    await expectStillServing();
  });

  it('a body over the byte limit: 413', async () => {
    const big = Buffer.concat([await photo('jpeg'), Buffer.alloc(MAX_UPLOAD_BYTES)]);
    await expectProblem(await post(big, 'image/jpeg'), 413, new RegExp(`limit is ${MAX_UPLOAD_BYTES} bytes`));
    await expectStillServing();
  });

  it('malformed multipart: 400', async () => {
    await expectProblem(await post('--nope\r\ngarbage', 'multipart/form-data; boundary=xyz'), 400, /malformed/);
    await expectStillServing();
  });

  it('multipart with two files: 400', async () => {
    const form = new FormData();
    form.append('a', new Blob([await photo('png')]), 'a.png');
    form.append('b', new Blob([await photo('png')]), 'b.png');
    await expectProblem(await fetch(`${host.apiUrl}/images`, { method: 'POST', body: form }), 400, /exactly one file field in the form; got 2/);
  });

  it('a chunked body without Content-Length: 411', async () => {
    const url = new URL(`${host.apiUrl}/images`);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end(Buffer.from('89504e47', 'hex'));
    });
    expect(response.status).toBe(411);
    expect(JSON.parse(response.body).detail).toMatch(/Content-Length/);
    await expectStillServing();
  });

  it('a wait over 60 seconds: 400', async () => {
    await expectProblem(await post(await photo('png'), 'image/png', '?wait=61'), 400, /wait must be a number of seconds from 0 to 60/);
  });

  it('unknown id: 404; malformed id: 400; unknown derivative: 404; wrong method: 405', async () => {
    await expectProblem(await fetch(`${host.apiUrl}/images/no-such-image`), 404, /No image with id "no-such-image"/);
    await expectProblem(await fetch(`${host.apiUrl}/images/bad%20id!`), 400, /not a valid image id/);
    await expectProblem(await fetch(`${host.apiUrl}/images/no-such-image/poster`), 404, /thumbnail and preview/);
    expect((await fetch(`${host.apiUrl}/images/x`, { method: 'DELETE' })).status).toBe(405);
  });
});
