import type { Fact } from './facts';

/** Which aggregate a counter lives in: a day (all images uploaded that day) or a batch's images of a day. */
export type AggregateKey = { kind: 'day'; day: string } | { kind: 'batch'; day: string; batchId: string };

export interface Aggregate {
  kind: 'day' | 'batch';
  day: string;
  batchId?: string;
  counts: Record<string, number>;
}

/**
 * How an ended image or batch is counted exactly once: the fact remembers which counters it was counted with
 * (`countedAs`), and while a change is being applied, which change (`counting`). A redelivery that finds the same
 * counters counted does nothing; one that finds a change still `counting` applies it again, and each aggregate's
 * marker (applyOnce) turns that second application into a no-op.
 */
export interface CountState {
  countedAs?: { version: string; counters: string[] };
  /** `group`: the change is part of a group counted together (record.ts recordImagesEnd), under that group's marker. */
  counting?: { version: string; counters: string[]; group?: string };
}

export type StoredFact = Fact & CountState;

export interface AggregateFilter {
  /** UTC days, YYYY-MM-DD: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  batchId?: string;
}

/**
 * Port for the analytics documents: facts (container `facts`, partition `/day`) and the aggregates of counters
 * (container `stats`). Cosmos DB in Azure and on the local host, in memory for fault-injection tests;
 * test/contracts/analytics-store.test.ts holds both to one suite.
 */
export interface AnalyticsStore {
  getFact(id: string, day: string): Promise<StoredFact | undefined>;
  /** The stored facts among these (a few requests per day, however many): those not stored are left out. */
  getFacts(keys: ReadonlyArray<{ id: string; day: string }>): Promise<StoredFact[]>;
  /** Creates or replaces. */
  putFact(fact: StoredFact): Promise<void>;
  /** Creates or replaces each, in as few requests as the store allows (not atomically: some may be written when it throws). */
  putFacts(facts: readonly StoredFact[]): Promise<void>;
  /** Sets or clears the count state of a stored fact. */
  setCountState(id: string, day: string, state: CountState): Promise<void>;
  /**
   * Adds `deltas` to the aggregate's counters (creating the aggregate) and marks it with `marker` under `markerId`, in
   * one atomic write, unless the aggregate's marker for `markerId` is already one of `done`: then false, nothing
   * changes. At most 9 counters.
   */
  applyOnce(key: AggregateKey, markerId: string, marker: string, done: readonly string[], deltas: Record<string, number>): Promise<boolean>;
  /** Removes the marker if it is still `marker`, so aggregates do not grow with every image. */
  clearMarker(key: AggregateKey, markerId: string, marker: string): Promise<void>;
  /** Aggregates within the filter; day aggregates when it names no batch, that batch's otherwise. */
  aggregates(filter: AggregateFilter): Promise<Aggregate[]>;
  /** Days whose day aggregate changed at or after `since` (epoch seconds), with when they last changed. */
  changedDays(since: number): Promise<Array<{ day: string; changed: number }>>;
  /** Every fact of one type and day, a page at a time. */
  factsOfDay(type: Fact['type'], day: string): AsyncIterable<StoredFact[]>;
  /** Image facts sharing at least one hash band with `bands` (band i with band i): the near-duplicate candidates. */
  sharingBand(bands: readonly number[]): Promise<StoredFact[]>;
  /** Image facts sharing at least one band with any of the hashes' `bandSets`: sharingBand for many hashes at once. */
  sharingAnyBand(bandSets: ReadonlyArray<readonly number[]>): Promise<StoredFact[]>;
}

export const aggregateId = (key: AggregateKey) => (key.kind === 'day' ? `day:${key.day}` : `batch:${key.batchId}:${key.day}`);
