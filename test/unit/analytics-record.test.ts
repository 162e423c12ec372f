import { describe, expect, it } from 'vitest';
import { failureCategory } from '../../src/lib/analytics/failure-category';
import { MemoryAnalyticsStore } from '../../src/lib/analytics/memory-analytics-store';
import { createHmac } from 'node:crypto';
import { recordBatchEnd, recordImageEnd, recordImagesEnd, recorderOf } from '../../src/lib/analytics/record';
import type { Services } from '../../src/lib/services';
import { statsFrom } from '../../src/lib/analytics/stats';
import { NEVER_RECEIVED } from '../../src/lib/batch/batch-document';
import { validateImage } from '../../src/lib/images/validate';
import { failedImage, queuedImage, type ImageDocument } from '../../src/lib/results/image-document';
import { cosmosError, Faults } from '../support/faults';
import { textFile, truncatedPng } from '../support/images';

const source = { container: 'uploads', blob: 'x', fileName: 'me-at-home.jpg', contentType: 'image/jpeg', bytes: 200_000, sha256: 'f'.repeat(64), uploadedAt: '2024-05-01T10:00:00.000Z' };
function succeeded(id: string, hash: string, fields: Partial<ImageDocument> = {}): ImageDocument {
  return {
    ...queuedImage({ id, partitionKey: id, source }, new Date('2024-05-01T10:00:00.000Z')),
    status: 'succeeded',
    metadata: { format: 'jpeg', width: 2000, height: 1500, bytes: 200_000, hasAlpha: false, camera: { make: 'Canon', model: 'EOS' }, takenAt: '2024-04-30T09:00:00' },
    analysis: { perceptualHash: hash, meanColour: '#808080', palette: [{ colour: '#808080', share: 1 }], brightness: 0.45, contrast: 0.2, sharpness: 300 },
    processing: { engine: 'sharp', durationMs: 42, finishedAt: '2024-05-01T10:00:01.000Z' },
    ...fields,
  };
}
const recorder = (analytics: MemoryAnalyticsStore | ReturnType<Faults['wrap']>) => ({ analytics: analytics as MemoryAnalyticsStore, duplicateDistance: 4, ownerHashOf: () => null });
const dayStats = async (store: MemoryAnalyticsStore) => statsFrom(await store.aggregates({ from: '2024-05-01', to: '2024-05-02' }));

