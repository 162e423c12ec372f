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
  it('keeps uploads and results across restarts of the local host', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'image-pipeline-'));
    folders.push(parent);
    // A folder that does not exist yet: the local host creates it.
    const folder = join(parent, 'state');
    const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#204080' } }).png().toBuffer();

    const first = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '50' });
    await first.services.blobs.put(BLOB_CONTAINERS.uploads, 'kept', image, { contentType: 'image/png' });
    let doc = await first.services.images.get('kept', 'kept');
    for (let i = 0; i < 200 && doc?.status !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      doc = await first.services.images.get('kept', 'kept');
    }
    expect(doc?.status).toBe('succeeded');
    await first.stop();

    // The watcher is slowed down: the result is there because the Cosmos stand-in kept it, not because it was redone.
    const second = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '60000' });
    try {
      expect((await second.services.blobs.get(BLOB_CONTAINERS.uploads, 'kept'))?.bytes.equals(image)).toBe(true);
      expect(await second.services.images.get('kept', 'kept')).toEqual(doc);
      expect(second.describe().join('\n')).toContain(`Cosmos DB stand-in (embedded, persisted in ${join(folder, 'cosmos')})`);
    } finally {
      await second.stop();
    }
  });
});
