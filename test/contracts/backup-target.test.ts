import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobContainerTarget } from '../../src/lib/backup/blob-target';
import { FolderTarget } from '../../src/lib/backup/folder-target';
import { MemoryTarget } from '../../src/lib/backup/memory-target';
import type { BackupTarget } from '../../src/lib/backup/target';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';
import { containerSasUrl } from '../support/azurite-sas';

let azurite: EmbeddedAzurite;
const folders: string[] = [];
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const adapters: Array<[string, () => Promise<BackupTarget>]> = [
  ['in memory', async () => new MemoryTarget()],
  [
    'folder',
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'backup-target-'));
      folders.push(folder);
      return new FolderTarget(join(folder, 'backups'));
    },
  ],
  ['blob container (Azurite, SAS URL)', async () => BlobContainerTarget.open(await containerSasUrl(azurite.connectionString, `b${randomUUID().replaceAll('-', '')}`.slice(0, 40)))],
];

/** The one BackupTarget contract, held against every adapter. */
describe.each(adapters)('BackupTarget contract: %s', (_name, create) => {
  it('writes, lists in name order, reads back, replaces and removes files', async () => {
    const target = await create();
    expect(await target.list()).toEqual([]);
    const bytes = Buffer.from([0x1f, 0x8b, 0, 1, 2, 255]);
    await target.write('20260101T000000Z-full/images-00001.ndjson.gz', bytes);
    await target.write('20260101T000000Z-full/manifest.json', Buffer.from('{"a":1}'));
    await target.write('20251231T000000Z-full/manifest.json', Buffer.from('{}'));
    bytes.fill(0); // the target keeps its own copy
    expect(await target.list()).toEqual(['20251231T000000Z-full/manifest.json', '20260101T000000Z-full/images-00001.ndjson.gz', '20260101T000000Z-full/manifest.json']);
    expect(await target.read('20260101T000000Z-full/images-00001.ndjson.gz')).toEqual(Buffer.from([0x1f, 0x8b, 0, 1, 2, 255]));
    await target.write('20260101T000000Z-full/manifest.json', Buffer.from('{"a":2}'));
    expect((await target.read('20260101T000000Z-full/manifest.json'))!.toString()).toBe('{"a":2}');
    expect(await target.read('nothing/here.json')).toBeUndefined();
    await target.remove('20251231T000000Z-full/manifest.json');
    await target.remove('20251231T000000Z-full/manifest.json'); // already gone: nothing to do
    expect(await target.list()).toEqual(['20260101T000000Z-full/images-00001.ndjson.gz', '20260101T000000Z-full/manifest.json']);
  });

  it('refuses names that could escape it', async () => {
    const target = await create();
    for (const name of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '']) await expect(target.write(name, Buffer.from('x'))).rejects.toThrow('is not a backup file name');
  });
});

describe('FolderTarget', () => {
  it('keeps files readable by this user only, and leaves no temporary file behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'backup-target-'));
    folders.push(folder);
    const target = new FolderTarget(folder);
    await target.write('b/f.json', Buffer.from('{}'));
    expect(statSync(join(folder, 'b', 'f.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(folder, 'b')).mode & 0o777).toBe(0o700);
    expect(await target.list()).toEqual(['b/f.json']);
    await target.remove('b/f.json');
    expect(() => statSync(join(folder, 'b'))).toThrow(/ENOENT/); // the emptied backup folder goes too
  });
});
