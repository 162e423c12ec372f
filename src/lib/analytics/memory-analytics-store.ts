import { aggregateId, type Aggregate, type AggregateFilter, type AggregateKey, type AnalyticsStore, type CountState, type StoredFact } from './analytics-store';
import type { Fact } from './facts';

const copy = <T>(value: T): T => structuredClone(value);
const seconds = () => Math.floor(Date.now() / 1000);

interface StoredAggregate extends Aggregate {
  applied: Record<string, string>;
  /** Last change, epoch seconds (Cosmos DB's `_ts`). */
  ts: number;
}

/**
 * AnalyticsStore in memory, for tests that inject faults around it (test/contracts/analytics-store.test.ts holds it
 * and the Cosmos adapter to one suite). Each call is atomic, as a Cosmos patch is on one document.
 */
export class MemoryAnalyticsStore implements AnalyticsStore {
  private readonly facts = new Map<string, StoredFact>();
  private readonly stats = new Map<string, StoredAggregate>();

  async getFact(id: string, day: string): Promise<StoredFact | undefined> {
    const fact = this.facts.get(`${day}\u0000${id}`);
    return fact && copy(fact);
  }

  async getFacts(keys: ReadonlyArray<{ id: string; day: string }>): Promise<StoredFact[]> {
    return keys.flatMap(({ id, day }) => {
      const fact = this.facts.get(`${day}\u0000${id}`);
      return fact ? [copy(fact)] : [];
    });
  }

  async putFact(fact: StoredFact): Promise<void> {
    this.facts.set(`${fact.day}\u0000${fact.id}`, copy(fact));
  }

  async putFacts(facts: readonly StoredFact[]): Promise<void> {
    for (const fact of facts) await this.putFact(fact);
  }

  async setCountState(id: string, day: string, state: CountState): Promise<void> {
    const fact = this.facts.get(`${day}\u0000${id}`);
    if (!fact) throw Object.assign(new Error(`no fact ${id}`), { code: 404 });
    this.facts.set(`${day}\u0000${id}`, { ...fact, countedAs: state.countedAs, counting: state.counting });
  }

  async applyOnce(key: AggregateKey, markerId: string, marker: string, done: readonly string[], deltas: Record<string, number>): Promise<boolean> {
    const id = aggregateId(key);
    const aggregate = this.stats.get(id) ?? { ...key, counts: {}, applied: {}, ts: seconds() };
    if (done.includes(aggregate.applied[markerId])) return false;
    for (const [counter, delta] of Object.entries(deltas)) aggregate.counts[counter] = (aggregate.counts[counter] ?? 0) + delta;
    aggregate.applied[markerId] = marker;
    aggregate.ts = seconds();
    this.stats.set(id, aggregate);
    return true;
  }

  async clearMarker(key: AggregateKey, markerId: string, marker: string): Promise<void> {
    const aggregate = this.stats.get(aggregateId(key));
    if (aggregate?.applied[markerId] !== marker) return;
    delete aggregate.applied[markerId];
    aggregate.ts = seconds();
  }

  async aggregates(filter: AggregateFilter): Promise<Aggregate[]> {
    return [...this.stats.values()]
      .filter(
        (a) =>
          a.kind === (filter.batchId ? 'batch' : 'day') &&
          (filter.batchId === undefined || a.batchId === filter.batchId) &&
          (filter.from === undefined || a.day >= filter.from) &&
          (filter.to === undefined || a.day < filter.to),
      )
      .map(({ kind, day, batchId, counts }) => copy({ kind, day, ...(batchId ? { batchId } : {}), counts }));
  }

  async changedDays(since: number): Promise<Array<{ day: string; changed: number }>> {
    return [...this.stats.values()].filter((a) => a.kind === 'day' && a.ts >= since).map((a) => ({ day: a.day, changed: a.ts }));
  }

  async *factsOfDay(type: Fact['type'], day: string): AsyncIterable<StoredFact[]> {
    const facts = [...this.facts.values()].filter((f) => f.day === day && f.type === type).map(copy);
    for (let i = 0; i < facts.length; i += 1000) yield facts.slice(i, i + 1000);
  }

  async sharingBand(bands: readonly number[]): Promise<StoredFact[]> {
    return this.sharingAnyBand([bands]);
  }

  async sharingAnyBand(bandSets: ReadonlyArray<readonly number[]>): Promise<StoredFact[]> {
    return [...this.facts.values()]
      .filter((f) => f.type === 'image' && bandSets.some((bands) => bands.some((band, i) => (f as unknown as Record<string, unknown>)[`hashBand${i}`] === band)))
      .map(copy);
  }
}
