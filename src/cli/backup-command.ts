import { parseArgs } from 'node:util';
import { isHealthy, verifyBackups, type VerifyReport } from '../lib/backup/chain';
import { runBackup } from '../lib/backup/export';
import { isoOf, readManifests } from '../lib/backup/manifest';
import { openTarget } from '../lib/backup/open-target';
import { pruneBackups } from '../lib/backup/prune';
import type { BackupTarget } from '../lib/backup/target';
import { loadConfig } from '../lib/config';
import { errorMessage } from '../lib/retry';
import type { CliIo } from './cli-io';
import { APP_CONTAINERS, documentStoreFor, localPortOf } from './backup-stores';

const USAGE = `Usage: image-pipeline backup --to <folder | blob container URL> [options]
       image-pipeline backup verify <folder | blob container URL>
       image-pipeline backup prune <folder | blob container URL> [--as-of <time>]

backup: exports every Cosmos DB container of the app (${APP_CONTAINERS.map((c) => c.id).join(', ')}, and any added later) into
cold storage. The first run exports everything; each later run what changed since the last one (incremental by
_ts). Files are gzip NDJSON with a manifest per backup (counts, sha256 per file, time range, schema version). An
interrupted backup is resumed by the next run; throttling (429) is waited out. The stores are the app settings in
the environment (AzureWebJobsStorage and COSMOS_CONNECTION, identity-based with az login in Azure), else the local
host running on --local-port.

  --to <destination>       A folder, or https://<account>.blob.core.windows.net/<container> (Entra identity: Storage
                           Blob Data Contributor), or any container URL with a SAS token
  --full                   Export everything, starting a new chain
  --prune                  Then prune the destination (below)
  --settle-seconds <n>     Leave versions changed in the last n seconds to the next backup (default 10)
  --local-port <port>      The local host to back up when no stores are configured (default 7071)

verify: checks every file against its manifest (present, sha256, gzip, documents, time range) and that the backups
form a chain a restore can read; exits 1 on any problem.

prune: removes every document version that may hold personal data older than RETENTION_DAYS (default 7) from the
backups, and folds backups older than that into one base holding each document's latest version, so documents that
never changed since stay in the archive. Run it with every backup (--prune).
  --as-of <time>           Prune as at this ISO 8601 time (default now)
`;

export async function runBackupCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verifyCommand(rest, io);
  if (sub === 'prune') return pruneCommand(rest, io);
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      full: { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      'settle-seconds': { type: 'string', default: '10' },
      'local-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  if (!values.to) {
    io.err(`image-pipeline backup: give --to <folder | blob container URL>.\n\n${USAGE}`);
    return 2;
  }
  const settleSeconds = Number(values['settle-seconds']);
  if (!Number.isInteger(settleSeconds) || settleSeconds < 1) throw new Error(`--settle-seconds must be a whole number of seconds, at least 1; got "${values['settle-seconds']}".`);
  const { store, config, source, endpoint } = documentStoreFor(process.env, localPortOf(values['local-port']));
  const target = await openTarget(values.to);
  io.out(`image-pipeline backup: ${source}, database ${config.cosmosDatabase}, into ${target.location}\n`);
  let code = 0;
  try {
    const result = await runBackup({
      store,
      target,
      containers: APP_CONTAINERS,
      database: config.cosmosDatabase,
      source: endpoint,
      retentionDays: config.retentionDays,
      full: values.full,
      settleSeconds,
      log: (line) => io.out(`${line}\n`),
      backoff: { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), attempts: 12, onWait: (ms, error) => io.out(`Cosmos DB is busy (${errorMessage(error).split('\n')[0]}); waiting ${(ms / 1000).toFixed(1)} s\n`) },
    });
    io.out(
      result.upToDate
        ? `nothing to back up yet: ${result.id} reaches ${isoOf(result.untilTs)}, and changes of the last ${settleSeconds} s wait for the next run\n`
        : `backup ${result.id} complete${result.resumed ? ' (resumed)' : ''}: ${result.documents} documents; recovery point ${isoOf(result.untilTs)}\n`,
    );
  } catch (error) {
    io.err(`image-pipeline backup: interrupted: ${errorMessage(error)}\nWhat was saved is kept: run the same command again to resume.\n`);
    code = 1;
  }
  if (values.prune) return (await prune(target, config.retentionDays, new Date(), io)) || code;
  await warnOfExpiredData(target, config.retentionDays, io);
  return code;
}

