import { BlobServiceClient } from '@azure/storage-blob';
import { parseArgs } from 'node:util';
import { BLOB_WEBHOOK, EVENT_GRID_DEAD_LETTER_CONTAINER } from '../lib/names';
import { readLocalHostFile } from '../local/local-host-file';
import { blobEndpoint } from './batch-storage';
import type { CliIo } from './cli-io';
import { localPortOf } from './backup-stores';
import { sharedCredential } from './credential';
import { replayDeadLetters } from './replay-deadletter';

const USAGE = `Usage: image-pipeline replay-deadletter --storage-account <name|url> --app <url> --code <key> [--dry-run]
       image-pipeline replay-deadletter [--local-port <port>] [--dry-run]

Re-delivers the BlobCreated events Event Grid dead-lettered to the ${EVENT_GRID_DEAD_LETTER_CONTAINER} container (it gives up on an
event after 30 attempts or 24 hours, e.g. while the app was down) to processUpload's blob extension webhook, and
deletes each dead-letter blob once all its events were accepted. Run it once the app is healthy again, within
RETENTION_DAYS (the uploads the events name are deleted after that).

  --storage-account <name|url>   The storage account with the dead letters (Entra ID: az login, a managed identity;
                                 Storage Blob Data Contributor on ${EVENT_GRID_DEAD_LETTER_CONTAINER})
  --app <url>                    The function app, https://<app>.azurewebsites.net
  --code <key>                   Its blobs_extension system key:
                                 az functionapp keys list -g <rg> -n <app> --query systemKeys.blobs_extension -o tsv
  --container <name>             Dead-letter container (default ${EVENT_GRID_DEAD_LETTER_CONTAINER})
  --local-port <port>            Without --storage-account: the local host on this port (default 7071), its storage
                                 and its webhook
  --dry-run                      List what would be re-delivered; send and delete nothing
`;

export async function runReplayDeadLetterCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'storage-account': { type: 'string' },
      app: { type: 'string' },
      code: { type: 'string' },
      container: { type: 'string', default: EVENT_GRID_DEAD_LETTER_CONTAINER },
      'local-port': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  let service: BlobServiceClient;
  let webhook: string;
  if (values['storage-account']) {
    if (!values.app || !values.code) {
      io.err(`image-pipeline replay-deadletter: with --storage-account give --app and --code too.\n\n${USAGE}`);
      return 2;
    }
    service = new BlobServiceClient(blobEndpoint(values['storage-account']), sharedCredential()());
    webhook = `${new URL(values.app).origin}${BLOB_WEBHOOK.path}?functionName=${BLOB_WEBHOOK.processUpload}&code=${encodeURIComponent(values.code)}`;
  } else {
    const port = localPortOf(values['local-port']);
    const local = readLocalHostFile(port);
    if (!local) throw new Error(`No local host running on port ${port}: start one with npm start, or give --storage-account, --app and --code for Azure.`);
    const connection = local.settings.AzureWebJobsStorage;
    if (!connection) throw new Error(`The local host on port ${port} uses configured storage: give --storage-account (and --app, --code) for it.`);
    service = BlobServiceClient.fromConnectionString(connection);
    webhook = `${new URL(local.apiUrl).origin}${BLOB_WEBHOOK.path}?functionName=${BLOB_WEBHOOK.processUpload}`;
  }
  const container = service.getContainerClient(values.container!);
  if (!(await container.exists())) {
    io.out(`no dead letters: ${container.url.split('?')[0]} does not exist\n`);
    return 0;
  }
  const result = await replayDeadLetters({ container, webhook, dryRun: values['dry-run'], log: (line) => io.out(`${line}\n`) });
  io.out(
    values['dry-run']
      ? `replay-deadletter (dry run): ${result.events} events in ${result.blobs - result.failed.length} of ${result.blobs} dead-letter blobs would be re-delivered\n`
      : `replay-deadletter: ${result.events} events re-delivered from ${result.replayed} of ${result.blobs} dead-letter blobs (deleted)\n`,
  );
  for (const { blob, reason } of result.failed) io.err(`kept ${blob}: ${reason}\n`);
  return result.failed.length ? 1 : 0;
}
