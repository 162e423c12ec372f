import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { cacheStandInQueryPlans, parameteriseLiterals } from '../../src/local/cosmos-query-plans';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';

type Parameters = Array<{ name: string; value: unknown }>;
interface StandInQuery {
  exec(collection: object[], options?: { parameters?: Parameters; maxItemCount?: number; continuation?: { token: string } }): { result: unknown[]; continuation: { token: string } | null };
}
type Doc = { id: string; _rid: string; pk: string; type: string; status: string; n: number; tags: string[]; applied?: Record<string, string> };

const queryModule = require('@zeit/cosmosdb-query') as { default: (sql: string) => StandInQuery };
/** The stand-in's own query module, parsing and running exactly the text it is given (taken before plans are cached). */
const uncached = queryModule.default;
cacheStandInQueryPlans();
const planned = (sql: string) => queryModule.default(sql);

const docs: Doc[] = Array.from({ length: 60 }, (_, i) => ({
  id: `item-${i}`,
  _rid: `rid${String(i).padStart(4, '0')}`,
  pk: `batch-${i % 3}`,
  type: i % 5 === 0 ? 'rejected' : 'item',
  status: ['queued', 'succeeded', 'failed'][i % 4 === 0 ? 0 : (i % 2) + 1],
  n: i,
  tags: i % 2 ? ['odd'] : ['even'],
  ...(i % 7 === 0 ? { applied: { 'g.1': `marker-${i}` } } : {}),
}));

/** Every page of a query, as the SDK would fetch them with continuation tokens. */
function allPages(query: StandInQuery, parameters: Parameters, maxItemCount?: number): unknown[][] {
  const pages: unknown[][] = [];
  let continuation: { token: string } | undefined;
  do {
    const { result, continuation: next } = query.exec(docs, { parameters, maxItemCount, continuation });
    pages.push(result);
    continuation = next ?? undefined;
  } while (continuation);
  return pages;
}

