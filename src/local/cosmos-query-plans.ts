/*
 * The Cosmos stand-in (@vercel/cosmosdb-server) runs every query, and every conditional patch's filter predicate,
 * through @zeit/cosmosdb-query: a PEG parser (tens of milliseconds for a short query, hundreds for an IN list of a
 * few hundred values), a babel code generator, then the generated function over every document of the container.
 * Its own cache is keyed by the SQL text, so a text that carries values (a patch's filter predicate takes no
 * parameters: `c.source.sha256 = '<hash>'`; IN lists of item indexes; a marker's id in `c.applied["..."]`) is parsed
 * anew each time, and a patch's check (`c.id = @id AND (...)`) runs over the whole container, which the generated code
 * copies once per document (quadratic in the container's size). Per batch item that was most of the stand-in's CPU.
 *
 * Real Cosmos DB caches query plans and serves equality filters from its index. Here likewise, without changing an
 * answer: literals in value positions, and the values of simple IN lists, become parameters, so one parse serves
 * every value (plans cached by the parameterised text and the lists' lengths); and the documents a top-level
 * `alias.path = @parameter` conjunct must match are picked before the generated code runs (a document that fails such
 * a conjunct can never be in the result, and the order, the pages and their continuation tokens depend only on the
 * documents that match).
 */

/** The parts of @zeit/cosmosdb-query's Query the stand-in uses. It ships no types for its AST. */
interface Query {
  _query: string;
  _code: string | null;
  ast: Node & { body?: SelectQuery };
  readonly code: string;
  exec(collection: object[], options?: ExecOptions): unknown;
  containsPartitionKeys(paths: string[]): boolean;
}
interface ExecOptions {
  parameters?: Parameter[];
  [option: string]: unknown;
}
interface Parameter {
  name: string;
  value: unknown;
}
interface Node {
  type: string;
  [field: string]: unknown;
}
interface SelectQuery extends Node {
  from?: { source: { expression: Node; alias: { name: string } | null }; joins: unknown[] } | null;
  where?: { condition: Node } | null;
}

/** A conjunct `alias.a.b = @parameter` of the WHERE clause: every result has `parameter`'s value at `path`. */
interface Equality {
  path: string[];
  /** Without the `@`, as the generated code reads parameters. */
  parameter: string;
}

/** What the stand-in uses of a Query. */
type StandInQuery = Pick<Query, 'ast' | 'code' | 'exec' | 'containsPartitionKeys'>;

interface Plan {
  query: Query;
  equalities: Equality[];
}

/** An IN list's element: one of the query's own parameters, or a literal value. */
type ListElement = { parameter: string } | { value: string | number };

export interface ParameterisedText {
  text: string;
  /** The values of `@__standInLiteral0`, `...1`, ... in the text. */
  literals: Array<string | number>;
  /** The elements of each IN list the text now holds as `IN (@__standInList0)`, `...1`, ... */
  lists: ListElement[][];
}

/** Names of the parameters the text's values become; no query of ours names a parameter like them. */
const LITERAL_PARAMETER = '@__standInLiteral';
const LIST_PARAMETER = '@__standInList';
/** Plans (and parsed texts) kept: every query text the app sends, with room to spare; the oldest goes first. */
const MAX_PLANS = 1000;

const plans = new Map<string, Plan>();
const parsed = new Map<string, Query>();
let installed = false;

/**
 * Makes the stand-in's query module cache plans by parameterised text and pick documents by equality first. Call
 * before the stand-in serves a request; once per process is enough (later calls do nothing).
 */
export function cacheStandInQueryPlans(): void {
  if (installed) return;
  installed = true;
  // The stand-in calls the module's `default` at each use (compiled `(0, module.default)(sql)`), so replacing it reaches
  // every caller: collection queries, patch conditions and the query handler's partition-key check.
  const module = require('@zeit/cosmosdb-query') as { default: (sql: string) => StandInQuery };
  const parse = module.default as (sql: string) => Query;
  module.default = (sql) => planned(parse, sql);
}

const remember = <T>(cache: Map<string, T>, key: string, value: T): T => {
  if (cache.size >= MAX_PLANS) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
};

function planned(parse: (sql: string) => Query, sql: string): StandInQuery {
  const parameterised = parameteriseLiterals(sql);
  const { text, lists } = parameterised;
  const key = lists.length ? `${text}\u0000${lists.map((list) => list.length).join(',')}` : text;
  let plan = plans.get(key);
  if (!plan) {
    let query: Query | undefined;
    try {
      const base = parsed.get(text) ?? remember(parsed, text, parse(text));
      query = lists.length ? expandLists(base, lists) : base;
    } catch (error) {
      // Only the original text's own error is the answer (a parameter where the grammar wants a literal is ours).
      if (text === sql) throw error;
    }
    if (!query) return parse(sql);
    plan = remember(plans, key, { query, equalities: equalities(query.ast.body) });
  }
  return bind(plan, parameterised);
}

