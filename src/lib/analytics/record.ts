import { createHash } from 'node:crypto';
import { ownerHash } from '../auth/owner-hash';
import { UNATTRIBUTED_OWNER } from '../auth/principal';
import type { Services } from '../services';
import { hammingDistance } from '../images/near-duplicates';
import { isTerminal, type ImageDocument } from '../results/image-document';
import { aggregateId, type AggregateKey, type AnalyticsStore, type StoredFact } from './analytics-store';
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
  return nearestOf(recorder, fact, await recorder.analytics.sharingBand(bandsOf(fact)));
}

/**
 * The fact with its near-duplicate group, from the candidates sharing a band with it: the nearest, and of those the
 * one recorded first (`recordedRank` orders candidates recorded at the same time, as a batch's items are). One pass
 * keeping the best so far: a picture uploaded many times has as many candidates, and sorting them all for each new
 * copy cost more than the rest of its recording.
 */
function nearestOf(recorder: Recorder, fact: ImageFact, candidates: StoredFact[], recordedRank: (candidate: ImageFact) => number = () => 0): ImageFact {
  if (!fact.perceptualHash || fact.hashDegenerate) return fact;
  const hash = fact.perceptualHash;
  const before = (a: ImageFact, distanceA: number, b: ImageFact, distanceB: number) =>
    (distanceA - distanceB || a.recordedAt.localeCompare(b.recordedAt) || recordedRank(a) - recordedRank(b) || a.imageId.localeCompare(b.imageId)) < 0;
  let nearest: ImageFact | undefined;
  let nearestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.type !== 'image' || candidate.imageId === fact.imageId || !candidate.perceptualHash || candidate.hashDegenerate) continue;
    const distance = hammingDistance(hash, candidate.perceptualHash);
    if (distance > recorder.duplicateDistance) continue;
    if (!nearest || before(candidate, distance, nearest, nearestDistance)) [nearest, nearestDistance] = [candidate, distance];
  }
  if (!nearest) return { ...fact, duplicateGroup: fact.imageId };
  return { ...fact, duplicateOf: nearest.imageId, duplicateGroup: nearest.duplicateGroup ?? nearest.imageId };
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

/** Aggregate changes of the `items`, summed per aggregate: each item moves from its `previous` counters to its `next`. */
function summedDeltas(items: Array<{ fact: StoredFact; previous: string[]; next: string[] }>, keysOf: (fact: StoredFact) => AggregateKey[]) {
  const byAggregate = new Map<string, { key: AggregateKey; deltas: Record<string, number> }>();
  for (const { fact, previous, next } of items) {
    for (const key of keysOf(fact)) {
      const entry = byAggregate.get(aggregateId(key)) ?? { key, deltas: {} };
      for (const [counter, delta] of Object.entries(counterDeltas(previous, next))) entry.deltas[counter] = (entry.deltas[counter] ?? 0) + delta;
      byAggregate.set(aggregateId(key), entry);
    }
  }
  return [...byAggregate.values()];
}

/** A patch carries at most this many counters (with the marker: Cosmos DB's 10 operations). */
const COUNTERS_PER_PATCH = 8;

/**
 * Counts a group of facts as one change: the facts (already written with `counting` tagged with the group) move the
 * aggregates by their summed deltas, in steps of at most 8 counters marked `0`..`n` under the group's marker, so a
 * step applied already is skipped when the group is counted again. Then the facts are written counted, and the
 * markers removed.
 */
async function countGroup(store: AnalyticsStore, group: string, items: Array<{ fact: StoredFact; previous: string[]; next: { version: string; counters: string[] } }>) {
  const markerId = `g.${group}`;
  const aggregates = summedDeltas(
    items.map(({ fact, previous, next }) => ({ fact, previous, next: next.counters })),
    (fact) => aggregateKeys(fact),
  );
  const steps = aggregates.map(({ key, deltas }) => {
    const nonZero = Object.entries(deltas).filter(([, delta]) => delta !== 0).sort(([a], [b]) => a.localeCompare(b));
    // Subtractions first, as one image's move does: a counter never dips below what is really counted.
    const ordered = [...nonZero.filter(([, delta]) => delta < 0), ...nonZero.filter(([, delta]) => delta > 0)];
    const chunks = Array.from({ length: Math.max(1, Math.ceil(ordered.length / COUNTERS_PER_PATCH)) }, (_, i) => Object.fromEntries(ordered.slice(i * COUNTERS_PER_PATCH, (i + 1) * COUNTERS_PER_PATCH)));
    return { key, chunks };
  });
  for (const { key, chunks } of steps) {
    const markers = chunks.map((_, i) => String(i));
    for (const [i, deltas] of chunks.entries()) await store.applyOnce(key, markerId, markers[i], markers.slice(i), deltas);
  }
  await store.putFacts(items.map(({ fact, next }) => {
    const { counting: _counting, ...counted } = fact;
    return { ...counted, countedAs: next };
  }));
  for (const { key, chunks } of steps) await store.clearMarker(key, markerId, String(chunks.length - 1));
}

const aggregateKeys = (fact: StoredFact): AggregateKey[] => [{ kind: 'day', day: fact.day }, ...(fact.batchId ? [{ kind: 'batch' as const, day: fact.day, batchId: fact.batchId }] : [])];

