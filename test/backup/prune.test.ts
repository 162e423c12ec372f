import { describe, expect, it } from 'vitest';
import { isHealthy, verifyBackups } from '../../src/lib/backup/chain';
import { MemoryDocumentStore } from '../../src/lib/backup/memory-document-store';
import { pruneBackups } from '../../src/lib/backup/prune';
import { restoreBackups } from '../../src/lib/backup/restore';
import type { BackupTarget } from '../../src/lib/backup/target';
import { Faults, storageError } from '../support/faults';
import { BATCHES, batch, contents, DAY, deidentified, everythingIn, IMAGES, image, T0, world } from './world';

/**
 * RETENTION_DAYS = 7. The retention sweep (issue 9) de-identifies a document in place once its personal data is 7
 * days old, which changes its _ts, so the next backup exports the de-identified version. Prune must then remove the
 * personal versions from every backup, and fold backups older than 7 days into a base that keeps every document's
 * latest version, however long ago it last changed.
 */
describe('backup prune: no personal data past the policy, no document lost from the archive', () => {
  it('removes personal versions as they expire, folds old backups into a base, and the archive restores whole', async () => {
    const { store, target, backup, clock } = world();
    const at = (ts: number) => void (clock.now = ts);
    const prune = () => pruneBackups({ target, retentionDays: 7, now: new Date(clock.now * 1000), partSize: 2 });
    const sweep = async (container: typeof IMAGES, id: string) => {
      const live = (await contents(store, container))[id];
      await store.upsert(container, deidentified(live));
    };
    await store.ensure([IMAGES, BATCHES]);

    // Day 0: two uploads and a batch, each with personal data.
    await store.upsert(IMAGES, image('anna', T0, 'anna-on-the-beach.jpg'));
    await store.upsert(IMAGES, image('dora', T0, 'dora-at-home.jpg'));
    await store.upsert(BATCHES, batch('batch-one', T0));
    at(T0 + 60);
    await backup();
    // Day 1: another upload.
    at(T0 + DAY);
    await store.upsert(IMAGES, image('carl', T0 + DAY, 'carl-in-paris.jpg'));
    at(T0 + DAY + 60);
    await backup();
    // Day 7 + 1 h: the sweep de-identifies day 0's documents; the next backup exports them.
    at(T0 + 7 * DAY + 3600);
    for (const id of ['anna', 'dora']) await sweep(IMAGES, id);
    await sweep(BATCHES, 'batch-one');
    at(T0 + 7 * DAY + 3660);
    await backup();
    expect(everythingIn(target)).toContain('anna-on-the-beach.jpg');

    // Day 7 + 2 h: day 0's personal versions are past the policy; day 1's are not yet.
    at(T0 + 7 * DAY + 7200);
    const first = await prune();
    expect(first).toMatchObject({ removedVersions: 3, problems: [] });
    expect(first.folded).toHaveLength(1); // day 0's backup reaches no further than 7 days ago
    let archive = everythingIn(target);
    for (const personal of ['anna-on-the-beach.jpg', 'dora-at-home.jpg', 'batch-one?token=secret', 'EOS anna']) expect(archive).not.toContain(personal);
    expect(archive).toContain('carl-in-paris.jpg');
    expect(isHealthy(await verifyBackups(target))).toBe(true);

    // Pruning again at once reads no backup file: none has data due yet.
    const reads: string[] = [];
    const counting = new Proxy(target, { get: (t, p) => (p === 'read' ? (name: string) => (reads.push(name), t.read(name)) : Reflect.get(t, p)) }) as BackupTarget;
    expect(await pruneBackups({ target: counting, retentionDays: 7, now: new Date(clock.now * 1000) })).toMatchObject({ removedVersions: 0, folded: [] });
    expect(reads.filter((name) => !name.endsWith('manifest.json'))).toEqual([]);

    // Day 8 + 1 h: carl's turn.
    at(T0 + 8 * DAY + 3600);
    await sweep(IMAGES, 'carl');
    at(T0 + 8 * DAY + 3660);
    await backup();
    const second = await prune();
    expect(second.removedVersions).toBe(1);
    archive = everythingIn(target);
    expect(archive).not.toContain('carl-in-paris.jpg');

    // Day 40: nothing changed for a month. Every backup is older than the policy and folded into one base, which still
    // holds every document: the de-identified versions of anna, dora, carl and the batch.
    at(T0 + 40 * DAY);
    const third = await prune();
    expect(third.base).toMatch(/-base$/);
    const report = await verifyBackups(target);
    expect(isHealthy(report)).toBe(true);
    expect(report.chain!.map((m) => m.kind)).toEqual(['base']);
    expect((await target.list()).filter((name) => name.endsWith('manifest.json'))).toEqual([`${third.base}/manifest.json`]);

    const restored = new MemoryDocumentStore(() => T0 + 41 * DAY);
    await restoreBackups({ store: restored, target });
    expect(await contents(restored, IMAGES)).toEqual(await contents(store, IMAGES));
    expect(await contents(restored, BATCHES)).toEqual(await contents(store, BATCHES));
    expect(Object.values(await contents(restored, IMAGES)).every((doc) => doc.deidentified === true)).toBe(true);
  });

  it('an interrupted prune loses nothing and the next one finishes it', async () => {
    const { store, target, backup, clock } = world();
    await store.ensure([IMAGES, BATCHES]);
    for (const day of [0, 1, 2]) {
      clock.now = T0 + day * DAY;
      await store.upsert(IMAGES, image(`day${day}`, clock.now));
      clock.now += 60;
      await backup();
    }
    clock.now = T0 + 9 * DAY + 3600;
    for (const day of [0, 1, 2]) await store.upsert(IMAGES, deidentified((await contents(store, IMAGES))[`day${day}`]));
    clock.now += 60;
    await backup();

    const faults = new Faults().fail(['remove'], 1, () => storageError(503));
    await expect(pruneBackups({ target: faults.wrap(target), retentionDays: 7, now: new Date(clock.now * 1000) })).rejects.toThrow('Storage answered 503');
    const done = await pruneBackups({ target, retentionDays: 7, now: new Date(clock.now * 1000) });
    expect(done.problems).toEqual([]);
    expect(isHealthy(await verifyBackups(target))).toBe(true);
    expect(everythingIn(target)).not.toMatch(/day\d-holiday\.jpg/);
    const restored = new MemoryDocumentStore(() => clock.now);
    await restoreBackups({ store: restored, target });
    expect(await contents(restored, IMAGES)).toEqual(await contents(store, IMAGES));
  });
});
