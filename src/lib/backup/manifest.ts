import { z } from 'zod';
import type { BackupTarget } from './target';

/** Version of the backup layout (manifest and files); a reader refuses a version it does not know. */
export const BACKUP_SCHEMA_VERSION = 1;
export const MANIFEST = 'manifest.json';

/**
 * `full`: every document changed up to `untilTs`; `incremental`: those changed after the previous backup's `untilTs`;
 * `base`: what prune folded older backups into (the latest version of each document, none holding expired personal
 * data).
 */
export type BackupKind = 'full' | 'incremental' | 'base';

const fileSchema = z.object({
  /** `<container>-<nnnnn>.ndjson.gz`, with `-p<n>` once prune rewrote it. */
  name: z.string(),
  documents: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Of the compressed file as stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  minTs: z.number().int().nullable(),
  maxTs: z.number().int().nullable(),
  /**
   * The earliest time (seconds) at which a version in this file that may hold personal data passes the retention
   * policy it was computed for (`retentionDays`); null when none may. Prune reads only the files whose time came.
   */
  personalDataExpiresTs: z.number().int().nullable(),
  retentionDays: z.number().int().positive(),
});

const containerSchema = z.object({
  id: z.string(),
  partitionKeyPath: z.string(),
  documents: z.number().int().nonnegative(),
  files: z.array(fileSchema),
  /** While the backup runs: versions up to this `_ts` are in the files, so a resumed run starts after it. */
  savedThroughTs: z.number().int(),
  done: z.boolean(),
});

export const manifestSchema = z.object({
  format: z.literal('image-pipeline-backup'),
  schemaVersion: z.literal(BACKUP_SCHEMA_VERSION),
  id: z.string(),
  kind: z.enum(['full', 'incremental', 'base']),
  database: z.string(),
  /** The Cosmos DB endpoint it was read from (informative). */
  source: z.string(),
  /** The versions in it changed in (afterTs, untilTs], seconds since the epoch (Cosmos' `_ts`). */
  afterTs: z.number().int().nonnegative(),
  untilTs: z.number().int().positive(),
  startedAt: z.string(),
  /** Null while the backup is incomplete (running, or interrupted: the next backup run resumes it). */
  completedAt: z.string().nullable(),
  documents: z.number().int().nonnegative(),
  containers: z.array(containerSchema),
  /** What prune did to it, latest first. */
  pruned: z.array(z.object({ at: z.string(), removedVersions: z.number().int().nonnegative() })).default([]),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestContainer = Manifest['containers'][number];
export type ManifestFile = ManifestContainer['files'][number];

export const isoOf = (ts: number) => new Date(ts * 1000).toISOString().replace('.000Z', 'Z');

/** `20261125T203000Z-incremental`: ids sort by the time they reach, then by kind. */
export const backupId = (untilTs: number, kind: BackupKind) => `${isoOf(untilTs).replace(/[-:]/g, '')}-${kind}`;

export const manifestName = (id: string) => `${id}/${MANIFEST}`;

export const encodeManifest = (manifest: Manifest) => Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);

/** Every backup in the target whose manifest reads, oldest first; folders whose manifest does not read, as problems. */
export async function readManifests(target: BackupTarget, names?: string[]): Promise<{ manifests: Manifest[]; problems: string[] }> {
  const all = names ?? (await target.list());
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  const folders = [...new Set(all.filter((name) => name.includes('/')).map((name) => name.slice(0, name.indexOf('/'))))];
  for (const folder of folders) {
    const bytes = await target.read(manifestName(folder));
    if (!bytes) {
      problems.push(`${folder}/: no ${MANIFEST}, so nothing in it can be checked or restored`);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      problems.push(`${manifestName(folder)} is not JSON (${(error as Error).message}): the manifest is corrupted`);
      continue;
    }
    if ((json as { schemaVersion?: unknown })?.schemaVersion !== BACKUP_SCHEMA_VERSION && (json as { format?: unknown })?.format === 'image-pipeline-backup') {
      problems.push(`${manifestName(folder)} has schema version ${String((json as { schemaVersion?: unknown }).schemaVersion)}; this version of image-pipeline reads ${BACKUP_SCHEMA_VERSION}`);
      continue;
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success || parsed.data.id !== folder) {
      problems.push(`${manifestName(folder)} is not a backup manifest${parsed.success ? ` (its id is ${parsed.data.id})` : `: ${parsed.error.issues[0].path.join('.')} ${parsed.error.issues[0].message}`}`);
      continue;
    }
    manifests.push(parsed.data);
  }
  manifests.sort((a, b) => a.untilTs - b.untilTs || kindOrder(a.kind) - kindOrder(b.kind) || a.id.localeCompare(b.id));
  return { manifests, problems };
}

// A base made from a backup reaches the same time as that backup, and replaces it.
const kindOrder = (kind: BackupKind) => ({ base: 1, full: 0, incremental: 0 })[kind];
