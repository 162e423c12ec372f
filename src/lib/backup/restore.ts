import { isDeepStrictEqual } from 'node:util';
import { chainOf } from './chain';
import { appFields, documentKey, partitionKeyOf, type ContainerSpec, type DocumentStore, type VersionedDocument } from './document-store';
import { CorruptBackupError, readFile } from './files';
import { readManifests } from './manifest';
import { DEFAULT_BACKOFF, patiently, type Backoff } from './throttle';
import type { BackupTarget } from './target';

export interface RestoreOptions {
  store: DocumentStore;
  target: BackupTarget;
  /** Restore to this backup (its id); default the latest complete one. */
  at?: string;
  /** Replace documents that exist with other content; default keep them (they may be newer than the backup). */
  overwrite?: boolean;
  concurrency?: number;
  backoff?: Backoff;
  log?: (line: string) => void;
}

export interface ContainerCounts {
  /** Written: the account did not have them. */
  created: number;
  /** The account had them already, as in the backup (a restore run again, or one that was interrupted). */
  unchanged: number;
  /** The account has other content for them, kept (without `overwrite`). */
  kept: number;
  /** The account had other content, replaced (`overwrite`). */
  replaced: number;
}

export interface RestoreResult {
  chain: string[];
  /** Every version changed up to here is restored. */
  untilTs: number;
  containers: Record<string, ContainerCounts>;
}

/**
 * Writes the latest version of every document in the chain ending at `at` into the account, which may be empty or
 * partly filled. Every file of the chain is checked against its manifest before anything is written: a corrupted
 * backup is refused whole. Idempotent: a document that is there as in the backup is left alone, so a restore that
 * was interrupted is simply run again. Backups are read newest first and the first version seen of a document wins,
 * so only document keys are held in memory.
 */
export async function restoreBackups(options: RestoreOptions): Promise<RestoreResult> {
  const { store, target } = options;
  const log = options.log ?? (() => undefined);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const { manifests, problems } = await readManifests(target);
  if (problems.length) throw new CorruptBackupError(`Nothing restored: ${problems.join('; ')}. Run image-pipeline backup verify ${target.location}.`);
  const chain = chainOf(manifests, options.at);
  for (const manifest of chain) {
    for (const file of manifest.containers.flatMap((c) => c.files)) {
      try {
        await readFile(target, manifest, file);
      } catch (error) {
        if (error instanceof CorruptBackupError) throw new CorruptBackupError(`Nothing restored: ${error.message}. Run image-pipeline backup verify ${target.location}.`);
        throw error;
      }
    }
  }
  log(`restoring ${chain.map((m) => m.id).join(' + ')}: files checked`);

  const specs = new Map<string, ContainerSpec>();
  for (const { id, partitionKeyPath } of chain.flatMap((m) => m.containers)) specs.set(id, { id, partitionKeyPath });
  await patiently(() => store.ensure([...specs.values()]), backoff);

  const counts: Record<string, ContainerCounts> = Object.fromEntries([...specs.keys()].map((id) => [id, { created: 0, unchanged: 0, kept: 0, replaced: 0 }]));
  const seen = new Map([...specs.keys()].map((id) => [id, new Set<string>()]));
  const pending = new Set<Promise<void>>();
  const concurrency = options.concurrency ?? 8;

  for (const manifest of [...chain].reverse()) {
    for (const container of manifest.containers) {
      const spec = specs.get(container.id)!;
      for (const file of [...container.files].reverse()) {
        for (const doc of await readFile(target, manifest, file)) {
          const key = documentKey(spec, doc);
          if (seen.get(spec.id)!.has(key)) continue;
          seen.get(spec.id)!.add(key);
          const write = restoreOne(spec, doc).then((outcome) => void counts[spec.id][outcome]++);
          pending.add(write);
          void write.finally(() => pending.delete(write)).catch(() => undefined);
          if (pending.size >= concurrency) await Promise.race(pending);
        }
      }
    }
    log(`  ${manifest.id} done`);
  }
  await Promise.all(pending);
  return { chain: chain.map((m) => m.id), untilTs: chain.at(-1)!.untilTs, containers: counts };

  async function restoreOne(spec: ContainerSpec, version: VersionedDocument): Promise<keyof ContainerCounts> {
    const doc = appFields(version);
    if (await patiently(() => store.create(spec, doc), backoff)) return 'created';
    const existing = await patiently(() => store.read(spec, doc.id, partitionKeyOf(doc, spec.partitionKeyPath)), backoff);
    if (isDeepStrictEqual(existing, doc)) return 'unchanged';
    if (!options.overwrite) return 'kept';
    await patiently(() => store.upsert(spec, doc), backoff);
    return 'replaced';
  }
}

