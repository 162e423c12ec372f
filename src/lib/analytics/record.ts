import { createHash } from 'node:crypto';
import { ownerHash } from '../auth/owner-hash';
import { UNATTRIBUTED_OWNER } from '../auth/principal';
import type { Services } from '../services';
import { hammingDistance } from '../images/near-duplicates';
import { isTerminal, type ImageDocument } from '../results/image-document';
import type { AggregateKey, AnalyticsStore, StoredFact } from './analytics-store';
import { batchCounters, counterDeltas, imageCounters } from './counters';
import { batchFact, imageFact, type BatchFact, type EndedBatch, type ImageFact } from './facts';

export interface Recorder {
  analytics: AnalyticsStore;
  /** DUPLICATE_HASH_DISTANCE. */
  duplicateDistance: number;
  /** The facts' owner hash of an owner's object id; null for nobody's (unattributed, or from before owners). */
  ownerHashOf(owner: string | undefined): string | null;
}

/** Identifies a fact's content and counters: the same image recorded again has the same version. */
function versionOf(fact: StoredFact, counters: string[]): string {
  const { recordedAt: _r, countedAs: _c, counting: _p, ...content } = fact;
  return createHash('sha256').update(JSON.stringify([content, counters])).digest('hex').slice(0, 16);
}

const split = (deltas: Record<string, number>, sign: 1 | -1) => Object.fromEntries(Object.entries(deltas).filter(([, delta]) => Math.sign(delta) === sign));

/**
 * Moves the aggregates from `previous` counters to `next`: the subtractions, then the additions, each one patch per
 * aggregate, each marked so that applying it again changes nothing (at most 8 counters a patch).
 */
async function apply(store: AnalyticsStore, keys: AggregateKey[], markerId: string, previous: string[], next: { version: string; counters: string[] }) {
  const deltas = counterDeltas(previous, next.counters);
  const subtract = split(deltas, -1);
  for (const key of keys) {
    if (Object.keys(subtract).length) await store.applyOnce(key, markerId, `${next.version}-`, [`${next.version}-`, next.version], subtract);
    await store.applyOnce(key, markerId, next.version, [next.version], split(deltas, 1));
  }
}

/**
 * Writes the fact and counts it in its aggregates exactly once, however often it is called (a redelivered blob event,
 * a Durable activity run again, a batch retried): the fact records what it was counted with, and a change is written
 * to the fact as `counting` before the aggregates move, so a call that stopped half way is finished by the next one.
 */
async function countOnce(store: AnalyticsStore, fact: StoredFact, existing: StoredFact | undefined, markerId: string, counters: string[], keys: AggregateKey[]) {
  const version = versionOf(fact, counters);
  if (existing?.countedAs?.version === version && !existing.counting) return;
  let countedAs = existing?.countedAs;
  if (existing?.counting && existing.counting.version !== version) {
    await apply(store, keys, markerId, countedAs?.counters ?? [], existing.counting);
    countedAs = existing.counting;
  }
  const next = { version, counters };
  await store.putFact({ ...fact, countedAs, counting: next });
  await apply(store, keys, markerId, countedAs?.counters ?? [], next);
  await store.setCountState(fact.id, fact.day, { countedAs: next });
  for (const key of keys) await store.clearMarker(key, markerId, version);
}

/** The earlier image this one is a near-duplicate of: the nearest other fact within the distance. */
async function withDuplicateGroup(recorder: Recorder, fact: ImageFact): Promise<ImageFact> {
  if (!fact.perceptualHash || fact.hashDegenerate) return fact;
  const hash = fact.perceptualHash;
  const bands = [fact.hashBand0, fact.hashBand1, fact.hashBand2, fact.hashBand3, fact.hashBand4] as number[];
  const nearest = (await recorder.analytics.sharingBand(bands))
    .filter((c): c is ImageFact => c.type === 'image' && c.imageId !== fact.imageId && Boolean(c.perceptualHash) && !c.hashDegenerate)
    .map((candidate) => ({ candidate, distance: hammingDistance(hash, candidate.perceptualHash!) }))
    .filter(({ distance }) => distance <= recorder.duplicateDistance)
    .sort((a, b) => a.distance - b.distance || a.candidate.recordedAt.localeCompare(b.candidate.recordedAt) || a.candidate.imageId.localeCompare(b.candidate.imageId))[0];
  if (!nearest) return { ...fact, duplicateGroup: fact.imageId };
  return { ...fact, duplicateOf: nearest.candidate.imageId, duplicateGroup: nearest.candidate.duplicateGroup ?? nearest.candidate.imageId };
}

/**
 * Records an image that ended (succeeded or failed): its fact, its near-duplicate group and its counters in the
 * aggregates of its day and of its batch. Does nothing for an image still queued or processing. Throws when the
 * store fails, so the caller's retry records it.
 */
export async function recordImageEnd(recorder: Recorder, doc: ImageDocument, now = new Date()): Promise<ImageFact | undefined> {
  if (!isTerminal(doc.status)) return undefined;
  const store = recorder.analytics;
  const base = imageFact(doc, now, recorder.ownerHashOf(doc.owner));
  const existing = (await store.getFact(base.id, base.day)) as (ImageFact & StoredFact) | undefined;
  // The same picture keeps the group it was given: images recorded since are not "earlier" than it.
  const fact =
    existing && existing.perceptualHash === base.perceptualHash && existing.duplicateGroup !== null
      ? { ...base, duplicateGroup: existing.duplicateGroup, duplicateOf: existing.duplicateOf }
      : await withDuplicateGroup(recorder, base);
  const keys: AggregateKey[] = [{ kind: 'day', day: fact.day }];
  if (fact.batchId) keys.push({ kind: 'batch', day: fact.day, batchId: fact.batchId });
  await countOnce(store, fact, existing, `i.${doc.id}`, imageCounters(fact), keys);
  return fact;
}

/** Records a batch that ended: its fact, and its status in the batch counts of its day. */
export async function recordBatchEnd(recorder: Recorder, batch: EndedBatch, now = new Date()): Promise<BatchFact> {
  const store = recorder.analytics;
  const fact = batchFact(batch, now, recorder.ownerHashOf(batch.owner));
  const existing = await store.getFact(fact.id, fact.day);
  await countOnce(store, fact, existing, `b.${batch.id}`, batchCounters(fact), [{ kind: 'day', day: fact.day }]);
  return fact;
}

/** The recorder of a process's services. */
export const recorderOf = (services: Pick<Services, 'analytics' | 'config'>): Recorder => ({
  analytics: services.analytics,
  duplicateDistance: services.config.duplicateHashDistance,
  ownerHashOf: (owner) => (owner && owner !== UNATTRIBUTED_OWNER ? ownerHash(services.config, owner) : null),
});
