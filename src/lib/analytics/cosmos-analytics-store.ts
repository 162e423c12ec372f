import type { Container, JSONObject, OperationInput, PatchOperation } from '@azure/cosmos';
import { isStatus, withoutSystemProperties } from '../results/cosmos';
import { aggregateId, type Aggregate, type AggregateFilter, type AggregateKey, type AnalyticsStore, type CountState, type StoredFact } from './analytics-store';
import type { Fact } from './facts';

/** Ids, markers and counter names are our own ([A-Za-z0-9_.:-]); checked, since they are written into conditions. */
const SAFE = /^[A-Za-z0-9_.:-]+$/;
const safe = (value: string) => {
  if (!SAFE.test(value)) throw new Error(`"${value}" cannot be used in an aggregate`);
  return value;
};

/**
 * Facts in `facts` (partition `/day`: a day's export is a single-partition query) and aggregates in `stats`
 * (partition `/id`). Only patch (incr, set, remove with a filter condition), point reads and WHERE queries with
 * single-field comparisons, which Cosmos DB and the local stand-in answer alike; no GROUP BY or DISTINCT.
 */
export class CosmosAnalyticsStore implements AnalyticsStore {
  constructor(
    private readonly facts: Container,
    private readonly stats: Container,
  ) {}

  async getFact(id: string, day: string): Promise<StoredFact | undefined> {
    const { resource } = await this.facts.item(id, day).read<StoredFact>();
    return resource && withoutSystemProperties(resource);
  }

  async getFacts(keys: ReadonlyArray<{ id: string; day: string }>): Promise<StoredFact[]> {
    const found: StoredFact[] = [];
    for (const [day, ids] of groupBy(keys, (key) => key.day)) {
      for (const chunk of chunks(ids, CHUNK)) {
        // One single-partition query for up to CHUNK point reads.
        const { resources } = await this.facts.items
          .query<StoredFact>(
            {
              query: `SELECT * FROM c WHERE c.day = @day AND c.id IN (${chunk.map((_, i) => `@id${i}`).join(', ')})`,
              parameters: [{ name: '@day', value: day }, ...chunk.map(({ id }, i) => ({ name: `@id${i}`, value: id }))],
            },
            { partitionKey: day },
          )
          .fetchAll();
        found.push(...resources.map(withoutSystemProperties));
      }
    }
    return found;
  }

  async putFact(fact: StoredFact): Promise<void> {
    await this.facts.items.upsert(fact);
  }

  async putFacts(facts: readonly StoredFact[]): Promise<void> {
    for (const chunk of chunks(facts, CHUNK)) {
      const operations: OperationInput[] = chunk.map((fact) => ({ operationType: 'Upsert', resourceBody: fact as unknown as JSONObject }));
      const failed = (await this.facts.items.bulk(operations)).find((response) => response.statusCode >= 300);
      // Thrown with the status, as a single write would: a retry writes them all again, which changes nothing.
      if (failed) throw Object.assign(new Error(`writing facts failed with status ${failed.statusCode}`), { code: failed.statusCode });
    }
  }

  async setCountState(id: string, day: string, state: CountState): Promise<void> {
    const operations: PatchOperation[] = [];
    for (const field of ['countedAs', 'counting'] as const) {
      // `set` to null rather than `remove`: remove fails on a field that is not there.
      operations.push({ op: 'set', path: `/${field}`, value: state[field] ?? null });
    }
    await this.facts.item(id, day).patch(operations);
  }

  async applyOnce(key: AggregateKey, markerId: string, marker: string, done: readonly string[], deltas: Record<string, number>): Promise<boolean> {
    const id = aggregateId(key);
    const operations: PatchOperation[] = Object.entries(deltas).map(([counter, value]) => ({ op: 'incr', path: `/counts/${safe(counter)}`, value }));
    operations.push({ op: 'set', path: `/applied/${safe(markerId)}`, value: safe(marker) });
    const applied = `c.applied["${markerId}"]`;
    const condition = `FROM c WHERE NOT IS_DEFINED(${applied}) OR NOT (${applied} IN (${done.map((d) => `'${safe(d)}'`).join(', ')}))`;
    const patch = () => this.stats.item(id, id).patch({ operations, condition });
    try {
      await patch();
      return true;
    } catch (error) {
      if (isStatus(error, 412)) return false;
      if (!isStatus(error, 404)) throw error;
    }
    // The first counter of this aggregate: create it (a racing creator wins, which is as good), then patch.
    const empty = { id, ...key, counts: {}, applied: {} };
    await this.stats.items.create(empty).catch((error: unknown) => {
      if (!isStatus(error, 409)) throw error;
    });
    try {
      await patch();
      return true;
    } catch (error) {
      if (isStatus(error, 412)) return false;
      throw error;
    }
  }

