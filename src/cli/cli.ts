import { runBackupCommand } from './backup-command';
import { runBridgeCommand } from './bridge-command';
import { processIo, type CliIo } from './cli-io';
import { runReplayDeadLetterCommand } from './replay-deadletter-command';
import { runRestoreCommand } from './restore-command';
import { runSendCommand } from './send-command';
import { runSmokeCommand } from './smoke-command';

export type { CliIo } from './cli-io';

const USAGE = `Usage: image-pipeline <command> [options]

  send      Send files as one batch of Kafka records (image-pipeline send --help)
  bridge    Forward an in-house Kafka topic to Event Hubs (image-pipeline bridge --help)
  smoke     Check a running deployment end to end (image-pipeline smoke --help)
  backup    Back up Cosmos DB to a folder or blob container; verify, prune (image-pipeline backup --help)
  restore   Restore Cosmos DB from backups (image-pipeline restore --help)
  replay-deadletter  Re-deliver Event Grid's dead-lettered upload events (image-pipeline replay-deadletter --help)
`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  send: runSendCommand,
  bridge: runBridgeCommand,
  smoke: runSmokeCommand,
  backup: runBackupCommand,
  restore: runRestoreCommand,
  'replay-deadletter': runReplayDeadLetterCommand,
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
