import { gunzipSync, gzipSync } from 'node:zlib';
import { sha256 } from '../hash';
import type { VersionedDocument } from './document-store';
import type { Manifest, ManifestFile } from './manifest';
import { personalDataExpiresTs } from './retention';
import type { BackupTarget } from './target';

/** A backup file that is not what its manifest says: missing, changed or corrupted. Nothing is restored from it. */
export class CorruptBackupError extends Error {
  override name = 'CorruptBackupError';
}

/** One version per line (NDJSON), gzip-compressed. */
export function encodeFile(docs: readonly VersionedDocument[]): Buffer {
  return gzipSync(Buffer.from(docs.map((doc) => `${JSON.stringify(doc)}\n`).join(''), 'utf8'));
}

/** The manifest entry of a file about to be written with `docs`. */
export function describeFile(name: string, containerId: string, docs: readonly VersionedDocument[], bytes: Buffer, retentionDays: number): ManifestFile {
  const times = docs.map((doc) => doc._ts);
  return {
    name,
    documents: docs.length,
    bytes: bytes.length,
    sha256: sha256(bytes),
    minTs: times.length ? Math.min(...times) : null,
    maxTs: times.length ? Math.max(...times) : null,
    personalDataExpiresTs: personalDataExpiresTs(containerId, docs, retentionDays),
    retentionDays,
  };
}

/**
 * The versions in a backup file, after checking it against its manifest: present, the same sha256, gzip, one JSON
 * document with an id and a `_ts` in the backup's range per line, as many as the manifest counts. Anything else is a
 * CorruptBackupError naming the file and what is wrong.
 */
export async function readFile(target: BackupTarget, manifest: Manifest, file: ManifestFile): Promise<VersionedDocument[]> {
  const path = `${manifest.id}/${file.name}`;
  const fail = (what: string) => new CorruptBackupError(`${path}: ${what}`);
  const bytes = await target.read(path);
  if (!bytes) throw fail('missing (the manifest lists it)');
  const actual = sha256(bytes);
  if (actual !== file.sha256) throw fail(`sha256 is ${actual}, the manifest says ${file.sha256}: the file is corrupted or was changed`);
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw fail(`not gzip (${(error as Error).message})`);
  }
  const lines = text.split('\n').filter(Boolean);
  if (lines.length !== file.documents) throw fail(`${lines.length} documents, the manifest says ${file.documents}`);
  const lowest = manifest.kind === 'base' ? 0 : manifest.afterTs;
  return lines.map((line, i) => {
    let doc: VersionedDocument;
    try {
      doc = JSON.parse(line) as VersionedDocument;
    } catch {
      throw fail(`line ${i + 1} is not JSON`);
    }
    if (typeof doc?.id !== 'string' || typeof doc._ts !== 'number') throw fail(`line ${i + 1} has no id or _ts`);
    if (doc._ts <= lowest || doc._ts > manifest.untilTs) throw fail(`line ${i + 1} (${doc.id}) changed at ${doc._ts}, outside the backup's range (${lowest}, ${manifest.untilTs}]`);
    return doc;
  });
}