describe('the Cosmos stand-in query plans', () => {
  it('turns literals in value positions and simple IN lists into parameters, and leaves the rest of the text as it is', () => {
    expect(parameteriseLiterals("SELECT * FROM c WHERE c.id = @id AND (c.status = 'queued' AND c.source.sha256 = 'ab12')")).toEqual({
      text: 'SELECT * FROM c WHERE c.id = @id AND (c.status = @__standInLiteral0 AND c.source.sha256 = @__standInLiteral1)',
      literals: ['queued', 'ab12'],
      lists: [],
    });
    expect(parameteriseLiterals('SELECT VALUE COUNT(1) FROM c WHERE c.n >= 0 AND c.n < 10.5 AND c.x IN (3, "a", @p)')).toEqual({
      text: 'SELECT VALUE COUNT(1) FROM c WHERE c.n >= @__standInLiteral0 AND c.n < @__standInLiteral1 AND c.x IN (@__standInList0)',
      literals: [0, 10.5],
      lists: [[{ value: 3 }, { value: 'a' }, { parameter: '@p' }]],
    });
    expect(parameteriseLiterals(`SELECT * FROM c WHERE NOT (c.applied["g.1"] in ('m'))`).text).toBe('SELECT * FROM c WHERE NOT (c.applied[@__standInLiteral0] IN (@__standInList0))');
    // Not values: function arguments, object keys, TOP, identifiers with digits, JOIN ... IN, negative numbers.
    for (const sql of [
      "SELECT TOP 5 {\"a\": c.hashBand0} FROM c JOIN t IN c.tags WHERE STARTSWITH(c.id, 'item') AND c.n = -1",
      "SELECT * FROM c WHERE c.a = 'it\\'s'", // an escape sequence: left as it is
      "SELECT * FROM c WHERE c.a = 'x' -- a comment",
    ]) {
      expect(parameteriseLiterals(sql)).toEqual({ text: sql, literals: [], lists: [] });
    }
  });

  // Expected results come from plain JavaScript over the same documents, not from the stand-in.
  const cases: Array<{ sql: string; parameters: Parameters; expected: (d: Doc) => boolean; maxItemCount?: number }> = [
    { sql: "SELECT * FROM c WHERE c.id = @id AND (c.status = 'queued')", parameters: [{ name: '@id', value: 'item-8' }], expected: (d) => d.id === 'item-8' && d.status === 'queued' },
    { sql: "SELECT * FROM c WHERE c.id = @id AND (c.status = 'queued')", parameters: [{ name: '@id', value: 'item-9' }], expected: () => false },
    { sql: "SELECT * FROM c WHERE c.id = @id AND (c.status = 'succeeded')", parameters: [{ name: '@id', value: 'item-10' }], expected: (d) => d.id === 'item-10' },
    { sql: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'item' AND c.n IN (1, 2, 4, 5, 7, 40)", parameters: [{ name: '@pk', value: 'batch-1' }], expected: (d) => d.pk === 'batch-1' && d.type === 'item' && [1, 2, 4, 5, 7, 40].includes(d.n) },
    { sql: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'item' AND c.n IN (10, 13, 16)", parameters: [{ name: '@pk', value: 'batch-1' }], expected: (d) => d.pk === 'batch-1' && d.type === 'item' && [10, 13, 16].includes(d.n) },
    { sql: "SELECT * FROM c WHERE c.pk = @pk AND NOT (c.n IN (1, 4))", parameters: [{ name: '@pk', value: 'batch-1' }], expected: (d) => d.pk === 'batch-1' && ![1, 4].includes(d.n) },
    { sql: 'SELECT * FROM c WHERE c.id IN (@a, @b, @c)', parameters: [{ name: '@a', value: 'item-3' }, { name: '@c', value: 'item-50' }], expected: (d) => ['item-3', 'item-50'].includes(d.id) },
    { sql: 'SELECT * FROM c WHERE c.pk = @pk ORDER BY c.n DESC', parameters: [{ name: '@pk', value: 'batch-2' }], expected: (d) => d.pk === 'batch-2', maxItemCount: 4 },
    { sql: "SELECT * FROM c WHERE c.n >= 30 AND c.status = 'failed'", parameters: [], expected: (d) => d.n >= 30 && d.status === 'failed', maxItemCount: 3 },
    { sql: `SELECT * FROM c WHERE c.id = @id AND (c.applied["g.1"] = 'marker-14')`, parameters: [{ name: '@id', value: 'item-14' }], expected: (d) => d.id === 'item-14' },
    { sql: `SELECT * FROM c WHERE c.id = @id AND (NOT IS_DEFINED(c.applied["g.1"]) OR NOT (c.applied["g.1"] IN ('marker-14')))`, parameters: [{ name: '@id', value: 'item-14' }], expected: () => false },
    { sql: `SELECT * FROM c WHERE c.id = @id AND (NOT IS_DEFINED(c.applied["g.1"]) OR NOT (c.applied["g.1"] IN ('marker-1')))`, parameters: [{ name: '@id', value: 'item-14' }], expected: (d) => d.id === 'item-14' },
    { sql: 'SELECT * FROM c WHERE c.n = @n', parameters: [{ name: '@n', value: '5' }], expected: () => false },
    { sql: 'SELECT * FROM c WHERE c.n = @n AND c.pk = @pk', parameters: [{ name: '@n', value: 5 }], expected: () => false },
  ];

  it.each(cases.map((c, i) => [i, c] as const))('case %i: the same results and pages as the stand-in parsing the text itself, and as expected', (_, { sql, parameters, expected, maxItemCount }) => {
    const pages = allPages(planned(sql), parameters, maxItemCount);
    expect(pages).toEqual(allPages(uncached(sql), parameters, maxItemCount));
    expect(new Set(pages.flat().map((d) => (d as Doc).id))).toEqual(new Set(docs.filter(expected).map((d) => d.id)));
  });

  it('answers aggregates, JOINs and bracketed property names as the stand-in does', () => {
    for (const [sql, parameters] of [
      ['SELECT c["n"], c.id FROM c WHERE c["pk"] = "batch-1" AND c["status"] IN ("failed")', []],
      ["SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk AND c.type = 'item' AND c.n >= 0 AND c.n < @count", [{ name: '@pk', value: 'batch-0' }, { name: '@count', value: 30 }]],
      ["SELECT c.id FROM c JOIN t IN c.tags WHERE t = 'odd' AND c.pk = @pk", [{ name: '@pk', value: 'batch-2' }]],
    ] as Array<[string, Parameters]>) {
      const result = planned(sql).exec(docs, { parameters }).result;
      expect(result).toEqual(uncached(sql).exec(docs, { parameters }).result);
      expect(result.length).toBeGreaterThan(0);
    }
  });

  it("keeps the stand-in's own answer to a text it cannot parse, even where its parameterised form would parse", () => {
    expect(uncached('SELECT * FROM c').constructor.name).toBe('Query');
    for (const sql of ["SELECT * FROM c WHERE c.a = 'a''b'", 'SELECT * FROM c WHERE c.n NOT IN (1, 4)']) {
      expect(() => uncached(sql)).toThrow(/Expected/);
      expect(() => planned(sql)).toThrow(/Expected/);
    }
  });

  describe('through the stand-in and the SDK', () => {
    let standIn: CosmosStandIn;
    let container: Container;
    beforeAll(async () => {
      standIn = await startCosmosStandIn();
      const client = cosmosClient({ kind: 'connectionString', value: standIn.connectionString });
      const { database } = await client.databases.createIfNotExists({ id: `plans-${randomUUID()}` });
      ({ container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } }));
      for (const pk of ['a', 'b']) for (let i = 0; i < 20; i++) await container.items.create({ id: `i${i}`, pk, status: 'queued', sha: `${pk}${i}` });
    });
    afterAll(() => standIn?.stop());

    it('applies a conditional patch whose predicate carries a literal only to the document it names, when the predicate holds', async () => {
      const patch = (pk: string, id: string, sha: string) =>
        container
          .item(id, pk)
          .patch({ operations: [{ op: 'set', path: '/status', value: 'done' }], condition: `FROM c WHERE c.status = 'queued' AND c.sha = '${sha}'` })
          .then(({ statusCode }) => statusCode, (error: { code: number }) => error.code);
      expect(await patch('a', 'i1', 'a1')).toBe(200);
      expect(await patch('a', 'i1', 'a1')).toBe(412); // no longer queued
      expect(await patch('a', 'i2', 'a3')).toBe(412); // another document's value
      expect(await patch('a', 'i3', 'b3')).toBe(412); // the value of the document with the same id in another partition
      expect(await patch('b', 'i2', 'b2')).toBe(200); // the same predicate with another value: the cached plan, bound anew
      const { resources } = await container.items.query<{ pk: string; id: string }>({ query: "SELECT c.pk, c.id FROM c WHERE c.status = 'done'" }).fetchAll();
      expect(resources.map(({ pk, id }) => `${pk}/${id}`).sort()).toEqual(['a/i1', 'b/i2']);
    });

    it('answers IN lists of every length with the same plan text', async () => {
      for (const indexes of [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10, 11]]) {
        const { resources } = await container.items
          .query<{ id: string }>({ query: `SELECT c.id FROM c WHERE c.pk = @pk AND c.id IN (${indexes.map((i) => `'i${i}'`).join(', ')})`, parameters: [{ name: '@pk', value: 'b' }] })
          .fetchAll();
        expect(resources.map(({ id }) => id).sort()).toEqual(indexes.map((i) => `i${i}`).sort());
      }
    });
  });
});
