import { documentKey, type VersionedDocument } from './document-store';
import { CorruptBackupError, describeFile, encodeFile, readFile } from './files';
import { BACKUP_SCHEMA_VERSION, backupId, encodeManifest, isoOf, MANIFEST, manifestName, readManifests, type Manifest, type ManifestContainer, type ManifestFile } from './manifest';
import { holdsPersonalData } from '../names';
import { DAY_SECONDS, isExpired, personalDataExpiresTs } from './retention';
import type { BackupTarget } from './target';

export interface PruneOptions {
  target: BackupTarget;
  /** RETENTION_DAYS. */
  retentionDays: number;
  now?: Date;
  /** Versions per file of a base. */
  partSize?: number;
  log?: (line: string) => void;
}

export interface PruneResult {
  /** Versions that may hold personal data older than the policy, removed from the files that had them. */
  removedVersions: number;
  rewrittenFiles: number;
  /** Backups older than the policy, folded into `base` and deleted. */
  folded: string[];
  base?: string;
  /** Backups a base already holds (left by an interrupted prune), and stray files, deleted. */
  deleted: string[];
  /** What prune could not do (a manifest or file that does not read): it is left as it is. */
  problems: string[];
}

/**
 * Keeps the backups within the privacy policy and the archive whole:
 * 1. Every version that may hold personal data older than RETENTION_DAYS (retention.ts) is removed from the file
 *    that has it; the file is rewritten without it under a new name, then the old one is deleted. The retention
 *    sweep de-identifies the live document at that age, so its next version (which the next backup exports) is kept.
 * 2. Backups reaching no further than RETENTION_DAYS ago are folded into one `base`: the latest version of each
 *    document they hold (none of which holds expired personal data any more), so a document that never changed again
 *    stays in the archive however old its last backup is. Then they are deleted.
 * Every step writes before it deletes, so an interrupted prune loses nothing; the next run finishes it.
 */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  const { target, retentionDays } = options;
  const log = options.log ?? (() => undefined);
  const nowTs = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const result: PruneResult = { removedVersions: 0, rewrittenFiles: 0, folded: [], deleted: [], problems: [] };
  const names = await target.list();
  const read = await readManifests(target, names);
  result.problems.push(...read.problems);
  let manifests = read.manifests;

  // A base holds everything up to its time: backups it replaced are what an interrupted fold left behind, and so is
  // a base that was never completed (the fold runs again below).
  const base = manifests.filter((m) => m.kind === 'base' && m.completedAt).at(-1);
  const superseded = manifests.filter((m) => (m.kind === 'base' && !m.completedAt) || (base && m !== base && m.completedAt && m.untilTs <= base.untilTs));
  for (const manifest of superseded) await deleteBackup(manifest, names);
  manifests = manifests.filter((m) => !superseded.includes(m));
  const listed = new Set(manifests.flatMap((m) => [manifestName(m.id), ...m.containers.flatMap((c) => c.files.map((f) => `${m.id}/${f.name}`))]));
  for (const stray of names.filter((name) => !listed.has(name) && manifests.some((m) => name.startsWith(`${m.id}/`)))) {
    await target.remove(stray);
    result.deleted.push(stray);
  }

  for (const manifest of manifests) await removeExpired(manifest);
  await fold(manifests.filter((m) => m.completedAt));
  return result;

  async function removeExpired(manifest: Manifest): Promise<void> {
    const replaced: string[] = [];
    let removed = 0;
    let changed = false;
    for (const container of manifest.containers) {
      if (!holdsPersonalData(container.id)) continue;
      const files: ManifestFile[] = [];
      for (const file of container.files) {
        const due = file.personalDataExpiresTs !== null && (file.personalDataExpiresTs <= nowTs || file.retentionDays !== retentionDays);
        if (!due) {
          files.push(file);
          continue;
        }
        let docs: VersionedDocument[];
        try {
          docs = await readFile(target, manifest, file);
        } catch (error) {
          if (!(error instanceof CorruptBackupError)) throw error;
          result.problems.push(`${error.message}; its expired personal data cannot be removed`);
          files.push(file);
          continue;
        }
        changed = true;
        const kept = docs.filter((doc) => !isExpired(container.id, doc, retentionDays, nowTs));
        if (kept.length === docs.length) {
          files.push({ ...file, personalDataExpiresTs: personalDataExpiresTs(container.id, docs, retentionDays), retentionDays });
          continue;
        }
        // Under the next -p<n> name, so the old file stays until the manifest no longer lists it.
        if (kept.length) {
          const match = /^(.*?)(?:-p(\d+))?\.ndjson\.gz$/.exec(file.name)!;
          const name = `${match[1]}-p${Number(match[2] ?? 0) + 1}.ndjson.gz`;
          const bytes = encodeFile(kept);
          await target.write(`${manifest.id}/${name}`, bytes);
          files.push(describeFile(name, container.id, kept, bytes, retentionDays));
        }
        container.documents -= docs.length - kept.length;
        removed += docs.length - kept.length;
        replaced.push(`${manifest.id}/${file.name}`);
      }
      container.files = files;
    }
    if (!changed) return;
    manifest.documents = manifest.containers.reduce((n, c) => n + c.documents, 0);
    if (removed) manifest.pruned = [{ at: new Date(nowTs * 1000).toISOString(), removedVersions: removed }, ...manifest.pruned];
    await target.write(manifestName(manifest.id), encodeManifest(manifest));
    for (const name of replaced) await target.remove(name);
    if (removed) log(`${manifest.id}: removed ${removed} versions holding personal data older than ${retentionDays} days (${replaced.length} files rewritten)`);
    result.removedVersions += removed;
    result.rewrittenFiles += replaced.length;
  }

  async function fold(complete: Manifest[]): Promise<void> {
    const cutoff = nowTs - retentionDays * DAY_SECONDS;
    const old = complete.filter((m) => m.untilTs < cutoff && m.kind !== 'base');
    if (!old.length) return;
    const previousBase = complete.find((m) => m.kind === 'base');
    const sources = [...(previousBase ? [previousBase] : []), ...old];
    for (let i = 1; i < sources.length; i++) {
      if (sources[i].kind === 'incremental' && sources[i].afterTs !== sources[i - 1].untilTs) {
        result.problems.push(`Not folded: gap between ${sources[i - 1].id} and ${sources[i].id} (run image-pipeline backup verify)`);
        return;
      }
    }
    const newest = sources.at(-1)!;
    const manifest: Manifest = {
      format: 'image-pipeline-backup',
      schemaVersion: BACKUP_SCHEMA_VERSION,
      id: backupId(newest.untilTs, 'base'),
      kind: 'base',
      database: newest.database,
      source: newest.source,
      afterTs: 0,
      untilTs: newest.untilTs,
      startedAt: new Date().toISOString(),
      completedAt: null,
      documents: 0,
      containers: [],
      pruned: [],
    };
    // Written first, incomplete: an interrupted fold is recognised and redone by the next prune.
    await target.write(manifestName(manifest.id), encodeManifest(manifest));
    const partSize = options.partSize ?? 5000;
    const containerIds = [...new Set(sources.flatMap((m) => m.containers.map((c) => c.id)))];
    for (const id of containerIds) {
      const partitionKeyPath = sources.flatMap((m) => m.containers).find((c) => c.id === id)!.partitionKeyPath;
      const entry: ManifestContainer = { id, partitionKeyPath, documents: 0, files: [], savedThroughTs: newest.untilTs, done: true };
      const seen = new Set<string>();
      let buffer: VersionedDocument[] = [];
      const flush = async () => {
        const name = `${id}-${String(entry.files.length + 1).padStart(5, '0')}.ndjson.gz`;
        const bytes = encodeFile(buffer);
        await target.write(`${manifest.id}/${name}`, bytes);
        entry.files.push(describeFile(name, id, buffer, bytes, retentionDays));
        entry.documents += buffer.length;
        buffer = [];
      };
      // Newest first: the first version seen of a document is its latest.
      for (const source of [...sources].reverse()) {
        const container = source.containers.find((c) => c.id === id);
        for (const file of [...(container?.files ?? [])].reverse()) {
          let docs: VersionedDocument[];
          try {
            docs = await readFile(target, source, file);
          } catch (error) {
            if (!(error instanceof CorruptBackupError)) throw error;
            result.problems.push(`Not folded: ${error.message}`);
            return;
          }
          for (const doc of docs) {
            const key = documentKey(entry, doc);
            if (seen.has(key)) continue;
            seen.add(key);
            if (isExpired(id, doc, retentionDays, nowTs)) continue;
            buffer.push(doc);
            if (buffer.length >= partSize) await flush();
          }
        }
      }
      if (buffer.length) await flush();
      manifest.containers.push(entry);
    }
    manifest.documents = manifest.containers.reduce((n, c) => n + c.documents, 0);
    manifest.completedAt = new Date().toISOString();
    await target.write(manifestName(manifest.id), encodeManifest(manifest));
    const names = await target.list();
    for (const source of sources) if (source.id !== manifest.id) await deleteBackup(source, names);
    result.folded = old.map((m) => m.id);
    result.base = manifest.id;
    log(`folded ${old.length} backups reaching no further than ${isoOf(cutoff)} into ${manifest.id} (${manifest.documents} documents)`);
  }

  /** Its files first and its manifest last, so an interrupted delete is still recognised (and finished) next time. */
  async function deleteBackup(manifest: Manifest, names: string[]): Promise<void> {
    for (const name of names.filter((n) => n.startsWith(`${manifest.id}/`) && n !== manifestName(manifest.id))) await target.remove(name);
    await target.remove(`${manifest.id}/${MANIFEST}`);
    result.deleted.push(manifest.id);
  }
}