/**
 * A copy of `base` (parsed with each list as the one parameter `@__standInList<k>`) whose lists hold one parameter per
 * element, `@__standInList<k>_<j>`, as if the text had named them; undefined when a list is not where a plain
 * `value IN (...)` keeps it.
 */
function expandLists(base: Query, lists: ListElement[][]): Query | undefined {
  const ast = structuredClone(base.ast);
  let expanded = 0;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    const { type, list } = node as Node;
    if (type === 'scalar_in_expression' && Array.isArray(list) && list.length === 1 && (list[0] as Node).type === 'parameter_name') {
      const match = new RegExp(`^${LIST_PARAMETER}(\\d+)$`).exec((list[0] as Node).name as string);
      const elements = match && lists[Number(match[1])];
      if (elements) {
        (node as Node).list = elements.map((_, j) => ({ type: 'parameter_name', name: `${LIST_PARAMETER}${match[1]}_${j}` }));
        expanded++;
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(ast);
  if (expanded !== lists.length) return undefined;
  // Its code is generated from this AST on first use, as the module's Query does from the one it parses.
  return Object.assign(Object.create(Object.getPrototypeOf(base) as object) as Query, { _query: base._query, _code: null, ast });
}

/** The plan with this text's values bound to their parameters, in the shape of the stand-in's Query. */
function bind({ query, equalities }: Plan, { literals, lists }: ParameterisedText): StandInQuery {
  const values = literals.map((value, i) => ({ name: `${LITERAL_PARAMETER}${i}`, value }));
  return {
    ast: query.ast,
    get code() {
      return query.code;
    },
    containsPartitionKeys: (paths) => query.containsPartitionKeys(paths),
    exec(collection, options = {}) {
      const own = options.parameters ?? [];
      const elements = lists.flatMap((list, k) =>
        list.map((element, j) => ({ name: `${LIST_PARAMETER}${k}_${j}`, value: 'value' in element ? element.value : valueOf(own, element.parameter.slice(1)) })),
      );
      const parameters = [...own, ...values, ...elements];
      return query.exec(matching(collection, equalities, parameters), { ...options, parameters });
    },
  };
}

/** A parameter's value as the generated code reads it: by name without its first character, the last one winning. */
const valueOf = (parameters: Parameter[], name: string) => parameters.findLast((p) => p.name.slice(1) === name)?.value;

/**
 * The documents that can satisfy every equality: for a string, number or boolean value, the generated code's equality
 * (`equal` in @zeit/cosmosdb-query's helpers) holds exactly when the document's value is `===` to it.
 */
function matching(collection: object[], equalities: Equality[], parameters: Parameter[]): object[] {
  let documents = collection;
  for (const { path, parameter } of equalities) {
    const value = valueOf(parameters, parameter);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    documents = documents.filter((document) => valueAt(document, path) === value);
  }
  return documents;
}

/** As the generated code reads a property path: undefined once a step is not an object. */
function valueAt(document: unknown, path: string[]): unknown {
  let value = document;
  for (const key of path) value = typeof value === 'object' && value ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** The WHERE clause's top-level `alias.path = @parameter` conjuncts, for a plain `FROM <container> [alias]` (no JOIN). */
function equalities(query: SelectQuery | undefined): Equality[] {
  const from = query?.from;
  const condition = query?.where?.condition;
  if (!from || from.joins.length || !condition) return [];
  const { expression, alias } = from.source;
  const container = expression.type === 'collection_expression' ? (expression.expression as Node) : undefined;
  if (container?.type !== 'identifier') return [];
  const root = alias?.name ?? (container.name as string);
  const conjuncts = (node: Node): Node[] => (node.type === 'scalar_binary_expression' && node.operator === 'AND' ? [...conjuncts(node.left as Node), ...conjuncts(node.right as Node)] : [node]);
  return conjuncts(condition).flatMap((node) => {
    if (node.type !== 'scalar_binary_expression' || node.operator !== '=') return [];
    const [left, right] = [node.left as Node, node.right as Node];
    const [member, parameter] = right.type === 'parameter_name' ? [left, right] : left.type === 'parameter_name' ? [right, left] : [];
    const path = member && propertyPath(member, root);
    return path?.length ? [{ path, parameter: (parameter!.name as string).slice(1) }] : [];
  });
}

/** `root.a.b` as ['a', 'b']; undefined for anything else (computed members, other roots). */
function propertyPath(node: Node, root: string): string[] | undefined {
  if (node.type === 'identifier') return node.name === root ? [] : undefined;
  if (node.type !== 'scalar_member_expression' || node.computed) return undefined;
  const property = node.property as Node;
  const object = propertyPath(node.object as Node, root);
  return object && property.type === 'identifier' ? [...object, property.name as string] : undefined;
}

const NUMBER = /^\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.$@])/;
const PARAMETER = /^@\w+/;
const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);