describe('recording ended images and batches', () => {
  it('writes a fact without file name, camera, capture time, blob or sha256', async () => {
    const store = new MemoryAnalyticsStore();
    const fact = await recordImageEnd(recorder(store), succeeded('img-1', '3c5a9f0e1b2d4c6a'));
    const text = JSON.stringify(fact);
    for (const personal of ['me-at-home', 'Canon', 'EOS', '2024-04-30T09', 'f'.repeat(64), 'uploads']) expect(text).not.toContain(personal);
    expect(fact).toMatchObject({ day: '2024-05-01', status: 'succeeded', format: 'jpeg', megapixels: 3, duplicateGroup: 'img-1', duplicateOf: null });
  });

  it('keeps the owner as OWNER_HASH_SALT\'s HMAC of the object id, never the id; nobody\'s images have none', async () => {
    const salt = 's'.repeat(32);
    const owned = recorderOf({ analytics: new MemoryAnalyticsStore(), config: { duplicateHashDistance: 4, ownerHashSalt: salt } as Services['config'] });
    const owner = '5b0c2f43-9d1e-4a8b-a7e2-3f6d8c1b9e70';
    const fact = await recordImageEnd(owned, succeeded('img-1', '3c5a9f0e1b2d4c6a', { owner }));
    expect(fact!.ownerHash).toBe(createHmac('sha256', Buffer.from(salt)).update(owner).digest('base64url'));
    expect(JSON.stringify(fact)).not.toContain(owner);
    expect((await recordImageEnd(owned, succeeded('img-2', '0f0f0f0f0f0f0f0f', { owner: 'unattributed' })))!.ownerHash).toBeNull();
  });

  it('counts an image once however often it is recorded, and moves it when a retry changes its outcome', async () => {
    const store = new MemoryAnalyticsStore();
    const failed = failedImage(succeeded('img-1', '3c5a9f0e1b2d4c6a'), 'The PNG image cannot be decoded: bad data', 'sharp');
    for (let i = 0; i < 3; i++) await recordImageEnd(recorder(store), failed);
    expect((await dayStats(store)).byStatus).toEqual({ succeeded: 0, failed: 1 });
    expect((await dayStats(store)).topFailureReasons).toEqual([{ category: 'undecodable', count: 1 }]);
    for (let i = 0; i < 3; i++) await recordImageEnd(recorder(store), succeeded('img-1', '3c5a9f0e1b2d4c6a'));
    const stats = await dayStats(store);
    expect(stats.byStatus).toEqual({ succeeded: 1, failed: 0 });
    expect(stats.topFailureReasons).toEqual([]);
    expect(stats.byFormat).toEqual({ jpeg: 1 });
  });

  it('survives a failure between any two writes: the next attempt finishes the count, never doubles it', async () => {
    // Fail each store call in turn, once, then record again (a redelivery), and check the counts each time.
    // A first recording makes 8 calls: read, band lookup, fact, day and batch counts, count state, two markers.
    for (let failAt = 0; failAt < 8; failAt++) {
      const store = new MemoryAnalyticsStore();
      const faults = new Faults();
      let calls = 0;
      faults.fail(['getFact', 'putFact', 'setCountState', 'applyOnce', 'clearMarker', 'sharingBand'], 1, () => cosmosError(503), () => calls++ === failAt);
      const wrapped = faults.wrap(store);
      const doc = succeeded('img-1', '3c5a9f0e1b2d4c6a', { batchId: 'b1' });
      // The attempt that meets the failure stops there; the ones after it (redeliveries) go through.
      for (let attempt = 0; attempt < 3; attempt++) await recordImageEnd(recorder(wrapped), doc).catch(() => undefined);
      expect(faults.injected, `failure at call ${failAt}`).toHaveLength(1);
      expect((await dayStats(store)).byStatus, `failure at call ${failAt}`).toEqual({ succeeded: 1, failed: 0 });
      expect(statsFrom(await store.aggregates({ batchId: 'b1' })).byStatus).toEqual({ succeeded: 1, failed: 0 });
    }
  });

  it('links a near-duplicate to the earlier image and counts it once', async () => {
    const store = new MemoryAnalyticsStore();
    await recordImageEnd(recorder(store), succeeded('first', '3c5a9f0e1b2d4c6a'));
    const copy = await recordImageEnd(recorder(store), succeeded('copy', '3c5a9f0e1b2d5d7b'));
    const far = await recordImageEnd(recorder(store), succeeded('far', 'c3a560f1e4d2b395'));
    const flat = await recordImageEnd(recorder(store), succeeded('flat', '0000000000000000'));
    expect(copy).toMatchObject({ duplicateOf: 'first', duplicateGroup: 'first' });
    expect(far).toMatchObject({ duplicateOf: null, duplicateGroup: 'far' });
    expect(flat).toMatchObject({ duplicateOf: null, duplicateGroup: null, hashDegenerate: 'all zeros' });
    await recordImageEnd(recorder(store), succeeded('copy', '3c5a9f0e1b2d5d7b'));
    expect((await dayStats(store)).duplicates).toEqual({ images: 1, rate: 0.25 });
  });

  /** A batch's items: near-duplicates among them (1, 3 and 5), a flat one, failures, over more counters than one patch takes. */
  function batchItems(): ImageDocument[] {
    const hashes = ['3c5a9f0e1b2d4c6a', 'c3a560f1e4d2b395', '0000000000000000', '3c5a9f0e1b2d5d7b', '5a5a5a5a0f0f0f0f', '3c5a9f0e1b2d4c6b', '9b1d7e3f5a2c4e60'];
    return hashes.map((hash, i) => {
      const doc = succeeded(`b1_${i}`, hash, { partitionKey: 'b1', batchId: 'b1', itemIndex: i, processing: { engine: 'sharp', durationMs: 10 * (i + 1) ** 2, finishedAt: '2024-05-01T10:00:01.000Z' } });
      return i === 4 ? failedImage(doc, 'The PNG image cannot be decoded: bad data', 'sharp', new Date('2024-05-01T10:00:02.000Z')) : doc;
    });
  }
  // As stored documents are compared: a field set to undefined is no field.
  const withoutTimes = (facts: unknown[]) => JSON.parse(JSON.stringify(facts.map((f) => ({ ...(f as object), recordedAt: undefined }))));
  async function allFacts(store: MemoryAnalyticsStore) {
    const facts = [];
    for await (const page of store.factsOfDay('image', '2024-05-01')) facts.push(...page);
    return facts.sort((a, b) => a.id.localeCompare(b.id));
  }

  it('records a batch of images at once exactly as one by one in index order: the same facts, groups and counts', async () => {
    const earlier = succeeded('earlier', 'c3a560f1e4d2b390');
    const one = new MemoryAnalyticsStore();
    await recordImageEnd(recorder(one), earlier);
    for (const doc of batchItems()) await recordImageEnd(recorder(one), doc);
    const all = new MemoryAnalyticsStore();
    await recordImageEnd(recorder(all), earlier);
    await recordImagesEnd(recorder(all), batchItems().reverse());
    expect(withoutTimes(await allFacts(all))).toEqual(withoutTimes(await allFacts(one)));
    expect(await all.aggregates({ from: '2024-05-01', to: '2024-05-02' })).toEqual(await one.aggregates({ from: '2024-05-01', to: '2024-05-02' }));
    expect(await all.aggregates({ batchId: 'b1' })).toEqual(await one.aggregates({ batchId: 'b1' }));
    expect((await allFacts(all)).find((f) => f.id === 'image:b1_1')).toMatchObject({ duplicateOf: 'earlier' });
    expect((await allFacts(all)).find((f) => f.id === 'image:b1_5')).toMatchObject({ duplicateOf: 'b1_0', duplicateGroup: 'b1_0' });
    // Recorded again (the summary activity run again): nothing changes; with changed outcomes (a retried batch), the counts move.
    await recordImagesEnd(recorder(all), batchItems());
    expect(await all.aggregates({ batchId: 'b1' })).toEqual(await one.aggregates({ batchId: 'b1' }));
    const retried = batchItems().map((doc) => (doc.itemIndex === 4 ? succeeded(doc.id, '5a5a5a5a0f0f0f0f', { partitionKey: 'b1', batchId: 'b1', itemIndex: 4 }) : doc));
    await recordImagesEnd(recorder(all), retried);
    for (const doc of retried) await recordImageEnd(recorder(one), doc);
    expect(await all.aggregates({ batchId: 'b1' })).toEqual(await one.aggregates({ batchId: 'b1' }));
    expect(statsFrom(await all.aggregates({ batchId: 'b1' })).byStatus).toEqual({ succeeded: 7, failed: 0 });
  });

  it('finds the same near-duplicate groups at once as one by one in a batch of many similar images', async () => {
    // 120 hashes: 6 bases, each with 0-5 bits flipped (near-duplicates of their base and of each other, some too far).
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const bases = Array.from({ length: 6 }, () => BigInt(Math.floor(random() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(random() * 2 ** 32)));
    const docs = Array.from({ length: 120 }, (_, i) => {
      let hash = bases[i % 6];
      for (let flips = Math.floor(random() * 6); flips > 0; flips--) hash ^= 1n << BigInt(Math.floor(random() * 64));
      return succeeded(`m_${i}`, hash.toString(16).padStart(16, '0'), { partitionKey: 'm', batchId: 'm', itemIndex: i });
    });
    // One by one, each image is recorded a second after the one before; at once, all share one time. Equal distances
    // are common here, so the earlier-recorded image must win either way.
    const at = (second: number) => new Date(Date.UTC(2024, 4, 2, 0, 0, second));
    const one = new MemoryAnalyticsStore();
    await recordImageEnd(recorder(one), succeeded('earlier', docs[7].analysis!.perceptualHash), at(0));
    for (const [i, doc] of docs.entries()) await recordImageEnd(recorder(one), doc, at(1 + i));
    const all = new MemoryAnalyticsStore();
    await recordImageEnd(recorder(all), succeeded('earlier', docs[7].analysis!.perceptualHash), at(0));
    await recordImagesEnd(recorder(all), docs, at(1));
    const groups = (facts: unknown[]) => facts.map((f) => f as { id: string; duplicateOf: string | null; duplicateGroup: string | null }).map(({ id, duplicateOf, duplicateGroup }) => ({ id, duplicateOf, duplicateGroup }));
    expect(groups(await allFacts(all))).toEqual(groups(await allFacts(one)));
    // Not a vacuous comparison: most images are someone's near-duplicate, and more than one group formed.
    const facts = groups(await allFacts(one));
    expect(facts.filter((f) => f.duplicateOf).length).toBeGreaterThan(60);
    expect(new Set(facts.map((f) => f.duplicateGroup)).size).toBeGreaterThan(3);
  });

  it('records a batch of images exactly once when any store call fails: the next attempt finishes the count, never doubles it', async () => {
    const expected = new MemoryAnalyticsStore();
    await recordImagesEnd(recorder(expected), batchItems());
    const want = await expected.aggregates({ batchId: 'b1' });
    expect(statsFrom(want).byStatus).toEqual({ succeeded: 6, failed: 1 });
    const methods = ['getFacts', 'putFacts', 'applyOnce', 'clearMarker', 'sharingAnyBand', 'getFact', 'putFact', 'setCountState', 'sharingBand'];
    // The store calls of one recording, counted on a run that fails none of them.
    let calls = 0;
    await recordImagesEnd(recorder(new Faults().fail(methods, 1, () => cosmosError(503), () => (calls++, false)).wrap(new MemoryAnalyticsStore())), batchItems());
    expect(calls).toBeGreaterThan(5);
    for (let failAt = 0; failAt < calls; failAt++) {
      const store = new MemoryAnalyticsStore();
      const faults = new Faults();
      let n = 0;
      faults.fail(methods, 1, () => cosmosError(503), () => n++ === failAt);
      const wrapped = faults.wrap(store);
      // The attempt that meets the failure stops there; the ones after it (the activity's retries) go through.
      for (let attempt = 0; attempt < 3; attempt++) await recordImagesEnd(recorder(wrapped), batchItems()).catch(() => undefined);
      expect(faults.injected, `failure at call ${failAt}`).toHaveLength(1);
      expect(await store.aggregates({ batchId: 'b1' }), `failure at call ${failAt}`).toEqual(want);
      expect(await store.aggregates({ from: '2024-05-01', to: '2024-05-02' }), `failure at call ${failAt}`).toEqual(await expected.aggregates({ from: '2024-05-01', to: '2024-05-02' }));
      expect((await allFacts(store)).every((f) => f.countedAs && !f.counting), `failure at call ${failAt}`).toBe(true);
    }
  });

  it('records a batch once, with its status in the day counts', async () => {
    const store = new MemoryAnalyticsStore();
    const batch = { id: 'b1', status: 'completed', itemCount: 2, createdAt: '2024-05-01T09:00:00.000Z', startedAt: '2024-05-01T09:00:02.000Z', completedAt: '2024-05-01T09:00:05.000Z' };
    await recordBatchEnd(recorder(store), batch);
    await recordBatchEnd(recorder(store), batch);
    expect((await dayStats(store)).batches).toEqual({ completed: 1 });
    expect(await store.getFact('batch:b1', '2024-05-01')).toMatchObject({ receiveMs: 2000, processingMs: 3000, status: 'completed' });
  });

  it('knows the failure categories of the messages the code writes', async () => {
    const detail = (bytes: Buffer) => {
      try {
        validateImage(bytes, { maxBytes: 1000, maxPixels: 1_000_000 });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('valid');
    };
    expect(failureCategory(detail(Buffer.alloc(0)))).toBe('empty');
    expect(failureCategory(detail(textFile()))).toBe('unsupported-type');
    expect(failureCategory(detail(Buffer.alloc(2000, 1)))).toBe('too-large');
    const truncated = await truncatedPng();
    try {
      validateImage(truncated, { maxBytes: 1e7, maxPixels: 1e7 });
    } catch (error) {
      expect(failureCategory((error as Error).message)).toBe('truncated');
    }
    expect(failureCategory(NEVER_RECEIVED)).toBe('never-received');
    expect(failureCategory('Processing kept failing after 4 attempts: boom')).toBe('kept-failing');
    expect(failureCategory('something new')).toBe('other');
  });
});
