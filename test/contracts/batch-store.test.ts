import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newBatch, type RejectedRecord } from '../../src/lib/batch/batch-document';
import { allBatches, allItems, type BatchStore } from '../../src/lib/batch/batch-store';
import { CosmosBatchStore } from '../../src/lib/batch/cosmos-batch-store';
import { MemoryBatchStore } from '../../src/lib/batch/memory-batch-store';
import { itemDocumentId } from '../../src/lib/batch/record';
import { CosmosImageResults } from '../../src/lib/results/cosmos-image-results';
import { failedImage, queuedImage } from '../../src/lib/results/image-document';
import { MemoryImageResults } from '../../src/lib/results/memory-image-results';
import type { ImageResults } from '../../src/lib/results/result-store';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { freshContainers } from './cosmos-standin';

let standIn: CosmosStandIn;
beforeAll(async () => {
  standIn = await startCosmosStandIn();
});
afterAll(() => standIn?.stop());

/** A batch store and the image results its items are written through (one Cosmos account, or one memory). */
const adapters: Array<[string, () => Promise<{ batches: BatchStore; images: ImageResults }>]> = [
  [
    'in memory',
    async () => {
      const images = new MemoryImageResults();
      return { batches: new MemoryBatchStore(images), images };
    },
  ],
  [
    'Cosmos DB (stand-in)',
    async () => {
      const containers = await freshContainers(standIn);
      return { batches: new CosmosBatchStore(containers), images: new CosmosImageResults(containers.images) };
    },
  ],
];

const source = { container: 'batches', blob: 'b/0', bytes: 10, sha256: 'abc', uploadedAt: '2024-05-01T00:00:00.000Z' };
const item = (batchId: string, index: number) => queuedImage({ id: itemDocumentId(batchId, index), partitionKey: batchId, batchId, itemIndex: index, source });
const at = (day: number) => new Date(Date.UTC(2024, 4, day));
const rejection = (batchId: string, id: string, time: string): RejectedRecord => ({ id, batchId, index: 7, reason: 'out of range', headers: { 'ip-version': '1' }, sha256: 'f00', at: time });

