import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { TABLES } from '../lib/analytics/export';
import { createServices } from '../lib/services';
import { SAVED_QUERIES } from './analytics-queries';
import type { CliIo } from './cli-io';
import { resolveConfig } from './connections';
import { dirExportTarget } from './dir-export-target';

const USAGE = `Usage: image-pipeline analytics [--dir <dir>] [--query "SQL" | --saved <name>] [--local-port <port>]

Opens DuckDB over the Parquet exports, with the views facts and batches (every day, Hive-partitioned).
Without --query or --saved it is interactive: type SQL ending in ";", ".saved" to list the saved queries,
".run <name>" to run one, ".quit" to leave.

  --dir <dir>           Exports in a folder (image-pipeline export --out <dir>); default: a copy of the analytics
                        container of the configured stores or the local host
  --query "SQL"         Run one query, print the result, exit
  --saved <name>        Run one saved query: ${Object.keys(SAVED_QUERIES).join(', ')}
  --local-port <port>   The local host to read from when no stores are configured (default 7071)

Needs @duckdb/node-api, a development dependency: run it from a clone after npm install.
`;

interface Result {
  columns: string[];
  rows: unknown[][];
}

type Run = (sql: string) => Promise<Result>;

/** A DuckDB session with the views over `dir`; DuckDB is loaded only here (it is not in the function app's package). */
async function openDuckDb(dir: string): Promise<{ run: Run; close(): void }> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch {
    throw new Error('DuckDB is not installed: run npm install in the repository (it installs @duckdb/node-api for development).');
  }
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const run: Run = async (sql) => {
    const reader = await connection.runAndReadAll(sql);
    // DuckDB's own values print as DuckDB shows them (dates as YYYY-MM-DD, decimals exactly).
    return { columns: reader.columnNames(), rows: reader.getRows() as unknown[][] };
  };
  for (const table of Object.values(TABLES)) {
    const files = join(dir, table, 'date=*', '*.parquet').replaceAll("'", "''");
    const found = existsSync(join(dir, table));
    // A table with no export yet is an empty view, so the saved queries still run.
    await run(
      found
        ? `CREATE VIEW ${table} AS SELECT * FROM read_parquet('${files}', hive_partitioning = true, union_by_name = true)`
        : `CREATE VIEW ${table} AS SELECT * FROM (SELECT NULL::DATE AS day, NULL::VARCHAR AS status, NULL::VARCHAR AS format, NULL::DOUBLE AS processing_ms, NULL::BIGINT AS bytes, NULL::DOUBLE AS megapixels, NULL::VARCHAR AS duplicate_of, NULL::VARCHAR AS duplicate_group, NULL::VARCHAR AS failure_category) WHERE false`,
    );
  }
  return { run, close: () => connection.closeSync() };
}

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** A result as an aligned text table. */
export function formatTable({ columns, rows }: Result): string {
  const cells = rows.map((row) => row.map(text));
  const widths = columns.map((name, i) => Math.max(name.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}

/** Copies the exported Parquet files of the configured stores (or the local host) into a temporary folder for DuckDB. */
async function downloadExports(env: NodeJS.ProcessEnv, localPort: number, io: CliIo): Promise<string> {
  const { config, source } = resolveConfig(env, localPort);
  const { exports } = await createServices(config);
  const dir = mkdtempSync(join(tmpdir(), 'image-pipeline-analytics-'));
  const copy = dirExportTarget(dir);
  let files = 0;
  for (const table of Object.values(TABLES)) {
    for await (const path of exports.list(`${table}/`)) {
      const bytes = await exports.read(path);
      if (!bytes) continue;
      await copy.write(path, bytes);
      files++;
    }
  }
  io.err(`Read ${files} file(s) from ${exports.describe} of ${source}.\n`);
  return dir;
}

async function interactive(run: Run, io: CliIo): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  io.err(`Views: ${Object.values(TABLES).join(', ')}. SQL ends with ";". .saved lists the saved queries, .run <name> runs one, .quit leaves.\n`);
  let buffer = '';
  rl.setPrompt(buffer ? '   ...> ' : 'analytics> ');
  rl.prompt();
  for await (const line of rl) {
    const command = line.trim();
    try {
      if (!buffer && command === '.quit') break;
      if (!buffer && command === '.saved') io.out(Object.entries(SAVED_QUERIES).map(([name, q]) => `${name.padEnd(24)} ${q.title}\n`).join(''));
      else if (!buffer && command.startsWith('.run ')) io.out(formatTable(await run(savedSql(command.slice(5).trim()))));
      else if (command) {
        buffer += `${line}\n`;
        if (command.endsWith(';')) {
          const sql = buffer;
          buffer = '';
          io.out(formatTable(await run(sql)));
        }
      }
    } catch (error) {
      buffer = '';
      io.err(`${(error as Error).message}\n`);
    }
    rl.setPrompt(buffer ? '   ...> ' : 'analytics> ');
    rl.prompt();
  }
  rl.close();
}

function savedSql(name: string): string {
  const saved = SAVED_QUERIES[name];
  if (!saved) throw new Error(`No saved query "${name}"; there are ${Object.keys(SAVED_QUERIES).join(', ')}.`);
  return saved.sql;
}

export async function runAnalyticsCommand(argv: string[], io: CliIo, env = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      query: { type: 'string' },
      saved: { type: 'string' },
      'local-port': { type: 'string', default: '7071' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  if (values.query && values.saved) throw new Error('Give --query or --saved, not both.');
  const sql = values.saved ? savedSql(values.saved) : values.query;
  const dir = values.dir ? resolve(values.dir) : await downloadExports(env, Number(values['local-port']), io);
  try {
    const duckdb = await openDuckDb(dir);
    try {
      if (sql) io.out(formatTable(await duckdb.run(sql)));
      else await interactive(duckdb.run, io);
    } finally {
      duckdb.close();
    }
  } finally {
    if (!values.dir) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
