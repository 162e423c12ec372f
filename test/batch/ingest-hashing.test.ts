import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { buildRecord, headersAsBytes, itemBlobName, itemDocumentId } from '../../src/lib/batch/record';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { ingestRecords } from '../../src/lib/orchestration/intake';
import { collectingLogger } from '../support/event-hub-trigger';
import { encodeImage, solidRaster } from '../support/images';
import { memoryServices } from '../support/memory-services';

/** Every buffer the app's sha256 helper is given, by its hex digest (computed here with node:crypto, independently). */
const hashed = vi.hoisted(() => new Map<string, number>());
vi.mock('../../src/lib/hash', async (original) => {
  const real = await original<typeof import('../../src/lib/hash')>();
  return { sha256: (bytes: Uint8Array) => {
    const digest = real.sha256(bytes);
    hashed.set(digest, (hashed.get(digest) ?? 0) + 1);
    return digest;
  } };
});

const hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('ingest hashes each item once', () => {
  it('gives the one sha256 to the item blob\'s metadata and the item\'s source', async () => {
    const { services, memory } = await memoryServices();
    const images = await Promise.all([0, 1, 2].map((i) => encodeImage(solidRaster(24, 16, [60 * i, 90, 200]), 'png')));
    const records = images.map((bytes, index) => {
      const record = buildRecord({ batchId: 'hash-once', index, count: images.length, fileName: `p${index}.png`, contentType: 'image/png', bytes });
      return { key: record.key, value: record.value, headers: headersAsBytes(record.headers) };
    });
    const starter = { startOnce: async () => true, state: async () => undefined, purgeEnded: async () => 0 };
    hashed.clear();
    expect(await ingestRecords({ services, starter, log: collectingLogger() }, records)).toMatchObject({ accepted: 3 });
    for (const [index, bytes] of images.entries()) {
      expect(hashed.get(hex(bytes)), `item ${index}`).toBe(1);
      expect((await memory.blobs.get(BLOB_CONTAINERS.batches, itemBlobName('hash-once', index)))!.metadata.sha256).toBe(hex(bytes));
      expect((await memory.images.get(itemDocumentId('hash-once', index), 'hash-once'))!.source.sha256).toBe(hex(bytes));
    }
  });
});
