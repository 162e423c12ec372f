import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { verifyBackups, isHealthy } from '../../src/lib/backup/chain';
import { MemoryDocumentStore } from '../../src/lib/backup/memory-document-store';
import { manifestSchema, type Manifest } from '../../src/lib/backup/manifest';
import { restoreBackups } from '../../src/lib/backup/restore';
import { cosmosError, cosmosThrottled, Faults, storageError } from '../support/faults';
import { BATCHES, batch, contents, IMAGES, image, T0, world } from './world';

const manifestOf = (target: { files: Map<string, Buffer> }, id: string): Manifest => manifestSchema.parse(JSON.parse(target.files.get(`${id}/manifest.json`)!.toString()));
const lines = (bytes: Buffer) => gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: string; _ts: number });

describe('backup: incremental by _ts, files with a manifest', () => {
  it('exports everything first, then only what changed, as gzip NDJSON files with counts, sha256 and time range', async () => {
    const { store, target, backup, advance, clock } = world();
    await store.ensure([IMAGES, BATCHES]);
    for (const id of ['a', 'b', 'c']) await store.upsert(IMAGES, image(id, clock.now));
    advance(1);
    for (const id of ['d', 'e']) await store.upsert(IMAGES, image(id, clock.now));
    await store.upsert(BATCHES, batch('b1', clock.now));
    advance(5);

    const first = await backup();
    expect(first).toMatchObject({ kind: 'full', documents: 6, resumed: false, untilTs: T0 + 6 - 1 });
    const full = manifestOf(target, first.id);
    expect(full).toMatchObject({ format: 'image-pipeline-backup', schemaVersion: 1, kind: 'full', database: 'image-pipeline', afterTs: 0, untilTs: T0 + 5 });
    expect(full.id).toBe('20260105T120005Z-full');
    const images = full.containers.find((c) => c.id === 'images')!;
    // partSize 2, cut between change times: a, b, c share T0 and stay together; d, e come at T0 + 1.
    expect(images.files.map((f) => [f.name, f.documents, f.minTs, f.maxTs])).toEqual([
      ['images-00001.ndjson.gz', 3, T0, T0],
      ['images-00002.ndjson.gz', 2, T0 + 1, T0 + 1],
    ]);
    for (const file of images.files) {
      const bytes = target.files.get(`${first.id}/${file.name}`)!;
      expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(file.bytes).toBe(bytes.length);
    }
    expect(lines(target.files.get(`${first.id}/images-00001.ndjson.gz`)!).map((d) => d.id).sort()).toEqual(['a', 'b', 'c']);
    expect(full.containers.find((c) => c.id === 'batches')!.documents).toBe(1);

    await store.upsert(IMAGES, { ...image('a', T0), status: 'failed' });
    await store.upsert(IMAGES, image('f', clock.now));
    advance(3);
    const second = await backup();
    expect(second).toMatchObject({ kind: 'incremental', documents: 2 });
    expect(manifestOf(target, second.id)).toMatchObject({ afterTs: full.untilTs, untilTs: clock.now - 1 });
    const changed = manifestOf(target, second.id).containers.flatMap((c) => c.files.flatMap((f) => lines(target.files.get(`${second.id}/${f.name}`)!)));
    expect(changed.map((d) => d.id).sort()).toEqual(['a', 'f']);

    // Nothing can have changed within the settle time of the last backup: no new backup.
    expect(await backup()).toMatchObject({ upToDate: true, id: second.id });
  });

  it('resumes an interrupted backup from its last recorded file: every document once, nothing rewritten', async () => {
    const { store, target, backup, advance, clock } = world();
    await store.ensure([IMAGES, BATCHES]);
    for (let i = 0; i < 8; i++) {
      await store.upsert(IMAGES, image(`i${i}`, clock.now));
      advance(1);
    }
    advance(2);
    const faults = new Faults().fail(['write'], 1, () => storageError(503), (name) => String(name).endsWith('images-00003.ndjson.gz'));
    await expect(backup({ target: faults.wrap(target) })).rejects.toThrow('Storage answered 503');
    const interrupted = (await target.list()).find((name) => name.endsWith('manifest.json'))!.split('/')[0];
    const before = manifestOf(target, interrupted);
    expect(before.completedAt).toBeNull();
    expect(before.containers[0].files.map((f) => f.name)).toEqual(['images-00001.ndjson.gz', 'images-00002.ndjson.gz']);
    const kept = new Map(before.containers[0].files.map((f) => [f.name, f.sha256]));

    advance(60); // resumed later: the range stays the one the backup started with
    await store.upsert(IMAGES, image('late', clock.now));
    const resumed = await backup();
    expect(resumed).toMatchObject({ id: interrupted, resumed: true, documents: 8 });
    const after = manifestOf(target, interrupted);
    expect(after.completedAt).not.toBeNull();
    for (const [name, sha] of kept) expect(after.containers[0].files.find((f) => f.name === name)!.sha256).toBe(sha);
    const ids = after.containers[0].files.flatMap((f) => lines(target.files.get(`${interrupted}/${f.name}`)!).map((d) => d.id));
    expect(ids.sort()).toEqual(['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7']);
    // The document written after the interrupted backup started goes into the next one.
    advance(5);
    expect(await backup()).toMatchObject({ kind: 'incremental', documents: 1 });
  });

  it('waits as long as a throttled Cosmos DB asks (429 retry-after), backs off without one, and gives up in the end', async () => {
    const { store, backup, waits, advance, clock } = world();
    await store.ensure([IMAGES, BATCHES]);
    await store.upsert(IMAGES, image('a', clock.now));
    advance(5);
    const throttled = new Faults().fail(['changed'], 3, () => cosmosThrottled(1234));
    expect(await backup({ store: throttled.wrap(store) })).toMatchObject({ documents: 1 });
    expect(waits).toEqual([1234, 1234, 1234]);

    waits.length = 0;
    const busy = new Faults().fail(['changed'], 2, () => cosmosThrottled());
    advance(5);
    await backup({ store: busy.wrap(store), full: true });
    expect(waits).toEqual([1000, 2000]);

    const forever = new Faults().fail(['changed'], Infinity, () => cosmosThrottled(10));
    advance(5);
    await expect(backup({ store: forever.wrap(store), full: true })).rejects.toThrow('Cosmos DB still answers "Request rate is large (injected)" after 5 tries');
    const refused = new Faults().fail(['changed'], 1, () => cosmosError(403));
    await expect(backup({ store: refused.wrap(store) })).rejects.toThrow('Cosmos DB answered 403');
  });

  it('refuses a database without the containers, and a destination holding another database', async () => {
    const { store, backup, target } = world();
    await expect(backup()).rejects.toThrow('Cosmos DB database image-pipeline has no container images, batches: is COSMOS_DATABASE right?');
    await store.ensure([IMAGES, BATCHES]);
    await backup({ now: () => new Date((T0 + 10) * 1000) });
    await expect(backup({ database: 'other' })).rejects.toThrow(`${target.location} holds backups of database image-pipeline`);
  });
});

