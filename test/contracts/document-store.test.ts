import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CosmosDocumentStore } from '../../src/lib/backup/cosmos-document-store';
import type { ContainerSpec, DocumentStore, VersionedDocument } from '../../src/lib/backup/document-store';
import { MemoryDocumentStore } from '../../src/lib/backup/memory-document-store';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';

let standIn: CosmosStandIn;
beforeAll(async () => {
  standIn = await startCosmosStandIn();
});
afterAll(() => standIn?.stop());

const wallSecond = () => Math.floor(Date.now() / 1000);

/** A store, the second its clock shows, and a way to let that clock move on by at least one second. */
interface Subject {
  store: DocumentStore;
  now: () => number;
  tick: () => Promise<void>;
}

const adapters: Array<[string, () => Subject]> = [
  [
    'in memory',
    () => {
      let clock = 1_700_000_000;
      return { store: new MemoryDocumentStore(() => clock), now: () => clock, tick: async () => void clock++ };
    },
  ],
  [
    'Cosmos DB (stand-in)',
    () => {
      const client = cosmosClient({ kind: 'connectionString', value: standIn.connectionString });
      const tick = async () => {
        const start = wallSecond();
        while (wallSecond() === start) await sleep(20);
      };
      return { store: new CosmosDocumentStore(client, `backup-${randomUUID()}`, true), now: wallSecond, tick };
    },
  ],
];

const images: ContainerSpec = { id: 'images', partitionKeyPath: '/partitionKey' };
const batches: ContainerSpec = { id: 'batches', partitionKeyPath: '/id' };

async function allChanged(store: DocumentStore, container: ContainerSpec, afterTs: number, untilTs: number, limit = 2): Promise<VersionedDocument[]> {
  const all: VersionedDocument[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.changed(container, { afterTs, untilTs }, { limit, continuationToken });
    all.push(...page.documents);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return all;
}

/** The one DocumentStore contract: what backup and restore rely on, held against every adapter. */
describe.each(adapters)('DocumentStore contract: %s', (_name, create) => {
  let subject: Subject;
  beforeEach(() => {
    subject = create();
  });

  it('reports containers that do not exist, and creates them', async () => {
    expect(await subject.store.missing([images, batches])).toEqual(['images', 'batches']);
    await subject.store.ensure([images, batches]);
    expect(await subject.store.missing([images, batches])).toEqual([]);
    await subject.store.ensure([images]); // again: nothing to do
  });

  it('pages through the versions changed in (after, until], in change order, each once, with _ts and no other system property', async () => {
    const { store, tick, now } = subject;
    await store.ensure([images]);
    const before = now();
    await tick();
    for (const id of ['a', 'b', 'c']) expect(await store.create(images, { id, partitionKey: id === 'c' ? 'batch' : id, n: 1 })).toBe(true);
    const first = now();
    await tick();
    for (const id of ['d', 'e']) await store.create(images, { id, partitionKey: 'batch', n: 2 });
    await store.upsert(images, { id: 'a', partitionKey: 'a', n: 3 }); // a's earlier version is gone
    const second = now();

    const all = await allChanged(store, images, before, second);
    expect(all.map((d) => d.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(all.map((d) => d._ts)).toEqual([...all.map((d) => d._ts)].sort((x, y) => x - y));
    for (const doc of all) expect(Object.keys(doc).filter((key) => key.startsWith('_'))).toEqual(['_ts']);
    expect(all.find((d) => d.id === 'a')).toEqual({ id: 'a', partitionKey: 'a', n: 3, _ts: all.find((d) => d.id === 'a')!._ts });

    expect((await allChanged(store, images, before, first)).map((d) => d.id).sort()).toEqual(['b', 'c']);
    expect((await allChanged(store, images, first, second, 10)).map((d) => d.id).sort()).toEqual(['a', 'd', 'e']);
    expect(await allChanged(store, images, second, second + 100)).toEqual([]);
  });

  it('creates a document once, reads it back without system properties, and replaces it', async () => {
    const { store } = subject;
    await store.ensure([images, batches]);
    const doc = { id: 'x', partitionKey: 'p', nested: { list: [1, 2], text: 'é' } };
    expect(await store.create(images, { ...doc, _ts: 1, _etag: 'ignored' })).toBe(true);
    expect(await store.create(images, { ...doc, nested: {} })).toBe(false);
    expect(await store.read(images, 'x', 'p')).toEqual(doc);
    expect(await store.read(images, 'x', 'other')).toBeUndefined();
    expect(await store.read(images, 'missing', 'p')).toBeUndefined();
    await store.upsert(images, { ...doc, nested: { list: [] } });
    expect(await store.read(images, 'x', 'p')).toEqual({ ...doc, nested: { list: [] } });
    // The partition key path decides identity: in batches (/id) the id is the key.
    expect(await store.create(batches, { id: 'b1', status: 'receiving' })).toBe(true);
    expect(await store.read(batches, 'b1', 'b1')).toEqual({ id: 'b1', status: 'receiving' });
  });
});