/** A string literal without escape sequences at `at` (a quote): its value and where it ends; undefined otherwise. */
function stringAt(sql: string, at: number): { value: string; end: number } | undefined {
  const quote = sql[at];
  if (quote !== "'" && quote !== '"') return undefined;
  let end = at + 1;
  while (end < sql.length && sql[end] !== quote && sql[end] !== '\\') end++;
  return sql[end] === quote ? { value: sql.slice(at + 1, end), end: end + 1 } : undefined;
}

/** A list `( element, ... )` of parameters, strings and numbers from `at` (spaces first): its elements and its end. */
function listAt(sql: string, at: number): { elements: ListElement[]; end: number } | undefined {
  let i = at;
  const skip = () => {
    while (isSpace(sql[i])) i++;
  };
  skip();
  if (sql[i] !== '(') return undefined;
  i++;
  const elements: ListElement[] = [];
  for (;;) {
    skip();
    const rest = sql.slice(i, i + 400);
    const string = stringAt(sql, i);
    const parameter = PARAMETER.exec(rest)?.[0];
    const number = NUMBER.exec(rest)?.[0];
    if (string) {
      elements.push({ value: string.value });
      i = string.end;
    } else if (parameter) {
      elements.push({ parameter });
      i += parameter.length;
    } else if (number) {
      elements.push({ value: Number(number) });
      i += number.length;
    } else {
      return undefined;
    }
    skip();
    if (sql[i] === ')') return { elements, end: i + 1 };
    if (sql[i] !== ',') return undefined;
    i++;
  }
}

/**
 * The text with its values as parameters: each string after `=`, `<`, `>` (or, after WHERE, `[`) and each number after
 * `=`, `<` or `>` becomes `@__standInLiteral<i>`, and each `IN (...)` of parameters, strings and numbers becomes
 * `IN (@__standInList<k>)`. Everywhere else (function arguments, object keys, property names in SELECT lists, whose
 * generated code needs a literal) text stays as it is, and so does a text with comments or escape sequences (it still
 * runs, from a plan of its own).
 */
export function parameteriseLiterals(sql: string): ParameterisedText {
  const unchanged = { text: sql, literals: [], lists: [] };
  if (sql.includes('--')) return unchanged;
  const literals: Array<string | number> = [];
  const lists: ListElement[][] = [];
  let text = '';
  // The last character outside literals that is not a space; whether a WHERE keyword came before.
  let previous = '';
  let where = false;
  const after = (chars: string) => previous !== '' && chars.includes(previous);
  for (let i = 0; i < sql.length; ) {
    const char = sql[i];
    if (char === "'" || char === '"') {
      const string = stringAt(sql, i);
      if (!string) return unchanged;
      let next = string.end;
      while (isSpace(sql[next])) next++;
      if ((after('=<>') || (where && after('['))) && sql[next] !== ':') {
        text += `${LITERAL_PARAMETER}${literals.length}`;
        literals.push(string.value);
      } else {
        text += sql.slice(i, string.end);
      }
      previous = char;
      i = string.end;
      continue;
    }
    const number = after('=<>') ? NUMBER.exec(sql.slice(i, i + 400))?.[0] : undefined;
    if (number) {
      text += `${LITERAL_PARAMETER}${literals.length}`;
      literals.push(Number(number));
      previous = '0';
      i += number.length;
      continue;
    }
    const list = /^in$/i.test(sql.slice(i, i + 2)) && (isSpace(sql[i - 1]) || sql[i - 1] === ')') ? listAt(sql, i + 2) : undefined;
    if (list) {
      text += `IN (${LIST_PARAMETER}${lists.length})`;
      lists.push(list.elements);
      previous = ')';
      i = list.end;
      continue;
    }
    if (/^where\b/i.test(sql.slice(i, i + 6)) && !/[\w.@$]/.test(sql[i - 1] ?? ' ')) where = true;
    if (!isSpace(char)) previous = char;
    text += char;
    i++;
  }
  return { text, literals, lists };
}
