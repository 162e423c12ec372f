// Bicep parsing for the infrastructure tests: a real Bicep grammar (tree-sitter-bicep, compiled to WebAssembly and
// run by web-tree-sitter), so the checks need no Bicep CLI. Also a small evaluator for literal values and the few
// ways the templates pass them around (variables, parameter defaults, module parameters).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export type { Node };

/** The repository root: the nearest folder upward from the working directory with package.json and infra/. */
function findRepoRoot(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'infra'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root (package.json + infra/) above ${start}`);
  }
}

export const repoRoot = findRepoRoot(process.cwd());
export const infraDir = path.join(repoRoot, 'infra');
export const bicepDir = path.join(infraDir, 'bicep');

let parserPromise: Promise<Parser> | undefined;

export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const require = createRequire(path.join(repoRoot, 'package.json'));
    const grammarDir = path.dirname(require.resolve('tree-sitter-bicep/package.json'));
    const language = await Language.load(path.join(grammarDir, 'tree-sitter-bicep.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

/** Every ERROR and MISSING node of a parse tree, as `file:line:column: ...` (1-based). */
export function syntaxProblems(root: Node, file: string): string[] {
  const problems: string[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      const where = `${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      problems.push(
        node.isMissing
          ? `${where}: missing ${node.type}`
          : `${where}: syntax error near ${JSON.stringify(node.text.slice(0, 60))}`,
      );
    }
    // A subtree without errors has none below it either.
    if (node.hasError) for (const child of node.children) if (child) visit(child);
  };
  visit(root);
  if (root.hasError && problems.length === 0) problems.push(`${file}:1:1: parse error`);
  return problems;
}

export function listBicepFiles(dir: string = infraDir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listBicepFiles(full));
    else if (entry.name.endsWith('.bicep')) files.push(full);
  }
  return files.sort();
}

export interface BicepFile {
  path: string;
  relative: string;
  root: Node;
}

export async function parseBicepFile(file: string): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(readFileSync(file, 'utf8'));
  if (!tree) throw new Error(`tree-sitter returned no tree for ${file}`);
  return { path: file, relative: path.relative(repoRoot, file), root: tree.rootNode };
}

const named = (node: Node): Node[] => node.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');

/** Top-level declarations of one kind: parameter_declaration, variable_declaration, resource_declaration, ... */
export function declarations(file: BicepFile, type: string): Node[] {
  return named(file.root).filter((n) => n.type === type);
}

export function declarationName(decl: Node): string {
  const id = named(decl).find((c) => c.type === 'identifier');
  if (!id) throw new Error(`declaration without a name: ${decl.text.slice(0, 80)}`);
  return id.text;
}

export function findDeclaration(file: BicepFile, type: string, name: string): Node | undefined {
  return declarations(file, type).find((d) => declarationName(d) === name);
}

/** The type string of a resource (`Microsoft.Web/sites@2024-04-01`) or the path of a module. */
export function declaredTypeOrPath(decl: Node): string {
  const s = named(decl).find((c) => c.type === 'string');
  if (!s) throw new Error(`declaration without a type or path: ${decl.text.slice(0, 80)}`);
  return unquote(s);
}

export function isExisting(decl: Node): boolean {
  return decl.children.some((c) => c?.type === 'existing');
}

/** The body object of a resource/module, looking through `if (...)` and `[for ...: ...]`. */
export function declarationBody(decl: Node): Node {
  let value = named(decl).at(-1);
  while (value && value.type !== 'object') {
    if (value.type === 'for_statement') value = value.childForFieldName('body') ?? named(value).at(-1);
    else if (value.type === 'if_statement') value = named(value).at(-1);
    else break;
  }
  if (!value || value.type !== 'object') throw new Error(`no object body in ${decl.text.slice(0, 80)}`);
  return value;
}

/** The loop source expression of `[for x in SOURCE: ...]`, if the declaration is a loop. */
export function loopSource(decl: Node): Node | undefined {
  const loop = named(decl).find((c) => c.type === 'for_statement');
  if (!loop) return undefined;
  const parts = named(loop);
  const body = loop.childForFieldName('body') ?? parts.at(-1);
  return parts.filter((p) => p.id !== body?.id).at(-1);
}

export function objectKey(prop: Node): string | undefined {
  const key = named(prop)[0];
  if (!key) return undefined;
  if (key.type === 'identifier') return key.text;
  if (key.type === 'string' && !named(key).some((c) => c.type === 'interpolation')) return unquote(key);
  return undefined;
}

export function objectProperties(obj: Node): Array<{ key: string | undefined; value: Node; node: Node }> {
  if (obj.type !== 'object') throw new Error(`not an object literal: ${obj.text.slice(0, 80)}`);
  return named(obj)
    .filter((c) => c.type === 'object_property')
    .map((p) => ({ key: objectKey(p), value: named(p).at(-1)!, node: p }));
}

export function property(obj: Node, key: string): Node | undefined {
  return objectProperties(obj).find((p) => p.key === key)?.value;
}

/** Follows a dotted path of object properties: property(obj, 'properties', 'policy', 'rules'). */
export function propertyPath(obj: Node, ...keys: string[]): Node | undefined {
  let current: Node | undefined = obj;
  for (const key of keys) {
    if (!current || current.type !== 'object') return undefined;
    current = property(current, key);
  }
  return current;
}

