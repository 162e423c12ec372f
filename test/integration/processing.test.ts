import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../src/lib/names';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { ENGINES } from '../../src/lib/images/engines';
import { processImage } from '../../src/lib/processing/process-image';
import { processUpload } from '../../src/lib/processing/process-upload';
import type { ImageDocument } from '../../src/lib/results/image-document';
import { startTestHost } from './local-host';

let host: Awaited<ReturnType<typeof startTestHost>>;

beforeAll(async () => {
  // A slow watcher: these tests drive the blob handler themselves.
  host = await startTestHost({ BLOB_WATCH_INTERVAL_MS: '60000' });
});
afterAll(() => host?.stop());

async function listNames(container: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of host.services.blobs.list(container, prefix)) names.push(blob.name);
  return names.sort();
}

const countDocs = async (id: string) => {
  const images = cosmosClient(host.services.config.cosmos!).database(host.services.config.cosmosDatabase).container(COSMOS_CONTAINERS.images.id);
  const { resources } = await images.items
    .query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.id = @id', parameters: [{ name: '@id', value: id }] })
    .fetchAll();
  return resources[0];
};

describe('blob-triggered processing', () => {
  it('is idempotent: the same blob processed twice gives the same document and the same derivatives', async () => {
    const image = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#8844cc' } }).png().toBuffer();
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'twice', image, { contentType: 'image/png' });
    const first = await processUpload(host.services, 'twice', host.log);
    const second = await processUpload(host.services, 'twice', host.log);
    expect(first?.status).toBe('succeeded');
    expect(second).toEqual(first);
    expect(await host.services.images.get('twice', 'twice')).toEqual(first);
    expect(await countDocs('twice')).toBe(1);
    expect(await listNames(BLOB_CONTAINERS.derived, 'twice/')).toEqual(['twice/derivatives']);
  });

  it('reprocesses when the blob gets new content', async () => {
    const red = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const blue = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#0000ff' } }).png().toBuffer();
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'replaced', red, { contentType: 'image/png' });
    expect((await processUpload(host.services, 'replaced', host.log))?.analysis?.meanColour).toBe('#ff0000');
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'replaced', blue, { contentType: 'image/png' });
    expect((await processUpload(host.services, 'replaced', host.log))?.analysis?.meanColour).toBe('#0000ff');
    expect(await countDocs('replaced')).toBe(1);
  });

  it('ends a corrupt image as failed with a reason, without throwing, and does not process it again', async () => {
    const good = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#00ff00' } }).jpeg().toBuffer();
    // A valid JPEG header and end marker around scrambled image data.
    const corrupt = Buffer.from(good);
    const scan = corrupt.indexOf(Buffer.from([0xff, 0xda]));
    for (let i = scan + 20; i < corrupt.length - 2; i++) corrupt[i] = (i * 37) & 0xfe;
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'corrupt', corrupt, { contentType: 'image/jpeg' });
    const failed = await processUpload(host.services, 'corrupt', host.log);
    expect(failed).toMatchObject({ status: 'failed', error: { reason: expect.stringMatching(/JPEG image cannot be decoded/) } });
    expect(host.log.lines.some((line) => line.startsWith('error: image processing failed for corrupt'))).toBe(true);
    const again = await processUpload(host.services, 'corrupt', host.log);
    expect(again).toEqual(failed);
    expect(host.log.lines).toContain('info: image corrupt already failed; skipping');
  });

  it('names blobs from other clients with ids Cosmos accepts', async () => {
    const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#123456' } }).png().toBuffer();
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'camera/2024/IMG 0001.png', image, { contentType: 'image/png' });
    const doc = await processUpload(host.services, 'camera/2024/IMG 0001.png', host.log);
    expect(doc).toMatchObject({ id: expect.stringMatching(/^blob-[0-9a-f]{32}$/), status: 'succeeded', source: { fileName: 'IMG 0001.png', blob: 'camera/2024/IMG 0001.png' } });
  });
});

