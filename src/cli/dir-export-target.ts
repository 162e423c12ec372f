import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ExportTarget } from '../lib/analytics/export';

/** `export --out <dir>`: the same layout in a folder; each file written aside and renamed, so it is replaced whole. */
export function dirExportTarget(dir: string): ExportTarget {
  const root = resolve(dir);
  return {
    describe: root,
    async write(path, bytes) {
      const file = join(root, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, bytes);
      renameSync(`${file}.tmp`, file);
    },
    async *list(prefix) {
      let entries: string[] = [];
      try {
        entries = readdirSync(root, { recursive: true, encoding: 'utf8' });
      } catch {
        return;
      }
      const paths = entries.map((entry) => relative(root, join(root, entry)).split(sep).join('/'));
      yield* paths.filter((path) => path.startsWith(prefix) && !path.endsWith('.tmp') && path.includes('.')).sort();
    },
    async read(path) {
      try {
        return readFileSync(join(root, path));
      } catch {
        return undefined;
      }
    },
  };
}
