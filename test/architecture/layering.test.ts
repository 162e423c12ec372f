import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The one direction of imports in src/lib (../shared/design/layering.md): a module may import its own folder and
 * any folder of a lower rank, never a peer folder or one above. services.ts composes adapters and may import
 * anything; below it, it may be imported only as a type.
 */
const RANKS: Record<string, number> = {
  api: 6,
  jobs: 6, // the maintenance timer's jobs
  backup: 6, // the operator's backup, verify, restore and prune (image-pipeline backup)
  orchestration: 5,
  privacy: 4.5, // de-identification of the domain's documents, for the sweep and anything else above
  batch: 4,
  processing: 4,
  analytics: 3.5, // facts, aggregates, exports: built from results/ and images/, recorded by processing/ and orchestration/
  limits: 4, // per-user upload limits and their counters
  results: 3,
  storage: 3,
  images: 2,
  auth: 2, // principals, roles, owner hash
  '.': 1, // base: config, problem, names, logger, hash, azure-credential
};

const LIB = resolve(__dirname, '../../src/lib');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports, with whether the import is type-only. */
function imports(source: string): Array<{ specifier: string; typeOnly: boolean }> {
  const found: Array<{ specifier: string; typeOnly: boolean }> = [];
  for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
    found.push({ specifier: match[3], typeOnly: Boolean(match[2]) });
  }
  for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1], typeOnly: false });
  for (const match of source.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1], typeOnly: false });
  return found;
}

const folderOf = (root: string, file: string) => {
  const rel = relative(root, file);
  return rel.includes('/') ? rel.split('/')[0] : '.';
};

function violations(root = LIB): string[] {
  const problems: string[] = [];
  for (const file of files(root)) {
    const from = folderOf(root, file);
    const name = relative(root, file);
    for (const { specifier, typeOnly } of imports(readFileSync(file, 'utf8'))) {
      if (specifier === '@azure/functions' || specifier.startsWith('@azure/functions/')) {
        problems.push(`${name} imports @azure/functions (src/lib must not depend on the Functions runtime)`);
        continue;
      }
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      const targetName = relative(root, target);
      if (targetName.startsWith('..')) {
        problems.push(`${name} imports ${specifier}, outside src/lib`);
        continue;
      }
      if (name === 'services.ts') continue;
      if (targetName.replace(/\.(js|ts)$/, '') === 'services') {
        if (!typeOnly) problems.push(`${name} imports services.ts as a value (only as a type)`);
        continue;
      }
      const to = folderOf(root, target);
      if (to === from) continue;
      if (!(from in RANKS) || !(to in RANKS)) {
        problems.push(`${name} -> ${targetName}: folder ${!(from in RANKS) ? from : to} has no rank in the layering test`);
        continue;
      }
      if (RANKS[to] >= RANKS[from]) problems.push(`${name} (${from}) imports ${targetName} (${to}): points up or sideways`);
    }
  }
  return problems;
}

describe('src/lib layering', () => {
  it('every import points down the layers, and nothing imports @azure/functions', () => {
    expect(violations()).toEqual([]);
  });

  it('reports an import that points up, one sideways, and @azure/functions', () => {
    const root = mkdtempSync(join(tmpdir(), 'layering-'));
    try {
      const write = (name: string, text: string) => {
        mkdirSync(dirname(join(root, name)), { recursive: true });
        writeFileSync(join(root, name), text);
      };
      write('processing/process.ts', "import { sha256 } from '../hash';\nexport const p = sha256;\n");
      write('hash.ts', 'export const sha256 = 1;\n');
      write('images/up.ts', "import { p } from '../processing/process';\nexport const up = p;\n");
      write('batch/sideways.ts', "import type { p } from '../processing/process';\nexport type S = typeof p;\n");
      write('api/runtime.ts', "import { app } from '@azure/functions';\nexport const a = app;\n");
      expect(violations(root)).toEqual([
        'api/runtime.ts imports @azure/functions (src/lib must not depend on the Functions runtime)',
        'batch/sideways.ts (batch) imports processing/process (processing): points up or sideways',
        'images/up.ts (images) imports processing/process (processing): points up or sideways',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