describe('derivatives: one blob per image, each served from its own range', () => {
  const get = (id: string, name: string) => fetch(`${host.apiUrl}/images/${id}/${name}`);
  const bytesOf = async (response: Response) => Buffer.from(await response.arrayBuffer());

  it('serves a thumbnail and preview byte-identical to what processImage makes of the upload, written as one blob', async () => {
    const image = await sharp({ create: { width: 1500, height: 1000, channels: 3, background: '#3366aa' } })
      .composite([{ input: await sharp({ create: { width: 500, height: 300, channels: 3, background: '#ffcc00' } }).png().toBuffer(), top: 200, left: 300 }])
      .jpeg()
      .toBuffer();
    const response = await fetch(`${host.apiUrl}/images`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    // This host's watcher is slow: the blob trigger's handler is run here.
    expect(await processUpload(host.services, id, host.log)).toMatchObject({ status: 'succeeded' });
    // The expected bytes: processImage itself, on the same engine and limits, outside the app's serving and storage.
    const { config } = host.services;
    const made = await processImage(image, ENGINES[config.imageEngine], { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels });
    const expected = Object.fromEntries(made.derivatives.map((d) => [d.name, d.bytes]));
    expect(Object.keys(expected).sort()).toEqual(['preview', 'thumbnail']);

    const served = { thumbnail: await get(id, 'thumbnail'), preview: await get(id, 'preview') };
    for (const [name, answer] of Object.entries(served)) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('image/jpeg');
      expect(answer.headers.get('cache-control')).toBe('private, max-age=3600');
      expect((await bytesOf(answer)).equals(expected[name]), name).toBe(true);
    }
    // Each derivative has its own ETag, though they share a blob; the same one again while nothing changed.
    expect(served.thumbnail.headers.get('etag')).not.toBe(served.preview.headers.get('etag'));
    expect((await get(id, 'thumbnail')).headers.get('etag')).toBe(served.thumbnail.headers.get('etag'));
    // One blob holds both, one after the other, and nothing else.
    expect(await listNames(BLOB_CONTAINERS.derived, `${id}/`)).toEqual([`${id}/derivatives`]);
    const blob = await host.services.blobs.get(BLOB_CONTAINERS.derived, `${id}/derivatives`);
    expect(blob!.bytes.equals(Buffer.concat([expected.thumbnail, expected.preview]))).toBe(true);
    const doc = (await host.services.images.get(id, id))!;
    expect(doc.derivatives).toEqual({
      thumbnail: { container: BLOB_CONTAINERS.derived, blob: `${id}/derivatives`, offset: 0, bytes: expected.thumbnail.length, contentType: 'image/jpeg', width: 256, height: 171 },
      preview: { container: BLOB_CONTAINERS.derived, blob: `${id}/derivatives`, offset: expected.thumbnail.length, bytes: expected.preview.length, contentType: 'image/jpeg', width: 1024, height: 683 },
    });
  });

  it('serves the right bytes when the blob was written again after the document was read (its metadata says where each is)', async () => {
    const image = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#aa2244' } }).png().toBuffer();
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'rewritten', image, { contentType: 'image/png' });
    const doc = (await processUpload(host.services, 'rewritten', host.log))!;
    const thumbnail = await bytesOf(await get('rewritten', 'thumbnail'));
    const preview = await bytesOf(await get('rewritten', 'preview'));
    // A document whose ranges no longer fit the blob, as one read just before processing wrote the blob anew would have.
    const stale: ImageDocument = { ...doc, derivatives: { thumbnail: { ...doc.derivatives!.thumbnail!, offset: 7, bytes: 100 }, preview: { ...doc.derivatives!.preview!, offset: 0, bytes: 50 } } };
    await host.services.images.upsert(stale);
    expect((await bytesOf(await get('rewritten', 'thumbnail'))).equals(thumbnail)).toBe(true);
    expect((await bytesOf(await get('rewritten', 'preview'))).equals(preview)).toBe(true);
  });

  it('still serves documents written before the shared blob: each derivative its own whole blob', async () => {
    const thumbnail = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00aa00' } }).jpeg().toBuffer();
    const preview = await sharp({ create: { width: 80, height: 60, channels: 3, background: '#0000aa' } }).jpeg().toBuffer();
    for (const [name, bytes] of [['thumbnail', thumbnail], ['preview', preview]] as const) {
      await host.services.blobs.put(BLOB_CONTAINERS.derived, `older/${name}.jpg`, bytes, { contentType: 'image/jpeg' });
    }
    const now = new Date().toISOString();
    await host.services.images.upsert({
      id: 'older', partitionKey: 'older', schemaVersion: 1, type: 'image', status: 'succeeded', createdAt: now, updatedAt: now,
      source: { container: BLOB_CONTAINERS.uploads, blob: 'older', bytes: 1, uploadedAt: now },
      derivatives: {
        thumbnail: { container: BLOB_CONTAINERS.derived, blob: 'older/thumbnail.jpg', contentType: 'image/jpeg', width: 40, height: 30, bytes: thumbnail.length },
        preview: { container: BLOB_CONTAINERS.derived, blob: 'older/preview.jpg', contentType: 'image/jpeg', width: 80, height: 60, bytes: preview.length },
      },
    });
    const served = { thumbnail: await get('older', 'thumbnail'), preview: await get('older', 'preview') };
    expect(served.thumbnail.headers.get('content-type')).toBe('image/jpeg');
    expect((await bytesOf(served.thumbnail)).equals(thumbnail)).toBe(true);
    expect((await bytesOf(served.preview)).equals(preview)).toBe(true);
    expect(served.thumbnail.headers.get('etag')).not.toBe(served.preview.headers.get('etag'));

    // Processed again (new content under its name): one shared blob, and the blobs of its own are deleted.
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#777777' } }).png().toBuffer();
    await host.services.blobs.put(BLOB_CONTAINERS.uploads, 'older', image, { contentType: 'image/png' });
    expect(await processUpload(host.services, 'older', host.log)).toMatchObject({ status: 'succeeded', derivatives: { thumbnail: { blob: 'older/derivatives', offset: 0 } } });
    expect(await listNames(BLOB_CONTAINERS.derived, 'older/')).toEqual(['older/derivatives']);
  });
});
