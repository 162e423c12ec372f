// image-pipeline backup / backup verify / restore against the real local host (embedded Azurite and Cosmos stand-in),
// found by its port as an operator finds it, with a folder and a blob container (Azurite, SAS URL) as destinations.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CONTAINERS, documentStoreFor } from '../../src/cli/backup-stores';
import { runBackup } from '../../src/lib/backup/export';
import { FolderTarget } from '../../src/lib/backup/folder-target';
import { appFields, documentKey, type Document } from '../../src/lib/backup/document-store';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { startBatchHost, waitForBatch } from '../batch/host';
import { containerSasUrl } from '../support/azurite-sas';
import { Faults, storageError } from '../support/faults';
import { cli } from '../support/cli';
import { sampleImage } from '../support/images';

type Host = Awaited<ReturnType<typeof startBatchHost>>;

describe('image-pipeline backup and restore on the local host', () => {
  let host: Host;
  let port: string;
  const folders: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'backup-cli-'));
    folders.push(dir);
    return join(dir, 'backups');
  };

  /** Every document of every container, by container and key, as the app wrote it. */
  async function everything(): Promise<Record<string, Record<string, Document>>> {
    const { store } = documentStoreFor({}, Number(port));
    const all: Record<string, Record<string, Document>> = {};
    for (const container of APP_CONTAINERS) {
      all[container.id] = {};
      let continuationToken: string | undefined;
      do {
        const page = await store.changed(container, { afterTs: 0, untilTs: 4_000_000_000 }, { limit: 100, continuationToken });
        for (const doc of page.documents) all[container.id][documentKey(container, doc)] = appFields(doc);
        continuationToken = page.continuationToken;
      } while (continuationToken);
    }
    return all;
  }

  /** Deletes the database: the account as empty as after a disaster. */
  const wipe = () => cosmosClient(host.services.config.cosmos!).database(host.services.config.cosmosDatabase).delete();

  /** Waits until what was written so far is older than the backup's settle time (1 s here). */
  const settle = async () => {
    const written = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) < written + 2) await sleep(50);
  };

  let imageIds: string[];
  let before: Record<string, Record<string, Document>>;

  beforeAll(async () => {
    host = await startBatchHost();
    port = new URL(host.apiUrl).port;
    imageIds = [];
    for (const format of ['jpeg', 'png'] as const) {
      const response = await fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', headers: { 'content-type': `image/${format}` }, body: new Uint8Array(await sampleImage(format, 64, 48)) });
      expect(response.status).toBe(200);
      imageIds.push(((await response.json()) as { id: string }).id);
    }
    const form = new FormData();
    for (const name of ['one.png', 'two.png']) form.append('files', new Blob([new Uint8Array(await sampleImage('png', 40, 30))], { type: 'image/png' }), name);
    const batch = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    expect((await waitForBatch(batch.headers.get('location')!)).status).toBe('completed');
    await settle();
    before = await everything();
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up, verifies, and after a wipe restores every document as it was, into a folder', async () => {
    expect(Object.keys(before.images)).toHaveLength(4);
    expect(Object.keys(before.batches)).toHaveLength(1);
    // Every container is backed up, the analytics facts and counters too: the counts are what the account holds.
    const held = APP_CONTAINERS.filter((c) => Object.keys(before[c.id]).length);
    const total = held.reduce((n, c) => n + Object.keys(before[c.id]).length, 0);
    const byContainer = APP_CONTAINERS.map((c) => `${c.id} ${Object.keys(before[c.id]).length}`).join(', ');
    const dir = folder();
    const backup = await cli('backup', '--to', dir, '--local-port', port, '--settle-seconds', '1');
    expect(backup.err).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.out).toContain(`image-pipeline backup: the local host at ${host.apiUrl} (pid ${process.pid}), database image-pipeline, into ${dir}`);
    expect(backup.out).toMatch(new RegExp(`backup \\d{8}T\\d{6}Z-full complete: ${total} documents; recovery point `));

    const verify = await cli('backup', 'verify', dir);
    expect(verify.code).toBe(0);
    expect(verify.out).toContain(`-full: ${total} documents (${byContainer}) in ${held.length} files, up to `);
    expect(verify.out).toContain('backup verify: OK');

    const shown = await (await fetch(`${host.apiUrl}/images/${imageIds[0]}`)).json();
    await wipe();
    expect((await fetch(`${host.apiUrl}/images/${imageIds[0]}`)).status).not.toBe(200);

    const restore = await cli('restore', '--from', dir, '--local-port', port);
    expect(restore.err).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.out).toContain('images: 4 created, 0 already there, 0 kept as they are');
    expect(await everything()).toEqual(before);
    // The API serves the restored documents as before.
    expect(await (await fetch(`${host.apiUrl}/images/${imageIds[0]}`)).json()).toEqual(shown);

    const again = await cli('restore', '--from', dir, '--local-port', port);
    expect(again.out).toContain('images: 0 created, 4 already there');
    expect(await everything()).toEqual(before);
  });

  it('refuses a corrupted backup file in verify and in restore, naming it', async () => {
    const dir = folder();
    await settle(); // the restores before wrote every document again, with a new _ts
    expect((await cli('backup', '--to', dir, '--local-port', port, '--settle-seconds', '1')).code).toBe(0);
    const [backupId] = readdirSync(dir);
    const file = join(dir, backupId, 'images-00001.ndjson.gz');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0x55;
    writeFileSync(file, bytes);

    const verify = await cli('backup', 'verify', dir);
    expect(verify.code).toBe(1);
    expect(verify.out).toMatch(new RegExp(`${backupId}/images-00001\\.ndjson\\.gz: sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupted or was changed`));
    expect(verify.err).toBe('backup verify: FAILED, 1 problem (above)\n');

    await wipe();
    const restore = await cli('restore', '--from', dir, '--local-port', port);
    expect(restore.code).toBe(1);
    expect(restore.err).toMatch(new RegExp(`^image-pipeline restore: Nothing restored: ${backupId}/images-00001\\.ndjson\\.gz: sha256 is`));
    await expect(cosmosClient(host.services.config.cosmos!).database(host.services.config.cosmosDatabase).read()).rejects.toMatchObject({ code: 404 });
    expect((await cli('restore', '--from', folders[0] + '/backups', '--local-port', port)).code).toBe(0);
  });

  it('resumes an interrupted backup: the next run finishes it, with every document once', async () => {
    const dir = folder();
    await settle();
    const { store, config } = documentStoreFor({}, Number(port));
    // The destination fails while writing the batches container's file: images are saved, batches are not.
    const faults = new Faults().fail(['write'], 1, () => storageError(503), (name) => String(name).includes('/batches-'));
    await expect(
      runBackup({ store, target: faults.wrap(new FolderTarget(dir)), containers: APP_CONTAINERS, database: config.cosmosDatabase, source: 'local', retentionDays: 7, settleSeconds: 1 }),
    ).rejects.toThrow('Storage answered 503');
    const [backupId] = readdirSync(dir);
    const imagesFile = readFileSync(join(dir, backupId, 'images-00001.ndjson.gz'));

    const resumed = await cli('backup', '--to', dir, '--local-port', port, '--settle-seconds', '1');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain(`resuming ${backupId}, interrupted after 4 documents`);
    const total = Object.values(before).reduce((n, docs) => n + Object.keys(docs).length, 0);
    expect(resumed.out).toContain(`backup ${backupId} complete (resumed): ${total} documents`);
    expect(readFileSync(join(dir, backupId, 'images-00001.ndjson.gz'))).toEqual(imagesFile);
    expect((await cli('backup', 'verify', dir)).code).toBe(0);
  });

  it('backs up into a blob container by URL and restores from it', async () => {
    const url = await containerSasUrl((host.services.config.storage as { value: string }).value, 'cold-backups');
    await settle();
    const backup = await cli('backup', '--to', url, '--local-port', port, '--settle-seconds', '1');
    expect(backup.code).toBe(0);
    expect(backup.out).toContain('into http://127.0.0.1:');
    expect((await cli('backup', 'verify', url)).out).toContain('backup verify: OK');
    await wipe();
    expect((await cli('restore', '--from', url, '--local-port', port)).code).toBe(0);
    expect(await everything()).toEqual(before);
  });
});
