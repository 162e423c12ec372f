import { parseArgs } from 'node:util';
import { API_SCOPE_VARIABLE, apiClient, entraAuth, registerBatch } from './api-client';
import { batchesContainer } from './batch-storage';
import { sharedCredential } from './credential';
import { eventHubsKafka, plainKafka } from './kafka-connection';
import { sendBatch } from './send';
import { waitForSummary } from './wait';

const USAGE = `Usage: image-pipeline send [options] <folder|files...>

Sends the files as one batch of Kafka records (format v1, see README "Batch upload through Kafka").

  --brokers <host:port,...>      Kafka brokers (default: KAFKA_BROKERS, else localhost:9092)
  --event-hubs <namespace>       Event Hubs namespace (name or host name): its Kafka endpoint (port 9093, TLS) with
                                 SASL OAUTHBEARER and an Entra ID token (az login, environment, managed identity).
                                 A connection string (Endpoint=sb://...) also works, where local auth is enabled.
  --topic <name>                 Topic / event hub (default: EntityPath of a connection string, EVENTHUB_NAME, else image-batches)
  --batch-id <id>                Batch id (default: a new UUID)
  --callback-url <url>           http(s) URL POSTed the summary when the batch completes
  --storage-account <name|url>   Upload files over ~900 KB to the batches container with Entra ID and send references
  --storage-connection <conn>    The same with a connection string (only where shared-key access is allowed)
  --api <url>                    The app's API: the batch is first registered there to you (PUT /api/batches/{id}),
                                 and its records carry the ingest token it answers. Without --api (and --wait) the
                                 batch is sent unregistered and belongs to nobody: only operators see it.
  --api-scope <scope>            Entra ID scope of the app registration, api://<client id>/.default (default:
                                 ${API_SCOPE_VARIABLE}); not needed by the local host
  --wait                         Wait for the batch and print its summary (polls GET /api/batches/{id})
  --timeout <seconds>            How long --wait waits (default: 600)

--wait without --api uses the local host, http://localhost:7071/api.
`;

export async function runSendCommand(argv: string[]): Promise<number> {
  const { values, positionals: paths } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      'event-hubs': { type: 'string' },
      topic: { type: 'string' },
      'batch-id': { type: 'string' },
      'callback-url': { type: 'string' },
      'storage-account': { type: 'string' },
      'storage-connection': { type: 'string' },
      wait: { type: 'boolean', default: false },
      api: { type: 'string' },
      'api-scope': { type: 'string' },
      timeout: { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !paths.length) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const credential = sharedCredential();
  const hubs = values['event-hubs'] ? eventHubsKafka(values['event-hubs'], credential, 'image-pipeline-cli') : undefined;
  const api = values.api || values.wait ? apiClient(values.api ?? 'http://localhost:7071/api', entraAuth(values['api-scope'] ?? process.env[API_SCOPE_VARIABLE], credential)) : undefined;
  const { batchId, items } = await sendBatch({
    paths,
    kafka: hubs?.config ?? plainKafka(values.brokers ?? process.env.KAFKA_BROKERS ?? 'localhost:9092', 'image-pipeline-cli'),
    topic: values.topic ?? hubs?.entityPath ?? process.env.EVENTHUB_NAME ?? 'image-batches',
    batchId: values['batch-id'],
    callbackUrl: values['callback-url'],
    register: api && ((id, count) => registerBatch(api, id, count, values['callback-url'])),
    batches: batchesContainer({ account: values['storage-account'], connection: values['storage-connection'] }, credential),
  });
  if (!api) process.stderr.write(`Batch ${batchId} was sent unregistered (no --api): it belongs to nobody, and only operators see it.\n`);
  if (!values.wait) {
    process.stdout.write(`${batchId}\n`);
    return 0;
  }
  const batch = await waitForSummary({ api: api!, batchId, itemCount: items, timeoutSeconds: Number(values.timeout) });
  process.stdout.write(`${JSON.stringify(batch, null, 2)}\n`);
  return 0;
}
