import { patiently, DEFAULT_BACKOFF, type Backoff } from './throttle';
import type { ContainerSpec, DocumentStore, VersionedDocument } from './document-store';
import { describeFile, encodeFile } from './files';
import { BACKUP_SCHEMA_VERSION, backupId, encodeManifest, isoOf, manifestName, readManifests, type Manifest, type ManifestContainer } from './manifest';
import type { BackupTarget } from './target';

export interface BackupOptions {
  store: DocumentStore;
  target: BackupTarget;
  /** Every container of the app (src/lib/names.ts COSMOS_CONTAINERS). */
  containers: readonly ContainerSpec[];
  database: string;
  /** Where the documents come from, for the manifest. */
  source: string;
  /** RETENTION_DAYS: files record when the personal data in them passes it (prune reads only those). */
  retentionDays: number;
  /** A full export even when earlier backups exist (a new chain). */
  full?: boolean;
  /**
   * Versions changed in the last `settleSeconds` wait for the next backup: `_ts` has whole seconds, and a write
   * committing in the current second (or on a Cosmos replica whose clock is a little behind) must not be passed by.
   */
  settleSeconds?: number;
  /** Versions per file, at least (a file always ends between two change times, so resuming never splits one). */
  partSize?: number;
  pageSize?: number;
  now?: () => Date;
  backoff?: Backoff;
  log?: (line: string) => void;
}

export interface BackupResult {
  id: string;
  kind: Manifest['kind'];
  /** An interrupted backup was continued. */
  resumed: boolean;
  documents: number;
  /** The recovery point: every version changed up to here is in the chain. */
  untilTs: number;
  /** Nothing could have changed since the last backup (run again later). */
  upToDate?: boolean;
}

const pad = (n: number) => String(n).padStart(5, '0');

/**
 * One backup into `target`: the first (or with `full`) exports every document; the next ones export the versions
 * changed since the previous backup's `untilTs` (incremental by `_ts`). Files are gzip NDJSON, cut between change
 * times, each recorded in the manifest with its count and sha256 as soon as it is written; an interrupted backup
 * (any error) is resumed by the next run from the last recorded file. Throttling is waited out (`patiently`).
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { store, target, containers } = options;
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const partSize = options.partSize ?? 5000;
  const pageSize = options.pageSize ?? 1000;

  const missing = await patiently(() => store.missing(containers), backoff);
  if (missing.length) throw new Error(`Cosmos DB database ${options.database} has no container ${missing.join(', ')}: is COSMOS_DATABASE right? Nothing was backed up.`);
  const { manifests, problems } = await readManifests(target);
  if (problems.length) throw new Error(`${target.location} has backups that do not read (run image-pipeline backup verify):\n  ${problems.join('\n  ')}`);
  const other = manifests.find((m) => m.database !== options.database);
  if (other) throw new Error(`${target.location} holds backups of database ${other.database} (${other.id}), not ${options.database}: use another destination.`);

  // An incomplete base is an interrupted prune's, which prune itself redoes.
  let manifest = manifests.filter((m) => !m.completedAt && m.kind !== 'base').at(-1);
  const resumed = Boolean(manifest);
  if (manifest) {
    log(`resuming ${manifest.id}, interrupted after ${manifest.containers.reduce((n, c) => n + c.documents, 0)} documents`);
  } else {
    const tip = manifests.filter((m) => m.completedAt).at(-1);
    const kind = options.full || !tip ? 'full' : 'incremental';
    const afterTs = kind === 'full' ? 0 : tip!.untilTs;
    const untilTs = Math.floor(now().getTime() / 1000) - (options.settleSeconds ?? 10);
    if (untilTs <= afterTs) return { id: tip!.id, kind: tip!.kind, resumed: false, documents: 0, untilTs: tip!.untilTs, upToDate: true };
    manifest = {
      format: 'image-pipeline-backup',
      schemaVersion: BACKUP_SCHEMA_VERSION,
      id: backupId(untilTs, kind),
      kind,
      database: options.database,
      source: options.source,
      afterTs,
      untilTs,
      startedAt: now().toISOString(),
      completedAt: null,
      documents: 0,
      containers: [],
      pruned: [],
    };
    log(`${manifest.id}: versions changed ${kind === 'full' ? '' : `after ${isoOf(afterTs)} and `}up to ${isoOf(untilTs)}`);
  }
  // Containers added to the app since an interrupted backup started are part of it too.
  for (const spec of containers) {
    if (!manifest.containers.some((c) => c.id === spec.id)) manifest.containers.push({ id: spec.id, partitionKeyPath: spec.partitionKeyPath, documents: 0, files: [], savedThroughTs: manifest.afterTs, done: false });
  }
  const save = () => target.write(manifestName(manifest.id), encodeManifest(manifest));
  await save();

  for (const entry of manifest.containers.filter((c) => !c.done)) {
    await exportContainer(entry, { afterTs: entry.savedThroughTs, untilTs: manifest.untilTs });
    entry.done = true;
    await save();
    log(`  ${entry.id}: ${entry.documents} documents in ${entry.files.length} files`);
  }
  manifest.documents = manifest.containers.reduce((n, c) => n + c.documents, 0);
  manifest.completedAt = now().toISOString();
  await save();
  return { id: manifest.id, kind: manifest.kind, resumed, documents: manifest.documents, untilTs: manifest.untilTs };

  async function exportContainer(entry: ManifestContainer, range: { afterTs: number; untilTs: number }): Promise<void> {
    const spec = { id: entry.id, partitionKeyPath: entry.partitionKeyPath };
    let buffer: VersionedDocument[] = [];
    const flush = async () => {
      const name = `${entry.id}-${pad(entry.files.length + 1)}.ndjson.gz`;
      const bytes = encodeFile(buffer);
      await target.write(`${manifest!.id}/${name}`, bytes);
      entry.files.push(describeFile(name, entry.id, buffer, bytes, options.retentionDays));
      entry.documents += buffer.length;
      entry.savedThroughTs = buffer.at(-1)!._ts;
      buffer = [];
      await save();
    };
    let continuationToken: string | undefined;
    do {
      const page = await patiently(() => store.changed(spec, range, { limit: pageSize, continuationToken }), backoff);
      for (const doc of page.documents) {
        if (buffer.length >= partSize && doc._ts !== buffer.at(-1)!._ts) await flush();
        buffer.push(doc);
      }
      continuationToken = page.continuationToken;
    } while (continuationToken);
    if (buffer.length) await flush();
  }
}
