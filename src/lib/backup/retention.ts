import { holdsPersonalData } from '../names';
import type { VersionedDocument } from './document-store';

export const DAY_SECONDS = 24 * 3600;

const seconds = (value: unknown) => {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
};

/**
 * When a document's personal data came in, which the retention policy counts from: the earliest of its `createdAt`,
 * `source.uploadedAt` (images) and `at` (rejected records); its change time when it has none of them.
 */
export function personalDataSince(doc: VersionedDocument): number {
  const source = doc.source as { uploadedAt?: unknown } | undefined;
  const times = [seconds(doc.createdAt), seconds(source?.uploadedAt), seconds(doc.at)].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : doc._ts;
}

/**
 * Whether this version may hold personal data: it was written before its data reached the policy's age. The
 * retention sweep de-identifies a document once its data is that old, so a version written later holds none (and a
 * backup keeps it as the archive's copy).
 */
export function mayHoldPersonalData(containerId: string, doc: VersionedDocument, retentionDays: number): boolean {
  return holdsPersonalData(containerId) && doc._ts < personalDataSince(doc) + retentionDays * DAY_SECONDS;
}

/** A version that may hold personal data older than the policy allows at `nowTs`: no backup may keep it. */
export function isExpired(containerId: string, doc: VersionedDocument, retentionDays: number, nowTs: number): boolean {
  return mayHoldPersonalData(containerId, doc, retentionDays) && personalDataSince(doc) + retentionDays * DAY_SECONDS <= nowTs;
}

/** The earliest time a version among `docs` that may hold personal data passes the policy; null when none may. */
export function personalDataExpiresTs(containerId: string, docs: readonly VersionedDocument[], retentionDays: number): number | null {
  let earliest: number | null = null;
  for (const doc of docs) {
    if (!mayHoldPersonalData(containerId, doc, retentionDays)) continue;
    const expires = personalDataSince(doc) + retentionDays * DAY_SECONDS;
    if (earliest === null || expires < earliest) earliest = expires;
  }
  return earliest;
}