export function unquote(stringNode: Node): string {
  const text = stringNode.text;
  if (text.startsWith("'''")) return text.slice(3, -3);
  return text
    .slice(1, -1)
    .replace(/\\(['\\$nrt])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

/** Arguments of the decorator `@name(...)` placed on a declaration, or undefined. */
export function decoratorArguments(decl: Node, name: string): Node[] | undefined {
  let previous = decl.previousNamedSibling;
  while (previous?.type === 'comment') previous = previous.previousNamedSibling;
  if (previous?.type !== 'decorators') return undefined;
  for (const decorator of named(previous)) {
    const call = named(decorator)[0];
    if (call?.type !== 'call_expression') continue;
    if (call.childForFieldName('function')?.text !== name) continue;
    const args = call.childForFieldName('arguments') ?? named(call).at(-1);
    return args ? named(args) : [];
  }
  return undefined;
}

export const UNKNOWN = Symbol('not a literal');
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value } | typeof UNKNOWN;

/** How an identifier found while evaluating is turned into a value (variables, parameters, ...). */
export type Resolver = (identifier: string) => Value;

/** Evaluates literals (strings without interpolation, numbers, booleans, arrays, objects) and resolved identifiers. */
export function evaluate(node: Node | undefined, resolve: Resolver = () => UNKNOWN): Value {
  if (!node) return UNKNOWN;
  switch (node.type) {
    case 'string':
      return named(node).some((c) => c.type === 'interpolation') ? UNKNOWN : unquote(node);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return named(node).map((c) => evaluate(c, resolve));
    case 'object': {
      const result: { [key: string]: Value } = {};
      for (const p of objectProperties(node)) if (p.key !== undefined) result[p.key] = evaluate(p.value, resolve);
      return result;
    }
    case 'parenthesized_expression':
      return evaluate(named(node)[0], resolve);
    case 'unary_expression': {
      const inner = evaluate(named(node)[0], resolve);
      if (node.text.trim().startsWith('-') && typeof inner === 'number') return -inner;
      if (node.text.trim().startsWith('!') && typeof inner === 'boolean') return !inner;
      return UNKNOWN;
    }
    case 'identifier':
      return resolve(node.text);
    case 'ternary_expression': {
      const condition = evaluate(node.childForFieldName('condition') ?? undefined, resolve);
      if (typeof condition !== 'boolean') return UNKNOWN;
      return evaluate(node.childForFieldName(condition ? 'consequence' : 'alternative') ?? undefined, resolve);
    }
    case 'binary_expression': {
      const left = evaluate(node.childForFieldName('left') ?? undefined, resolve);
      const right = evaluate(node.childForFieldName('right') ?? undefined, resolve);
      const operator = node.childForFieldName('operator')?.text ?? node.children.find((c) => c && !c.isNamed)?.text;
      if (left === UNKNOWN || right === UNKNOWN || typeof left === 'object' || typeof right === 'object') return UNKNOWN;
      if (typeof left === 'number' && typeof right === 'number' && (operator === '+' || operator === '-' || operator === '*')) {
        return operator === '+' ? left + right : operator === '-' ? left - right : left * right;
      }
      switch (operator) {
        case '==':
          return left === right;
        case '!=':
          return left !== right;
        case '>':
          return left! > right!;
        case '>=':
          return left! >= right!;
        case '<':
          return left! < right!;
        case '<=':
          return left! <= right!;
        case '&&':
          return typeof left === 'boolean' && typeof right === 'boolean' ? left && right : UNKNOWN;
        case '||':
          return typeof left === 'boolean' && typeof right === 'boolean' ? left || right : UNKNOWN;
        default:
          return UNKNOWN;
      }
    }
    default: {
      const n = Number(node.text);
      return node.text.trim() !== '' && Number.isFinite(n) ? n : UNKNOWN;
    }
  }
}

/**
 * A resolver for one file: variables are evaluated, parameters take the value that `callers` pass (a module
 * parameter set by the calling template), else their default.
 */
export function fileResolver(file: BicepFile, callerArgs?: (param: string) => Value): Resolver {
  const resolve: Resolver = (name) => {
    const variable = findDeclaration(file, 'variable_declaration', name);
    if (variable) return evaluate(named(variable).at(-1), resolve);
    const param = findDeclaration(file, 'parameter_declaration', name);
    if (param) {
      const passed = callerArgs?.(name);
      if (passed !== undefined && passed !== UNKNOWN) return passed;
      const parts = named(param);
      const hasDefault = parts.length >= 3; // name, type, default
      return hasDefault ? evaluate(parts.at(-1), resolve) : UNKNOWN;
    }
    return UNKNOWN;
  };
  return resolve;
}

/** Resolver for a module file, with the parameters main.bicep passes to it (evaluated in main.bicep). */
export function moduleResolver(main: BicepFile, moduleFile: BicepFile): Resolver {
  const relativePath = path.relative(path.dirname(main.path), moduleFile.path).split(path.sep).join('/');
  const moduleDecl = declarations(main, 'module_declaration').find((m) => declaredTypeOrPath(m) === relativePath);
  const mainResolve = fileResolver(main);
  const params = moduleDecl ? property(declarationBody(moduleDecl), 'params') : undefined;
  return fileResolver(moduleFile, (name) => (params ? evaluate(property(params, name), mainResolve) : UNKNOWN));
}