/**
 * Records many ended images at once (a batch's items, at its end), as recordImageEnd would one after another in
 * index order, in a few requests per hundred images instead of several per image: the facts are read and written in
 * bulk, the near-duplicate candidates found in one query per hundred, and the aggregates moved once per group by the
 * summed changes. Exactly once like recordImageEnd: a group's facts are written as `counting` under the group's id
 * before any aggregate moves, so a call that stopped half way is finished by the next, and never counted twice.
 */
export async function recordImagesEnd(recorder: Recorder, docs: readonly ImageDocument[], now = new Date()): Promise<void> {
  const ended = docs.filter((doc) => isTerminal(doc.status)).sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0) || a.id.localeCompare(b.id));
  if (!ended.length) return;
  const store = recorder.analytics;
  const bases = ended.map((doc) => imageFact(doc, now, recorder.ownerHashOf(doc.owner)));
  let stored = new Map((await store.getFacts(bases)).map((fact) => [fact.id, fact]));

  // Changes left half way by an earlier call: a group is finished as a group, a single image's change as recordImageEnd does.
  const interrupted = [...stored.values()].filter((fact) => fact.counting);
  const groups = new Map<string, StoredFact[]>();
  for (const fact of interrupted) {
    if (fact.counting!.group) groups.set(fact.counting!.group, [...(groups.get(fact.counting!.group) ?? []), fact]);
    else await countOnce(store, fact, fact, `i.${(fact as ImageFact).imageId}`, fact.counting!.counters, aggregateKeys(fact));
  }
  for (const [group, facts] of groups) {
    await countGroup(store, group, facts.map((fact) => ({ fact, previous: fact.countedAs?.counters ?? [], next: { version: fact.counting!.version, counters: fact.counting!.counters } })));
  }
  if (interrupted.length) stored = new Map((await store.getFacts(bases)).map((fact) => [fact.id, fact]));

  // Near-duplicates as if recorded one by one in index order: the stored candidates, then each image as it is recorded.
  const hashed = bases.filter((fact) => fact.perceptualHash && !fact.hashDegenerate);
  const candidates = new CandidatesByBand();
  if (hashed.length) for (const fact of await store.sharingAnyBand(hashed.map(bandsOf))) if (fact.type === 'image') candidates.set(fact);
  const pending: Array<{ fact: StoredFact; previous: string[]; next: { version: string; counters: string[] } }> = [];
  let position = 0;
  for (const base of bases) {
    const existing = stored.get(base.id) as (ImageFact & StoredFact) | undefined;
    const fact =
      existing && existing.perceptualHash === base.perceptualHash && existing.duplicateGroup !== null
        ? { ...base, duplicateGroup: existing.duplicateGroup, duplicateOf: existing.duplicateOf }
        : nearestOf(recorder, base, candidates.sharingBand(base), candidates.rank);
    candidates.set(fact, position++);
    const counters = imageCounters(fact);
    const version = versionOf(fact, counters);
    if (existing?.countedAs?.version === version) continue;
    pending.push({ fact, previous: existing?.countedAs?.counters ?? [], next: { version, counters } });
  }
  if (!pending.length) return;
  const group = createHash('sha256')
    .update(JSON.stringify(pending.map(({ fact, next }) => [fact.id, stored.get(fact.id)?.countedAs?.version ?? null, next.version])))
    .digest('hex')
    .slice(0, 16);
  await store.putFacts(pending.map(({ fact, next }) => ({ ...fact, countedAs: stored.get(fact.id)?.countedAs, counting: { ...next, group } })));
  await countGroup(store, group, pending.map(({ fact, previous, next }) => ({ fact: { ...fact, countedAs: stored.get(fact.id)?.countedAs }, previous, next })));
}

const bandsOf = (fact: ImageFact) => [fact.hashBand0, fact.hashBand1, fact.hashBand2, fact.hashBand3, fact.hashBand4] as number[];

/**
 * The near-duplicate candidates of a batch's recording, one fact per image, found by band: a batch of similar
 * images (each sharing bands with many others) would otherwise compare every image with every candidate.
 */
class CandidatesByBand {
  private readonly facts = new Map<string, ImageFact>();
  /** Per band position, the images whose facts had that band value (a replaced fact's old bands stay: checked below). */
  private readonly byBand = Array.from({ length: 5 }, () => new Map<number, Set<string>>());
  /** Where this call recorded an image, in index order: its facts share one recordedAt, yet were recorded one by one. */
  private readonly recorded = new Map<string, number>();

  /** `position`: this call recorded the fact (after the images before it); none for facts stored earlier. */
  set(fact: ImageFact, position?: number): void {
    this.facts.set(fact.imageId, fact);
    if (position !== undefined) this.recorded.set(fact.imageId, position);
    bandsOf(fact).forEach((band, i) => {
      if (band === null) return;
      const images = this.byBand[i].get(band) ?? new Set<string>();
      this.byBand[i].set(band, images.add(fact.imageId));
    });
  }

  /** The order in which candidates with the same recordedAt were recorded: earlier facts first, then this call's. */
  readonly rank = (candidate: ImageFact): number => this.recorded.get(candidate.imageId) ?? -1;

  /** The current facts sharing at least one band with `fact`, in no particular order (nearestOf orders them). */
  sharingBand(fact: ImageFact): ImageFact[] {
    const bands = bandsOf(fact);
    const ids = new Set<string>();
    bands.forEach((band, i) => {
      if (band !== null) for (const id of this.byBand[i].get(band) ?? []) ids.add(id);
    });
    return [...ids].map((id) => this.facts.get(id)!).filter((candidate) => bandsOf(candidate).some((band, i) => band !== null && band === bands[i]));
  }
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
