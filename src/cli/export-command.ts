import { parseArgs } from 'node:util';
import { daysBetween, exportChanged, exportDays } from '../lib/analytics/export';
import { createServices } from '../lib/services';
import type { CliIo } from './cli-io';
import { resolveConfig } from './connections';
import { dirExportTarget } from './dir-export-target';

const USAGE = `Usage: image-pipeline export [--from <day>] [--to <day>] [--out <dir>] [--local-port <port>]

Writes the analytics facts as Hive-partitioned Parquet: facts/date=YYYY-MM-DD/part-0.parquet and
batches/date=YYYY-MM-DD/part-0.parquet. Rewriting a day replaces it. Without --from and --to: every day that
changed since the last export to the same place (what the daily job does).

  --from <day>          First UTC day (YYYY-MM-DD); --to alone means that one day
  --to <day>            Last UTC day, included; --from alone means that one day
  --out <dir>           A local folder instead of the analytics container
  --local-port <port>   The local host whose stores to read when no AzureWebJobsStorage and COSMOS_CONNECTION
                        are set (default 7071)
`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function runExportCommand(argv: string[], io: CliIo, env = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      'local-port': { type: 'string', default: '7071' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  for (const name of ['from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined && (!DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))) throw new Error(`--${name} must be a day, YYYY-MM-DD; got "${value}".`);
  }
  const from = values.from ?? values.to;
  const to = values.to ?? values.from;
  if (from && to && from > to) throw new Error(`--from (${from}) must not be after --to (${to}).`);
  const { config, source } = resolveConfig(env, Number(values['local-port']));
  const services = await createServices(config);
  const target = values.out ? dirExportTarget(values.out) : services.exports;
  io.out(`Exporting from ${source} to ${target.describe}\n`);
  const done = from && to ? await exportDays(services.analytics, target, daysBetween(from, to)) : await exportChanged(services.analytics, target);
  for (const day of done) io.out(`${day.day}: ${day.facts} images, ${day.batches} batches\n`);
  io.out(done.length ? `Exported ${done.length} day(s).\n` : 'Nothing changed since the last export.\n');
  return 0;
}
