import { runBridgeCommand } from './bridge-command';
import { processIo, type CliIo } from './cli-io';
import { runSendCommand } from './send-command';
import { runSmokeCommand } from './smoke-command';

export type { CliIo } from './cli-io';

const USAGE = `Usage: image-pipeline <command> [options]

  send      Send files as one batch of Kafka records (image-pipeline send --help)
  bridge    Forward an in-house Kafka topic to Event Hubs (image-pipeline bridge --help)
  smoke     Check a running deployment end to end (image-pipeline smoke --help)
  sweep     Apply the retention policy to the stores now or as of a time (image-pipeline sweep --help)
  export    Write the analytics facts as Parquet (image-pipeline export --help)
  analytics Query the Parquet exports with DuckDB (image-pipeline analytics --help)
  backup    Back up Cosmos DB to a folder or blob container; verify, prune (image-pipeline backup --help)
  restore   Restore Cosmos DB from backups (image-pipeline restore --help)
  replay-deadletter  Re-deliver Event Grid's dead-lettered upload events (image-pipeline replay-deadletter --help)
`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  send: runSendCommand,
  bridge: runBridgeCommand,
  smoke: runSmokeCommand,
  // Operator commands load on use: they find the local host's stores through src/local, which the deployment
  // package leaves out, so the packaged CLI (smoke) must not load them.
  sweep: async (argv, io) => (await import('./sweep-command.js')).runSweepCommand(argv, io),
  export: async (argv, io) => (await import('./export-command.js')).runExportCommand(argv, io),
  analytics: async (argv, io) => (await import('./analytics-command.js')).runAnalyticsCommand(argv, io),
  backup: async (argv, io) => (await import('./backup-command.js')).runBackupCommand(argv, io),
  restore: async (argv, io) => (await import('./restore-command.js')).runRestoreCommand(argv, io),
  'replay-deadletter': async (argv, io) => (await import('./replay-deadletter-command.js')).runReplayDeadLetterCommand(argv, io),
};

/** Runs one image-pipeline command; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    io.err(USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  return run(rest, io);
}
