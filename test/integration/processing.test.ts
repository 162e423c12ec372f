import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../src/lib/names';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { processUpload } from '../../src/lib/processing/process-upload';
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
    expect(await listNames(BLOB_CONTAINERS.derived, 'twice/')).toEqual(['twice/preview.jpg', 'twice/thumbnail.jpg']);
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
