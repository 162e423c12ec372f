import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CosmosImageResults } from '../../src/lib/results/cosmos-image-results';
import { queuedImage, type ImageDocument } from '../../src/lib/results/image-document';
import { MemoryImageResults } from '../../src/lib/results/memory-image-results';
import type { ImageResults } from '../../src/lib/results/result-store';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { freshContainers } from './cosmos-standin';

let standIn: CosmosStandIn;
beforeAll(async () => {
  standIn = await startCosmosStandIn();
});
afterAll(() => standIn?.stop());

const adapters: Array<[string, () => Promise<ImageResults>]> = [
  ['in memory', async () => new MemoryImageResults()],
  ['Cosmos DB (stand-in)', async () => new CosmosImageResults((await freshContainers(standIn)).images)],
];

const source = { container: 'uploads', blob: 'b', bytes: 10, sha256: 'abc', uploadedAt: '2024-05-01T00:00:00.000Z' };
function image(id: string, fields: Partial<ImageDocument> = {}): ImageDocument {
  return { ...queuedImage({ id, partitionKey: fields.partitionKey ?? id, source }, new Date(fields.createdAt ?? '2024-05-01T00:00:00.000Z')), ...fields };
}

/** The one ImageResults contract: what the app relies on, held against every adapter. */
describe.each(adapters)('ImageResults contract: %s', (_name, create) => {
  let store: ImageResults;
  beforeEach(async () => {
    store = await create();
  });

  it('creates a document once per id and partition', async () => {
    expect(await store.create(image('one'))).toBe(true);
    expect(await store.create(image('one', { status: 'failed' }))).toBe(false);
    expect(await store.create(image('one', { partitionKey: 'batch-1' }))).toBe(true);
    expect((await store.get('one', 'one'))!.status).toBe('queued');
  });

  it('creates many documents at once, each once per id and partition, saying which were created', async () => {
    await store.create(image('seen', { partitionKey: 'batch-2' }));
    const docs = Array.from({ length: 150 }, (_, i) => image(`batch-2_${i}`, { partitionKey: 'batch-2' }));
    expect(await store.createMany([...docs.slice(0, 120), image('seen', { partitionKey: 'batch-2', status: 'failed' }), ...docs.slice(120), docs[3]])).toEqual([
      ...Array(120).fill(true),
      false,
      ...Array(30).fill(true),
      false,
    ]);
    expect(await store.get('batch-2_149', 'batch-2')).toEqual(docs[149]);
    expect((await store.get('seen', 'batch-2'))!.status).toBe('queued');
    expect(await store.createMany([])).toEqual([]);
  });

  it('writes a result onto a queued document of the given content without reading it, and onto nothing else', async () => {
    const sha = 'a'.repeat(64);
    const queued = image('b3_0', { partitionKey: 'b3', source: { ...source, sha256: sha } });
    await store.create(queued);
    const result = { status: 'succeeded' as const, updatedAt: '2024-05-01T00:00:05.000Z', processing: { engine: 'sharp', durationMs: 12, finishedAt: '2024-05-01T00:00:05.000Z' }, warnings: ['odd'] };
    expect(await store.finishQueued('b3_0', 'b3', 'b'.repeat(64), result)).toBeUndefined(); // other content
    expect(await store.finishQueued('b3_9', 'b3', sha, result)).toBeUndefined(); // no such document
    expect(await store.finishQueued('b3_0', 'b3', sha, result)).toEqual({ ...queued, ...result });
    expect(await store.get('b3_0', 'b3')).toEqual({ ...queued, ...result });
    expect(await store.finishQueued('b3_0', 'b3', sha, { status: 'failed', updatedAt: '2024-05-01T00:00:06.000Z', error: { reason: 'late' } })).toBeUndefined(); // ended already
    expect((await store.get('b3_0', 'b3'))!.status).toBe('succeeded');
  });

  it('reads by id and partition, finds by id alone, and answers undefined for what is not there', async () => {
    await store.create(image('b_0', { partitionKey: 'b', batchId: 'b', itemIndex: 0 }));
    expect(await store.get('b_0', 'b')).toMatchObject({ id: 'b_0', batchId: 'b', itemIndex: 0 });
    expect(await store.get('b_0', 'other')).toBeUndefined();
    expect(await store.find('b_0')).toMatchObject({ id: 'b_0', partitionKey: 'b' });
    expect(await store.find('nothing')).toBeUndefined();
    expect(Object.keys((await store.get('b_0', 'b'))!).filter((key) => key.startsWith('_'))).toEqual([]);
  });

  it('upserts: creates, then replaces', async () => {
    await store.upsert(image('u'));
    await store.upsert(image('u', { status: 'succeeded' }));
    expect((await store.get('u', 'u'))!.status).toBe('succeeded');
  });

  it('lists newest first, filtered, a page at a time, every document once', async () => {
    const times = ['2024-05-01T10:00:00.000Z', '2024-05-02T10:00:00.000Z', '2024-05-03T10:00:00.000Z', '2024-05-04T10:00:00.000Z', '2024-05-05T10:00:00.000Z'];
    await store.create(image('i0', { createdAt: times[0], status: 'succeeded', metadata: { format: 'png', width: 1, height: 1, bytes: 1, hasAlpha: false } }));
    await store.create(image('i1', { createdAt: times[1], status: 'failed' }));
    await store.create(image('b_0', { createdAt: times[2], partitionKey: 'b', batchId: 'b', itemIndex: 0 }));
    await store.create(image('b_1', { createdAt: times[3], partitionKey: 'b', batchId: 'b', itemIndex: 1, status: 'succeeded' }));
    await store.create(image('i4', { createdAt: times[4] }));

    const all: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await store.list({}, { limit: 2, continuationToken });
      expect(page.items.length).toBeLessThanOrEqual(2);
      all.push(...page.items.map((d) => d.id));
      continuationToken = page.continuationToken;
    } while (continuationToken);
    expect(all).toEqual(['i4', 'b_1', 'b_0', 'i1', 'i0']);

    const ids = async (filter: Parameters<ImageResults['list']>[0]) => (await store.list(filter, { limit: 10 })).items.map((d) => d.id);
    expect(await ids({ status: 'succeeded' })).toEqual(['b_1', 'i0']);
    expect(await ids({ format: 'png' })).toEqual(['i0']);
    expect(await ids({ batchId: 'b' })).toEqual(['b_1', 'b_0']);
    expect(await ids({ from: times[1], to: times[3] })).toEqual(['b_0', 'i1']);
  });

  it('lists for the retention sweep: created before a time, not de-identified, oldest first, keyset after a time', async () => {
    const times = ['2024-05-01T10:00:00.000Z', '2024-05-02T10:00:00.000Z', '2024-05-03T10:00:00.000Z', '2024-05-04T10:00:00.000Z'];
    await store.create(image('e3', { createdAt: times[3] }));
    await store.create(image('b_0', { createdAt: times[1], partitionKey: 'b', batchId: 'b', itemIndex: 0 }));
    await store.create(image('e0', { createdAt: times[0] }));
    await store.create(image('done', { createdAt: times[0], deidentifiedAt: '2024-05-09T00:00:00.000Z' }));
    await store.create(image('e2', { createdAt: times[2] }));
    const ids = (docs: ImageDocument[]) => docs.map((d) => d.id);
    expect(ids(await store.listExpired('2024-05-04T00:00:00.000Z', undefined, 10))).toEqual(['e0', 'b_0', 'e2']);
    expect(ids(await store.listExpired('2024-05-04T00:00:00.000Z', undefined, 2))).toEqual(['e0', 'b_0']);
    expect(ids(await store.listExpired('2024-05-04T00:00:00.000Z', times[1], 2))).toEqual(['e2']);
    expect(await store.listExpired('2024-05-01T00:00:00.000Z', undefined, 10)).toEqual([]);
    // A de-identified document is never selected again.
    await store.upsert({ ...(await store.get('e0', 'e0'))!, deidentifiedAt: '2024-05-09T00:00:00.000Z' });
    expect(ids(await store.listExpired('2024-05-04T00:00:00.000Z', undefined, 10))).toEqual(['b_0', 'e2']);
    expect(Object.keys((await store.listExpired('2024-05-04T00:00:00.000Z', undefined, 1))[0]).filter((key) => key.startsWith('_'))).toEqual([]);
  });
});
