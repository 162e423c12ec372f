import { describe, expect, it } from 'vitest';
import { newBatch } from '../../src/lib/batch/batch-document';
import { sweepRetention } from '../../src/lib/jobs/retention-sweep';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import type { ImageDocument } from '../../src/lib/results/image-document';
import { storageError } from '../support/faults';
import { memoryServices } from '../support/memory-services';

const DAY = 24 * 60 * 60 * 1000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A processed image created `ageDays` ago, with its original and derivatives stored: in one blob, or (`own`, as
 * documents from before the shared blob have them) a thumbnail blob of its own.
 */
async function storedImage(world: Awaited<ReturnType<typeof memoryServices>>, id: string, ageDays: number, batch?: { id: string; index: number }, layout: 'shared' | 'own' = 'shared') {
  const created = new Date(Date.now() - ageDays * DAY).toISOString();
  const container = batch ? BLOB_CONTAINERS.batches : BLOB_CONTAINERS.uploads;
  const blob = batch ? `${batch.id}/${batch.index}` : id;
  const doc: ImageDocument = {
    id: batch ? `${batch.id}_${batch.index}` : id,
    partitionKey: batch ? batch.id : id,
    schemaVersion: 1,
    type: 'image',
    ...(batch ? { batchId: batch.id, itemIndex: batch.index } : {}),
    status: 'succeeded',
    source: { container, blob, fileName: `${id}-private.jpg`, contentType: 'image/jpeg', bytes: 3, sha256: 'ab'.repeat(32), uploadedAt: created },
    metadata: { format: 'jpeg', width: 4, height: 3, bytes: 3, hasAlpha: false, camera: { make: 'Canon' } },
    derivatives: layout === 'own'
      ? { thumbnail: { container: BLOB_CONTAINERS.derived, blob: `${id}/thumbnail.jpg`, contentType: 'image/jpeg', width: 4, height: 3, bytes: 2 } }
      : {
          thumbnail: { container: BLOB_CONTAINERS.derived, blob: `${id}/derivatives`, offset: 0, bytes: 2, contentType: 'image/jpeg', width: 4, height: 3 },
          preview: { container: BLOB_CONTAINERS.derived, blob: `${id}/derivatives`, offset: 2, bytes: 2, contentType: 'image/jpeg', width: 4, height: 3 },
        },
    createdAt: created,
    updatedAt: created,
  };
  await world.memory.blobs.put(container, blob, Buffer.from('img'), { contentType: 'image/jpeg' });
  if (layout === 'own') await world.memory.blobs.put(BLOB_CONTAINERS.derived, `${id}/thumbnail.jpg`, Buffer.from('th'), { contentType: 'image/jpeg' });
  else await world.memory.blobs.put(BLOB_CONTAINERS.derived, `${id}/derivatives`, Buffer.from('thpr'), { contentType: 'application/octet-stream' });
  await world.memory.images.upsert(doc);
  return doc;
}

async function blobNames(world: Awaited<ReturnType<typeof memoryServices>>) {
  const names: string[] = [];
  for (const container of Object.values(BLOB_CONTAINERS)) for await (const blob of world.memory.blobs.list(container)) names.push(`${container}/${blob.name}`);
  return names.sort();
}