describe('backup verify', () => {
  async function twoBackups() {
    const w = world();
    await w.store.ensure([IMAGES, BATCHES]);
    await w.store.upsert(IMAGES, image('a', w.clock.now));
    w.advance(5);
    const full = await w.backup();
    await w.store.upsert(IMAGES, image('b', w.clock.now));
    w.advance(5);
    const incremental = await w.backup();
    return { ...w, full, incremental };
  }

  it('finds every file as its manifest says, and the chain a restore reads', async () => {
    const { target, full, incremental } = await twoBackups();
    const report = await verifyBackups(target);
    expect(isHealthy(report)).toBe(true);
    expect(report.chain!.map((m) => m.id)).toEqual([full.id, incremental.id]);
    expect(report.strays).toEqual([]);
  });

  it('names a corrupted file, a missing file, a manifest that does not read and a gap in the chain', async () => {
    const { target, full, incremental } = await twoBackups();
    const file = `${incremental.id}/images-00001.ndjson.gz`;
    const bytes = target.files.get(file)!;
    bytes[bytes.length - 5] ^= 0xff;
    let report = await verifyBackups(target);
    expect(isHealthy(report)).toBe(false);
    expect(report.checks.find((c) => c.manifest.id === incremental.id)!.problems).toEqual([
      expect.stringMatching(new RegExp(`^${file}: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupted or was changed$`)),
    ]);

    target.files.delete(`${full.id}/images-00001.ndjson.gz`);
    report = await verifyBackups(target);
    expect(report.checks.find((c) => c.manifest.id === full.id)!.problems).toEqual([`${full.id}/images-00001.ndjson.gz: missing (the manifest lists it)`]);

    target.files.set(`${full.id}/manifest.json`, Buffer.from('{ not json'));
    report = await verifyBackups(target);
    expect(report.problems).toContainEqual(expect.stringMatching(new RegExp(`^${full.id}/manifest.json is not JSON \\(.+\\): the manifest is corrupted$`)));
    expect(report.problems).toContain(`No full backup or base before ${incremental.id}: the versions before its incrementals are in no backup.`);
  });
});