async function verifyCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  if (positionals.length !== 1) {
    io.err(`image-pipeline backup verify: give one destination.\n\n${USAGE}`);
    return 2;
  }
  const target = await openTarget(positionals[0]);
  const report = await verifyBackups(target);
  io.out(describe(report, target));
  if (isHealthy(report)) {
    io.out('backup verify: OK\n');
    return 0;
  }
  const count = report.problems.length + report.checks.reduce((n, c) => n + c.problems.length, 0);
  io.err(`backup verify: FAILED, ${count} problem${count === 1 ? '' : 's'} (above)\n`);
  return 1;
}

async function pruneCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'as-of': { type: 'string' } } });
  if (positionals.length !== 1) {
    io.err(`image-pipeline backup prune: give one destination.\n\n${USAGE}`);
    return 2;
  }
  const asOf = values['as-of'] ? new Date(values['as-of']) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`--as-of must be an ISO 8601 time; got "${values['as-of']}".`);
  return prune(await openTarget(positionals[0]), loadConfig(process.env).retentionDays, asOf, io);
}

async function prune(target: BackupTarget, retentionDays: number, now: Date, io: CliIo): Promise<number> {
  const result = await pruneBackups({ target, retentionDays, now, log: (line) => io.out(`${line}\n`) });
  io.out(
    `backup prune (RETENTION_DAYS ${retentionDays}, as at ${now.toISOString()}): removed ${result.removedVersions} versions holding expired personal data from ${result.rewrittenFiles} files` +
      `${result.base ? `; folded ${result.folded.length} backups into ${result.base}` : ''}${result.deleted.length ? `; deleted ${result.deleted.length} superseded backups or stray files` : ''}\n`,
  );
  if (!result.problems.length) return 0;
  io.err(`backup prune: ${result.problems.length} problems, left as they are:\n  ${result.problems.join('\n  ')}\n`);
  return 1;
}

/** Tells the operator when backups hold personal data past the policy: prune was not run in time. */
async function warnOfExpiredData(target: BackupTarget, retentionDays: number, io: CliIo): Promise<void> {
  const nowTs = Date.now() / 1000;
  const { manifests } = await readManifests(target);
  const due = manifests.flatMap((m) => m.containers.flatMap((c) => c.files)).filter((f) => f.personalDataExpiresTs !== null && f.personalDataExpiresTs <= nowTs && f.retentionDays === retentionDays);
  if (due.length) io.err(`warning: ${due.length} backup files hold personal data older than RETENTION_DAYS (${retentionDays} days): run image-pipeline backup prune ${target.location} (or back up with --prune)\n`);
}

function describe(report: VerifyReport, target: BackupTarget): string {
  const lines = [`backup verify: ${target.location}`];
  for (const { manifest, problems } of report.checks) {
    const files = manifest.containers.reduce((n, c) => n + c.files.length, 0);
    const state = manifest.completedAt ? (problems.length ? 'CORRUPTED' : 'ok') : manifest.kind === 'base' ? 'incomplete (an interrupted prune; the next prune redoes it)' : 'incomplete (the next backup run resumes it)';
    const counts = manifest.containers.map((c) => `${c.id} ${c.documents}`).join(', ');
    lines.push(`  ${manifest.id}: ${manifest.documents} documents (${counts}) in ${files} files, up to ${isoOf(manifest.untilTs)}: ${state}`);
    for (const problem of problems) lines.push(`    ${problem}`);
  }
  for (const problem of report.problems) lines.push(`  ${problem}`);
  if (report.strays.length) lines.push(`  files no manifest lists (the next prune removes them): ${report.strays.join(', ')}`);
  if (report.chain) lines.push(`  a restore reads ${report.chain.map((m) => m.id).join(' + ')}: recovery point ${isoOf(report.chain.at(-1)!.untilTs)}`);
  return `${lines.join('\n')}\n`;
}