describe('the retention sweep (in-memory stores)', () => {
  it('deletes every blob of images older than the policy and de-identifies their documents; younger ones stay', async () => {
    const world = await memoryServices();
    await storedImage(world, 'old', 8);
    // A blob of its own from before the shared blob, left when the image was processed again: it goes too.
    await world.memory.blobs.put(BLOB_CONTAINERS.derived, 'old/preview.jpg', Buffer.from('pr'), { contentType: 'image/jpeg' });
    await storedImage(world, 'item', 8, { id: 'b1', index: 0 }, 'own');
    await world.memory.blobs.put(BLOB_CONTAINERS.deadletter, 'b1/0', Buffer.from('{}'), { contentType: 'application/json' });
    await storedImage(world, 'young', 6);
    await world.memory.batches.ensure(newBatch('b1', 1, 'https://hooks.example.test/x?token=1', new Date(Date.now() - 8 * DAY)));
    await world.memory.batches.ensure(newBatch('b2', 1, 'https://hooks.example.test/y', new Date(Date.now() - 6 * DAY)));
    await world.memory.batches.reject({ id: 'r1', batchId: 'b1', index: 5, fileName: 'x.jpg', reason: 'out of range', headers: { 'ip-file-name': 'x.jpg' }, sha256: 'f', at: new Date(Date.now() - 8 * DAY).toISOString() });
    const purged: Date[] = [];
    const orchestrations = { purgeEnded: async (before: Date) => (purged.push(before), 4) };

    const asOf = new Date();
    const result = await sweepRetention({ services: world.services, orchestrations, log: silent }, { asOf });
    expect(result).toMatchObject({ images: 2, batches: 1, rejections: 1, blobs: 6, histories: 4, failures: 0, more: false, dryRun: false });
    // The policy, less one hourly period: 7 days before asOf, plus an hour.
    expect(result.cutoff).toBe(new Date(asOf.getTime() - 7 * DAY + 3600_000).toISOString());
    expect(purged).toEqual([new Date(result.cutoff)]);
    expect(await blobNames(world)).toEqual(['derived/young/derivatives', 'uploads/young']);
    const old = (await world.memory.images.get('old', 'old'))!;
    expect(old).toMatchObject({ status: 'succeeded', metadata: { format: 'jpeg', width: 4, height: 3 }, deidentifiedAt: asOf.toISOString() });
    expect(JSON.stringify([old, await world.memory.images.get('b1_0', 'b1'), await world.memory.batches.get('b1'), await world.memory.batches.rejections('b1', 10)])).not.toMatch(/private|Canon|hooks\.example|x\.jpg|abab/);
    expect((await world.memory.images.get('young', 'young'))!.source.fileName).toBe('young-private.jpg');
    expect((await world.memory.batches.get('b2'))!.callbackUrl).toBe('https://hooks.example.test/y');

    // Idempotent: nothing left to do.
    expect(await sweepRetention({ services: world.services, log: silent }, { asOf })).toMatchObject({ images: 0, batches: 0, rejections: 0, blobs: 0, failures: 0 });
  });

  it('deletes any other blob created before the cutoff, counted from creation (dead letters of unplaced records, other clients\' blobs)', async () => {
    const world = await memoryServices();
    await world.memory.blobs.put(BLOB_CONTAINERS.deadletter, 'unplaced/abc', Buffer.from('{}'), { contentType: 'application/json' });
    await world.memory.blobs.put(BLOB_CONTAINERS.uploads, 'Holiday Anna.jpg', Buffer.from('img'), { contentType: 'image/jpeg' });
    expect(await sweepRetention({ services: world.services, log: silent }, { asOf: new Date() })).toMatchObject({ blobs: 0 });
    expect(await blobNames(world)).toHaveLength(2);
    expect(await sweepRetention({ services: world.services, log: silent }, { asOf: new Date(Date.now() + 7 * DAY) })).toMatchObject({ blobs: 2 });
    expect(await blobNames(world)).toEqual([]);
  });

  it('counts in a dry run and changes nothing', async () => {
    const world = await memoryServices();
    await storedImage(world, 'old', 8);
    const result = await sweepRetention({ services: world.services, orchestrations: { purgeEnded: async () => Promise.reject(new Error('not in a dry run')) }, log: silent }, { asOf: new Date(Date.now() + 7 * DAY), dryRun: true });
    expect(result).toMatchObject({ dryRun: true, images: 1, blobs: 2, failures: 0 });
    expect(result.histories).toBeUndefined();
    expect(await blobNames(world)).toEqual(['derived/old/derivatives', 'uploads/old']);
    expect((await world.memory.images.get('old', 'old'))!.deidentifiedAt).toBeUndefined();
  });

  it('leaves an image whose blob cannot be deleted for the next run, and goes on with the others', async () => {
    const world = await memoryServices();
    await storedImage(world, 'stuck', 9);
    await storedImage(world, 'fine', 8);
    world.faults.storage.fail(['delete'], Infinity, () => storageError(403), (_container, name) => name === 'stuck');
    const lines: string[] = [];
    const log = { ...silent, warn: (line: string) => lines.push(line) };
    const first = await sweepRetention({ services: world.services, log }, { asOf: new Date() });
    expect(first).toMatchObject({ images: 1, failures: 1 });
    expect(lines).toEqual(['retention sweep: image stuck failed, the next run tries again: Storage answered 403 (injected)']);
    expect((await world.memory.images.get('stuck', 'stuck'))!.source.fileName).toBe('stuck-private.jpg');
    expect((await world.memory.images.get('fine', 'fine'))!.deidentifiedAt).toBeDefined();
    world.faults.storage.heal();
    expect(await sweepRetention({ services: world.services, log: silent }, { asOf: new Date() })).toMatchObject({ images: 1, failures: 0 });
    expect((await world.memory.images.get('stuck', 'stuck'))!.deidentifiedAt).toBeDefined();
  });

  it('is bounded per run: stops at its limit, says there is more, and the next runs carry on', async () => {
    const world = await memoryServices();
    for (let i = 0; i < 5; i++) await storedImage(world, `i${i}`, 8 + i / 10);
    const runs: number[] = [];
    for (let run = 0; run < 5; run++) {
      const result = await sweepRetention({ services: world.services, log: silent, limit: 2 }, { asOf: new Date() });
      runs.push(result.images);
      if (!result.more) break;
    }
    expect(runs).toEqual([2, 2, 1]);
    for (let i = 0; i < 5; i++) expect((await world.memory.images.get(`i${i}`, `i${i}`))!.deidentifiedAt).toBeDefined();
  });
});