  async clearMarker(key: AggregateKey, markerId: string, marker: string): Promise<void> {
    const id = aggregateId(key);
    try {
      await this.stats.item(id, id).patch({ operations: [{ op: 'remove', path: `/applied/${safe(markerId)}` }], condition: `FROM c WHERE c.applied["${markerId}"] = '${safe(marker)}'` });
    } catch (error) {
      if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
    }
  }

  async aggregates(filter: AggregateFilter): Promise<Aggregate[]> {
    const conditions = ['c.kind = @kind'];
    const parameters = [{ name: '@kind', value: filter.batchId ? 'batch' : 'day' }];
    for (const [condition, name, value] of [
      ['c.batchId = @batchId', '@batchId', filter.batchId],
      ['c.day >= @from', '@from', filter.from],
      ['c.day < @to', '@to', filter.to],
    ] as const) {
      if (value === undefined) continue;
      conditions.push(condition);
      parameters.push({ name, value });
    }
    const { resources } = await this.stats.items
      .query<Aggregate>({ query: `SELECT c.kind, c.day, c.batchId, c.counts FROM c WHERE ${conditions.join(' AND ')}`, parameters })
      .fetchAll();
    return resources;
  }

  async changedDays(since: number): Promise<Array<{ day: string; changed: number }>> {
    const { resources } = await this.stats.items
      .query<{ day: string; _ts: number }>({
        query: "SELECT c.day, c._ts FROM c WHERE c.kind = 'day' AND c._ts >= @since",
        parameters: [{ name: '@since', value: since }],
      })
      .fetchAll();
    return resources.map(({ day, _ts }) => ({ day, changed: _ts }));
  }

  async *factsOfDay(type: Fact['type'], day: string): AsyncIterable<StoredFact[]> {
    const iterator = this.facts.items.query<StoredFact>(
      { query: 'SELECT * FROM c WHERE c.day = @day AND c.type = @type', parameters: [{ name: '@day', value: day }, { name: '@type', value: type }] },
      { maxItemCount: 1000, partitionKey: day },
    );
    while (iterator.hasMoreResults()) {
      const { resources } = await iterator.fetchNext();
      if (resources.length) yield resources.map(withoutSystemProperties);
    }
  }

  async sharingAnyBand(bandSets: ReadonlyArray<readonly number[]>): Promise<StoredFact[]> {
    const found = new Map<string, StoredFact>();
    for (const chunk of chunks(bandSets, CHUNK)) {
      // Band values are integers (near-duplicates.ts hashBands), checked, so they are written into the query as numbers.
      const conditions = [0, 1, 2, 3, 4].flatMap((i) => {
        const values = [...new Set(chunk.map((bands) => bands[i]).filter((value) => value !== undefined))];
        if (values.some((value) => !Number.isInteger(value))) throw new Error('hash bands are integers');
        return values.length ? [`c.hashBand${i} IN (${values.join(', ')})`] : [];
      });
      if (!conditions.length) continue;
      const { resources } = await this.facts.items.query<StoredFact>(`SELECT * FROM c WHERE c.type = 'image' AND (${conditions.join(' OR ')})`).fetchAll();
      for (const resource of resources) found.set(`${resource.day}\u0000${resource.id}`, withoutSystemProperties(resource));
    }
    return [...found.values()];
  }

  async sharingBand(bands: readonly number[]): Promise<StoredFact[]> {
    const conditions = bands.map((_, i) => `c.hashBand${i} = @band${i}`);
    const { resources } = await this.facts.items
      .query<StoredFact>({
        query: `SELECT * FROM c WHERE c.type = 'image' AND (${conditions.join(' OR ')})`,
        parameters: bands.map((value, i) => ({ name: `@band${i}`, value })),
      })
      .fetchAll();
    return resources.map(withoutSystemProperties);
  }
}

/** Documents per bulk request or IN list: Cosmos DB's bulk takes 100 operations a request. */
const CHUNK = 100;

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}
