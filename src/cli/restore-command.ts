import { parseArgs } from 'node:util';
import { CorruptBackupError } from '../lib/backup/files';
import { isoOf } from '../lib/backup/manifest';
import { openTarget } from '../lib/backup/open-target';
import { restoreBackups } from '../lib/backup/restore';
import { errorMessage } from '../lib/retry';
import type { CliIo } from './cli-io';
import { documentStoreFor, localPortOf } from './backup-stores';

const USAGE = `Usage: image-pipeline restore --from <folder | blob container URL> [options]

Writes the latest version of every document in the backups (image-pipeline backup) into the Cosmos DB account: the
app settings in the environment, else the local host running on --local-port. The account may be empty or partly
filled; containers are created where the connection may (local, key-based). Every file is checked against its
manifest first, and a corrupted backup is refused before anything is written. Run again, it changes nothing, so an
interrupted restore is simply run again.

  --from <destination>     The folder or blob container URL the backups were written to
  --at <backup id>         Restore to this backup (default: the latest complete one)
  --overwrite              Replace documents that exist with other content (default: keep them, they may be newer)
  --local-port <port>      The local host to restore into when no stores are configured (default 7071)
`;

export async function runRestoreCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      at: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
      'local-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  if (!values.from) {
    io.err(`image-pipeline restore: give --from <folder | blob container URL>.\n\n${USAGE}`);
    return 2;
  }
  const { store, config, source } = documentStoreFor(process.env, localPortOf(values['local-port']));
  const target = await openTarget(values.from);
  io.out(`image-pipeline restore: from ${target.location} into ${source}, database ${config.cosmosDatabase}\n`);
  try {
    const result = await restoreBackups({ store, target, at: values.at, overwrite: values.overwrite, log: (line) => io.out(`${line}\n`) });
    for (const [container, c] of Object.entries(result.containers)) {
      io.out(`  ${container}: ${c.created} created, ${c.unchanged} already there, ${c.kept} kept as they are (they differ from the backup; --overwrite replaces them), ${c.replaced} replaced\n`);
    }
    io.out(`restore complete: recovery point ${isoOf(result.untilTs)} (${result.chain.at(-1)})\n`);
    return 0;
  } catch (error) {
    if (error instanceof CorruptBackupError) {
      io.err(`image-pipeline restore: ${error.message}\n`);
      return 1;
    }
    io.err(`image-pipeline restore: interrupted: ${errorMessage(error)}\nRun the same command again: documents already restored are left as they are.\n`);
    return 1;
  }
}
