import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyticsStore, StoredFact } from '../../src/lib/analytics/analytics-store';
import { CosmosAnalyticsStore } from '../../src/lib/analytics/cosmos-analytics-store';
import { batchFact, imageFact, type ImageFact } from '../../src/lib/analytics/facts';
import { MemoryAnalyticsStore } from '../../src/lib/analytics/memory-analytics-store';
import { queuedImage, type ImageDocument } from '../../src/lib/results/image-document';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { freshContainers } from './cosmos-standin';

let standIn: CosmosStandIn;
beforeAll(async () => {
  standIn = await startCosmosStandIn();
});
afterAll(() => standIn?.stop());

const adapters: Array<[string, () => Promise<AnalyticsStore>]> = [
  ['in memory', async () => new MemoryAnalyticsStore()],
  [
    'Cosmos DB (stand-in)',
    async () => {
      const containers = await freshContainers(standIn);
      return new CosmosAnalyticsStore(containers.facts, containers.stats);
    },
  ],
];

const source = { container: 'uploads', blob: 'b', bytes: 10, sha256: 'abc', uploadedAt: '2024-05-01T00:00:00.000Z' };
function fact(id: string, day: string, hash: string): StoredFact {
  const doc: ImageDocument = {
    ...queuedImage({ id, partitionKey: id, source }, new Date(`${day}T08:00:00.000Z`)),
    status: 'succeeded',
    analysis: { perceptualHash: hash, meanColour: '#000000', palette: [], brightness: 0.5, contrast: 0.2, sharpness: 10 },
  };
  return imageFact(doc);
}

