import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { startTestHost } from './local-host';

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

describe('LOCAL_STORAGE_PATH', () => {
  it('keeps uploads across restarts of the local host, and the watcher processes them again on start', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'image-pipeline-'));
    folders.push(folder);
    const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#204080' } }).png().toBuffer();

    const first = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '60000' });
    await first.services.blobs.put(BLOB_CONTAINERS.uploads, 'kept', image, { contentType: 'image/png' });
    await first.stop();

    // The Cosmos stand-in is in memory: the result comes back because the blob does and is processed again.
    const second = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '50' });
    try {
      expect((await second.services.blobs.get(BLOB_CONTAINERS.uploads, 'kept'))?.bytes.equals(image)).toBe(true);
      let doc = await second.services.images.get('kept', 'kept');
      for (let i = 0; i < 100 && doc?.status !== 'succeeded'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        doc = await second.services.images.get('kept', 'kept');
      }
      expect(doc).toMatchObject({ status: 'succeeded', metadata: { width: 40, height: 30 }, analysis: { meanColour: '#204080' } });
    } finally {
      await second.stop();
    }
  });
});