/** The one BatchStore contract: what the app relies on, held against every adapter. */
describe.each(adapters)('BatchStore contract: %s', (_name, create) => {
  let batches: BatchStore;
  let images: ImageResults;
  beforeEach(async () => {
    ({ batches, images } = await create());
  });

  it('creates a batch once and answers what is stored after that', async () => {
    const first = await batches.ensure(newBatch('b1', 3, 'https://example.test/hook', at(1)));
    expect(first).toMatchObject({ id: 'b1', status: 'receiving', itemCount: 3, callbackUrl: 'https://example.test/hook' });
    const again = await batches.ensure(newBatch('b1', 5, undefined, at(2)));
    expect(again).toMatchObject({ itemCount: 3, createdAt: at(1).toISOString(), callbackUrl: 'https://example.test/hook' });
    expect(await batches.get('b1')).toEqual(first);
    expect(await batches.get('nope')).toBeUndefined();
  });

  it('updates fields, clears one with null, and only from the statuses given', async () => {
    await batches.ensure(newBatch('b2', 1, undefined, at(1)));
    expect(await batches.update('b2', { status: 'failed', failure: { reason: 'boom', at: at(2).toISOString() } }, ['receiving'])).toBe(true);
    expect(await batches.update('b2', { status: 'completed' }, ['receiving', 'processing'])).toBe(false);
    expect(await batches.get('b2')).toMatchObject({ status: 'failed', failure: { reason: 'boom' } });
    expect(await batches.update('b2', { status: 'processing', failure: null, retries: 1 })).toBe(true);
    expect(await batches.get('b2')).toMatchObject({ status: 'processing', failure: null, retries: 1, itemCount: 1 });
    expect(await batches.update('missing', { status: 'failed' })).toBe(false);
    expect(await batches.update('missing', { status: 'failed' }, ['receiving'])).toBe(false);
  });

  it('answers the document as written by an update, or nothing where update answers false', async () => {
    await batches.ensure(newBatch('b7', 2, undefined, at(1)));
    const written = await batches.updateAndRead('b7', { status: 'processing', startedAt: at(2).toISOString() }, ['receiving']);
    expect(written).toEqual({ ...newBatch('b7', 2, undefined, at(1)), status: 'processing', startedAt: at(2).toISOString() });
    expect(written).toEqual(await batches.get('b7'));
    expect(await batches.updateAndRead('b7', { status: 'completed' }, ['receiving'])).toBeUndefined();
    expect(await batches.updateAndRead('missing', { status: 'completed' })).toBeUndefined();
  });

  it('lets exactly one of concurrent updates from the same status through', async () => {
    await batches.ensure(newBatch('b3', 1, undefined));
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => batches.update('b3', { status: 'processing', instanceId: `i${i}` }, ['receiving'])));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lists batches oldest update first, by status and updatedBefore, a page at a time', async () => {
    for (const [id, day, status] of [['l1', 3, 'receiving'], ['l2', 1, 'receiving'], ['l3', 2, 'completed'], ['l4', 4, 'receiving']] as const) {
      await batches.ensure({ ...newBatch(id, 1, undefined, at(day)), status });
    }
    const ids: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await batches.list({}, { limit: 3, continuationToken });
      ids.push(...page.items.map((b) => b.id));
      continuationToken = page.continuationToken;
    } while (continuationToken);
    expect(ids).toEqual(['l2', 'l3', 'l1', 'l4']);
    expect((await batches.list({ status: 'receiving', updatedBefore: at(4).toISOString() }, { limit: 10 })).items.map((b) => b.id)).toEqual(['l2', 'l1']);
    const walked: string[] = [];
    for await (const batch of allBatches(batches, { status: 'receiving' })) walked.push(batch.id);
    expect(walked).toEqual(['l2', 'l1', 'l4']);
  });

  it("counts and pages a batch's items in index order, never past its item count or into other batches", async () => {
    for (const index of [3, 0, 2, 1]) await images.create(item('b4', index));
    await images.create(item('b4', 9)); // a stray index beyond the count
    await images.create(item('other', 0));
    await images.upsert(failedImage(item('b4', 2), 'bad', 'sharp', at(1)));
    expect(await batches.countItems('b4', 4)).toBe(4);
    expect(await batches.countItems('b4', 4, 'failed')).toBe(1);
    expect(await batches.countItems('b4', 4, 'queued')).toBe(3);
    expect((await batches.listItems('b4', -1, 2)).map((d) => d.itemIndex)).toEqual([0, 1]);
    expect((await batches.listItems('b4', 1, 10)).map((d) => d.itemIndex)).toEqual([2, 3, 9]);
    expect((await allItems(batches, 'b4')).map((d) => d.id)).toEqual(['b4_0', 'b4_1', 'b4_2', 'b4_3', 'b4_9']);
  });

  it("reads a batch's items at given indexes, only those that exist, never another batch's", async () => {
    for (let index = 0; index < 130; index += 2) await images.create(item('b5', index));
    await images.create(item('other', 1));
    const indexes = Array.from({ length: 120 }, (_, i) => i + 1);
    expect((await batches.itemsAt('b5', indexes)).map((d) => d.itemIndex).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 60 }, (_, i) => 2 * i + 2));
    expect(await batches.itemsAt('b5', [1, 3])).toEqual([]);
    expect(await batches.itemsAt('b5', [])).toEqual([]);
  });

  it('keeps a rejected record once, oldest first, apart from the items and from image queries', async () => {
    await images.create(item('b5', 0));
    expect(await batches.reject(rejection('b5', 'b5_rejected_2', '2024-05-02T00:00:00.000Z'))).toBe(true);
    expect(await batches.reject(rejection('b5', 'b5_rejected_1', '2024-05-01T00:00:00.000Z'))).toBe(true);
    expect(await batches.reject(rejection('b5', 'b5_rejected_1', '2024-05-03T00:00:00.000Z'))).toBe(false);
    expect(await batches.rejections('b5', 10)).toEqual([rejection('b5', 'b5_rejected_1', '2024-05-01T00:00:00.000Z'), rejection('b5', 'b5_rejected_2', '2024-05-02T00:00:00.000Z')]);
    expect(await batches.rejections('b5', 1)).toHaveLength(1);
    expect(await batches.rejections('other', 10)).toEqual([]);
    expect(await batches.countItems('b5', 10)).toBe(1);
    expect((await batches.listItems('b5', -1, 10)).map((d) => d.id)).toEqual(['b5_0']);
    expect(await images.find('b5_rejected_1')).toBeUndefined();
    expect((await images.list({ batchId: 'b5' }, { limit: 10 })).items.map((d) => d.id)).toEqual(['b5_0']);
  });

  it('lists batches for the retention sweep and replaces them whole: created before a time, not de-identified, oldest first', async () => {
    for (const [id, day] of [['b3', 3], ['b1', 1], ['b2', 2], ['b4', 4]] as const) await batches.ensure(newBatch(id, 1, 'https://example.test/hook', at(day)));
    const ids = (docs: Array<{ id: string }>) => docs.map((d) => d.id);
    expect(ids(await batches.listExpired(at(4).toISOString(), undefined, 10))).toEqual(['b1', 'b2', 'b3']);
    expect(ids(await batches.listExpired(at(4).toISOString(), at(1).toISOString(), 1))).toEqual(['b2']);
    const { callbackUrl: _url, ...without } = (await batches.get('b1'))!;
    await batches.replace({ ...without, deidentifiedAt: at(9).toISOString() });
    // Replaced as a whole: the URL is gone, not merely blank.
    expect(await batches.get('b1')).toEqual({ ...without, deidentifiedAt: at(9).toISOString() });
    expect(ids(await batches.listExpired(at(4).toISOString(), undefined, 10))).toEqual(['b2', 'b3']);
  });

  it('lists rejected records of every batch for the retention sweep, and replaces one', async () => {
    await batches.ensure(newBatch('r1', 1, undefined, at(1)));
    await batches.ensure(newBatch('r2', 1, undefined, at(1)));
    await batches.reject(rejection('r1', 'x2', at(2).toISOString()));
    await batches.reject(rejection('r2', 'x1', at(1).toISOString()));
    await batches.reject(rejection('r2', 'x5', at(5).toISOString()));
    await images.create(item('r1', 0)); // items are not rejected records
    const ids = (records: RejectedRecord[]) => records.map((r) => r.id);
    expect(ids(await batches.listExpiredRejections(at(4).toISOString(), undefined, 10))).toEqual(['x1', 'x2']);
    expect(ids(await batches.listExpiredRejections(at(4).toISOString(), at(1).toISOString(), 10))).toEqual(['x2']);
    await batches.replaceRejection({ id: 'x1', batchId: 'r2', index: 7, reason: 'out of range', headers: {}, at: at(1).toISOString(), deidentifiedAt: at(9).toISOString() });
    expect(await batches.rejections('r2', 10)).toEqual([
      { id: 'x1', batchId: 'r2', index: 7, reason: 'out of range', headers: {}, at: at(1).toISOString(), deidentifiedAt: at(9).toISOString() },
      rejection('r2', 'x5', at(5).toISOString()),
    ]);
    expect(ids(await batches.listExpiredRejections(at(4).toISOString(), undefined, 10))).toEqual(['x2']);
    expect(await images.find('x1')).toBeUndefined();
  });
});