/** The one AnalyticsStore contract, held against every adapter. */
describe.each(adapters)('AnalyticsStore contract: %s', (_name, create) => {
  let store: AnalyticsStore;
  beforeEach(async () => {
    store = await create();
  });

  it('puts and gets facts by id and day, and sets their count state', async () => {
    const f = fact('i1', '2024-05-01', '3c5a9f0e1b2d4c6a');
    await store.putFact(f);
    expect(await store.getFact(f.id, '2024-05-01')).toEqual(f);
    expect(await store.getFact(f.id, '2024-05-02')).toBeUndefined();
    await store.setCountState(f.id, f.day, { countedAs: { version: 'v1', counters: ['status.succeeded'] } });
    expect(await store.getFact(f.id, f.day)).toMatchObject({ countedAs: { version: 'v1', counters: ['status.succeeded'] } });
    expect((await store.getFact(f.id, f.day))!.counting ?? undefined).toBeUndefined();
    const b = batchFact({ id: 'b1', status: 'completed', itemCount: 1, createdAt: '2024-05-01T00:00:00.000Z' });
    await store.putFact(b);
    expect(await store.getFact('batch:b1', '2024-05-01')).toMatchObject({ type: 'batch', batchId: 'b1' });
  });

  it('applies counter changes once per marker, creating the aggregate', async () => {
    const day = { kind: 'day', day: '2024-05-01' } as const;
    expect(await store.applyOnce(day, 'i.a', 'v1', ['v1'], { 'status.succeeded': 1, 'format.png': 1 })).toBe(true);
    expect(await store.applyOnce(day, 'i.a', 'v1', ['v1'], { 'status.succeeded': 1, 'format.png': 1 })).toBe(false);
    expect(await store.applyOnce(day, 'i.b', 'v1', ['v1'], { 'status.succeeded': 1 })).toBe(true);
    // A later change of the same image: the subtraction once, then the addition.
    expect(await store.applyOnce(day, 'i.a', 'v2-', ['v2-', 'v2'], { 'format.png': -1 })).toBe(true);
    expect(await store.applyOnce(day, 'i.a', 'v2-', ['v2-', 'v2'], { 'format.png': -1 })).toBe(false);
    expect(await store.applyOnce(day, 'i.a', 'v2', ['v2'], { 'format.jpeg': 1 })).toBe(true);
    expect(await store.applyOnce(day, 'i.a', 'v2-', ['v2-', 'v2'], { 'format.png': -1 })).toBe(false);
    await store.clearMarker(day, 'i.a', 'v1'); // not its marker any more: nothing happens
    await store.clearMarker(day, 'i.a', 'v2');
    await store.clearMarker(day, 'i.a', 'v2');
    expect(await store.aggregates({ from: '2024-05-01', to: '2024-05-02' })).toEqual([
      { kind: 'day', day: '2024-05-01', counts: { 'status.succeeded': 2, 'format.png': 0, 'format.jpeg': 1 } },
    ]);
  });

  it('filters aggregates by days and batch, and lists the days changed since a time', async () => {
    const before = Math.floor(Date.now() / 1000);
    for (const [d, batch] of [['2024-05-01', 'b1'], ['2024-05-02', 'b1'], ['2024-05-03', 'b2']]) {
      await store.applyOnce({ kind: 'day', day: d }, 'x', 'v', ['v'], { 'status.failed': 1 });
      await store.applyOnce({ kind: 'batch', day: d, batchId: batch }, 'x', 'v', ['v'], { 'status.failed': 1 });
    }
    const days = async (filter: Parameters<AnalyticsStore['aggregates']>[0]) => (await store.aggregates(filter)).map((a) => `${a.kind}:${a.day}`).sort();
    expect(await days({ from: '2024-05-02', to: '2024-05-04' })).toEqual(['day:2024-05-02', 'day:2024-05-03']);
    expect(await days({ batchId: 'b1' })).toEqual(['batch:2024-05-01', 'batch:2024-05-02']);
    expect(await days({ batchId: 'b1', from: '2024-05-02' })).toEqual(['batch:2024-05-02']);
    expect((await store.changedDays(before - 1)).map((d) => d.day).sort()).toEqual(['2024-05-01', '2024-05-02', '2024-05-03']);
    expect(await store.changedDays(before + 3600)).toEqual([]);
  });

  it("lists a day's facts in pages, and finds facts sharing a hash band", async () => {
    for (let from = 0; from < 1005; from += 100) {
      await Promise.all(Array.from({ length: Math.min(100, 1005 - from) }, (_, k) => from + k).map((i) => store.putFact(fact(`i${i}`, '2024-05-01', i === 0 ? '3c5a9f0e1b2d4c6a' : 'c3a560f1e4d2b395'))));
    }
    await store.putFact(fact('other-day', '2024-05-02', '3c5a9f0e1b2d4c6a'));
    const pages: number[] = [];
    for await (const page of store.factsOfDay('image', '2024-05-01')) pages.push(page.length);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(1005);
    expect(Math.max(...pages)).toBeLessThanOrEqual(1000);
    const near = fact('near', '2024-05-03', '3c5a9f0e1b2d5d7b') as ImageFact;
    const bands = [near.hashBand0, near.hashBand1, near.hashBand2, near.hashBand3, near.hashBand4] as number[];
    expect((await store.sharingBand(bands)).map((f) => f.id).sort()).toEqual(['image:i0', 'image:other-day']);
  });

  it('reads and writes many facts at once, and finds facts sharing a band with any of many hashes', async () => {
    const facts = Array.from({ length: 205 }, (_, i) => fact(`m${i}`, i % 2 ? '2024-05-01' : '2024-05-02', i === 7 ? '3c5a9f0e1b2d4c6a' : i === 8 ? '9b1d7e3f5a2c4e60' : 'c3a560f1e4d2b395'));
    await store.putFacts(facts);
    await store.putFacts([{ ...facts[0], countedAs: { version: 'v2', counters: ['status.succeeded'] } }]);
    const keys = [...facts.map(({ id, day }) => ({ id, day })), { id: 'image:missing', day: '2024-05-01' }, { id: facts[1].id, day: '2024-05-09' }];
    const read = (await store.getFacts(keys)).sort((a, b) => a.id.localeCompare(b.id));
    expect(read).toHaveLength(205);
    expect(read.find((f) => f.id === 'image:m0')).toEqual({ ...facts[0], countedAs: { version: 'v2', counters: ['status.succeeded'] } });
    expect(read.find((f) => f.id === 'image:m9')).toEqual(facts[9]);
    const bandsOf = (f: StoredFact) => { const g = f as ImageFact; return [g.hashBand0, g.hashBand1, g.hashBand2, g.hashBand3, g.hashBand4] as number[]; };
    const near = [fact('n1', '2024-05-03', '3c5a9f0e1b2d5d7b'), fact('n2', '2024-05-03', '9b1d7e3f5a2c4e61')];
    expect((await store.sharingAnyBand(near.map(bandsOf))).map((f) => f.id).sort()).toEqual(['image:m7', 'image:m8']);
    expect(await store.sharingAnyBand([])).toEqual([]);
  });
});