describe('restore', () => {
  async function backedUp() {
    const w = world();
    await w.store.ensure([IMAGES, BATCHES]);
    for (const id of ['a', 'b', 'c']) await w.store.upsert(IMAGES, image(id, w.clock.now));
    await w.store.upsert(BATCHES, batch('b1', w.clock.now));
    w.advance(5);
    await w.backup();
    await w.store.upsert(IMAGES, { ...image('a', T0), status: 'failed', error: { reason: 'bad' } });
    await w.store.upsert(IMAGES, image('d', w.clock.now));
    w.advance(5);
    await w.backup();
    return w;
  }

  it('writes the latest version of every document into an empty account; run again, it changes nothing', async () => {
    const { store, target } = await backedUp();
    const fresh = new MemoryDocumentStore(() => T0 + 1000);
    const result = await restoreBackups({ store: fresh, target });
    expect(result.containers).toEqual({ images: { created: 4, unchanged: 0, kept: 0, replaced: 0 }, batches: { created: 1, unchanged: 0, kept: 0, replaced: 0 } });
    expect(await contents(fresh, IMAGES)).toEqual(await contents(store, IMAGES));
    expect(await contents(fresh, BATCHES)).toEqual(await contents(store, BATCHES));
    expect((await contents(fresh, IMAGES)).a).toMatchObject({ status: 'failed' });

    const again = await restoreBackups({ store: fresh, target });
    expect(again.containers.images).toEqual({ created: 0, unchanged: 4, kept: 0, replaced: 0 });
  });

  it('fills a partly filled account, keeping what differs unless told to overwrite', async () => {
    const { store, target } = await backedUp();
    const partial = new MemoryDocumentStore(() => T0 + 1000);
    await partial.ensure([IMAGES]);
    const live = await contents(store, IMAGES);
    await partial.upsert(IMAGES, live.b);
    await partial.upsert(IMAGES, { ...live.c, status: 'processing' });
    expect((await restoreBackups({ store: partial, target })).containers.images).toEqual({ created: 2, unchanged: 1, kept: 1, replaced: 0 });
    expect((await contents(partial, IMAGES)).c.status).toBe('processing');
    expect((await restoreBackups({ store: partial, target, overwrite: true })).containers.images).toEqual({ created: 0, unchanged: 3, kept: 0, replaced: 1 });
    expect(await contents(partial, IMAGES)).toEqual(live);
  });

  it('restores to an earlier backup on request', async () => {
    const { target } = await backedUp();
    const ids = (await verifyBackups(target)).chain!.map((m) => m.id);
    const fresh = new MemoryDocumentStore(() => T0 + 1000);
    const result = await restoreBackups({ store: fresh, target, at: ids[0] });
    expect(result.chain).toEqual([ids[0]]);
    expect(Object.keys(await contents(fresh, IMAGES)).sort()).toEqual(['a', 'b', 'c']);
    expect((await contents(fresh, IMAGES)).a.status).toBe('succeeded');
  });

  it('refuses a corrupted backup before writing anything, naming the file', async () => {
    const { target } = await backedUp();
    const last = (await target.list()).filter((n) => n.endsWith('.gz')).at(-1)!;
    target.files.get(last)![20] ^= 0x01;
    const fresh = new MemoryDocumentStore(() => T0 + 1000);
    await expect(restoreBackups({ store: fresh, target })).rejects.toThrow(new RegExp(`^Nothing restored: ${last}: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupted or was changed\\. Run image-pipeline backup verify memory\\.$`));
    expect(await fresh.missing([IMAGES, BATCHES])).toEqual(['images', 'batches']);
  });

  it('waits out throttling while writing', async () => {
    const { target, waits } = await backedUp();
    const fresh = new MemoryDocumentStore(() => T0 + 1000);
    const throttled = new Faults().fail(['create'], 2, () => cosmosThrottled(250));
    await restoreBackups({ store: throttled.wrap(fresh), target, backoff: { sleep: async (ms) => void waits.push(ms), attempts: 5 } });
    expect(waits).toEqual([250, 250]);
    expect(Object.keys(await contents(fresh, IMAGES))).toHaveLength(4);
  });
});
