import { CorruptBackupError, readFile } from './files';
import { isoOf, MANIFEST, readManifests, type Manifest } from './manifest';
import type { BackupTarget } from './target';

/**
 * The backups a restore to `at` (a backup id; default the latest complete one) reads, oldest first: the latest full
 * backup or base reaching no further than `at`, then every incremental after it up to `at`. Each incremental must
 * start where the one before it ended; a gap would silently lose the versions changed in it, so it is an error.
 */
export function chainOf(manifests: readonly Manifest[], at?: string): Manifest[] {
  const complete = manifests.filter((m) => m.completedAt);
  const tip = at ? complete.find((m) => m.id === at) : complete.at(-1);
  if (!tip) {
    const incomplete = at && manifests.find((m) => m.id === at);
    throw new Error(at ? `No complete backup ${at}${incomplete ? ' (it is incomplete: run the backup again to finish it)' : ''}.` : 'No complete backup to restore.');
  }
  const start = complete.filter((m) => m.kind !== 'incremental' && m.untilTs <= tip.untilTs).at(-1);
  if (!start) throw new Error(`No full backup or base before ${tip.id}: the versions before its incrementals are in no backup.`);
  const chain = [start, ...complete.filter((m) => m.kind === 'incremental' && m.untilTs > start.untilTs && m.untilTs <= tip.untilTs)];
  for (let i = 1; i < chain.length; i++) {
    if (chain[i].afterTs !== chain[i - 1].untilTs) {
      throw new Error(`Gap between ${chain[i - 1].id} (up to ${isoOf(chain[i - 1].untilTs)}) and ${chain[i].id} (after ${isoOf(chain[i].afterTs)}): versions changed in between are in no backup.`);
    }
  }
  return chain;
}

export interface BackupCheck {
  manifest: Manifest;
  /** What is wrong with it; empty when every file is what its manifest says. */
  problems: string[];
}

export interface VerifyReport {
  checks: BackupCheck[];
  /** About the destination as a whole: manifests that do not read, a chain that cannot be restored. */
  problems: string[];
  /** Files no manifest lists (left by an interrupted backup or prune; the next prune removes them). */
  strays: string[];
  /** What a restore would read, when it can. */
  chain?: Manifest[];
}

export const isHealthy = (report: VerifyReport) => !report.problems.length && report.checks.every((c) => !c.problems.length);

/** Checks every backup in `target`: each file against its manifest (present, sha256, gzip, JSON lines, count, range), and the chain. */
export async function verifyBackups(target: BackupTarget): Promise<VerifyReport> {
  const names = await target.list();
  const { manifests, problems } = await readManifests(target, names);
  const listed = new Set(manifests.flatMap((m) => [`${m.id}/${MANIFEST}`, ...m.containers.flatMap((c) => c.files.map((f) => `${m.id}/${f.name}`))]));
  const known = new Set(manifests.map((m) => m.id));
  const strays = names.filter((name) => !listed.has(name) && known.has(name.split('/')[0]));
  const checks: BackupCheck[] = [];
  for (const manifest of manifests) {
    const check: BackupCheck = { manifest, problems: [] };
    for (const container of manifest.containers) {
      for (const file of container.files) {
        try {
          await readFile(target, manifest, file);
        } catch (error) {
          if (!(error instanceof CorruptBackupError)) throw error;
          check.problems.push(error.message);
        }
      }
      const counted = container.files.reduce((n, f) => n + f.documents, 0);
      if (counted !== container.documents) check.problems.push(`${manifest.id}: ${container.id} counts ${container.documents} documents, its files ${counted}`);
    }
    checks.push(check);
  }
  let chain: Manifest[] | undefined;
  if (manifests.some((m) => m.completedAt)) {
    try {
      chain = chainOf(manifests);
    } catch (error) {
      problems.push((error as Error).message);
    }
  } else if (!problems.length) {
    problems.push(manifests.length ? 'No complete backup yet: run the backup again to finish it.' : `No backups in ${target.location}.`);
  }
  return { checks, problems, strays, chain };
}
