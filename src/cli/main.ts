#!/usr/bin/env node
import { runBridgeCommand } from './bridge-command';
import { runSendCommand } from './send-command';

const USAGE = `Usage: image-pipeline <command> [options]

  send      Send files as one batch of Kafka records (image-pipeline send --help)
  bridge    Forward an in-house Kafka topic to Event Hubs (image-pipeline bridge --help)
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { send: runSendCommand, bridge: runBridgeCommand };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`image-pipeline: ${error.message}\n`);
    process.exit(1);
  },
);
