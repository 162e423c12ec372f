import { parseArgs } from 'node:util';
import { API_SCOPE_VARIABLE, apiClient, entraAuth, registerBatch } from './api-client';
import { batchesContainer } from './batch-storage';
import { startBridge, type BridgeTotals } from './bridge';
import { registeringAttribute } from './bridge-record';
import { sharedCredential } from './credential';
import { eventHubsKafka, plainKafka } from './kafka-connection';

const USAGE = `Usage: image-pipeline bridge --from <brokers> (--to-event-hubs <namespace> | --to <brokers>) [options]

Forwards batch records from an in-house Kafka topic to the cloud, each unchanged (key, headers, value); values too
large for Event Hubs go to blob storage and travel as blob references. In-house offsets are committed only after the
cloud acknowledged (acks=all). While the cloud is away the bridge retries with backoff and the records wait in-house;
after a restart it resumes from the committed offsets. Stop with Ctrl+C (SIGINT) or SIGTERM: it prints totals.

  --from <host:port,...>         In-house Kafka brokers (plain TCP)
  --topic <name>                 In-house topic (default: image-batches)
  --group <id>                   In-house consumer group (default: image-pipeline-bridge)
  --to-event-hubs <namespace>    Event Hubs namespace (name or host name): Kafka endpoint with Entra ID (SASL
                                 OAUTHBEARER). A connection string also works, where local auth is enabled.
  --to <host:port,...>           Or a Kafka cluster (plain TCP)
  --to-topic <name>              Topic / event hub in the cloud (default: the in-house topic's name)
  --storage-account <name|url>   Storage account for values over ~900 KB (Entra ID, batches container)
  --storage-connection <conn>    The same with a connection string (only where shared-key access is allowed)
  --api <url>                    The app's API: each new batch is registered there to the bridge's identity, and its
                                 records get the batch's ingest token (ip-batch-token), so the batch belongs to that
                                 identity. Records that carry a token already pass unchanged. Without --api batches
                                 arrive unregistered and belong to nobody (only operators see them).
  --api-scope <scope>            Entra ID scope of the app registration, api://<client id>/.default (default:
                                 ${API_SCOPE_VARIABLE})
  --progress-seconds <n>         A progress and lag line every n seconds (default: 10)
`;

const log = (line: string) => process.stderr.write(`${line}\n`);

const totalsLine = (t: BridgeTotals) =>
  `bridge totals: ${t.forwarded} records forwarded (${(t.bytes / 1_000_000).toFixed(1)} MB, ${t.viaBlob} via blob storage), ${t.skipped} skipped, ` +
  `${t.failedAttempts} failed attempts, ${t.seconds.toFixed(1)} s; lag at exit ${t.lag ?? 'unknown'} records${t.lag ? ' (they wait in-house for the next start)' : ''}`;

export async function runBridgeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      topic: { type: 'string', default: 'image-batches' },
      group: { type: 'string', default: 'image-pipeline-bridge' },
      'to-event-hubs': { type: 'string' },
      to: { type: 'string' },
      'to-topic': { type: 'string' },
      'storage-account': { type: 'string' },
      'storage-connection': { type: 'string' },
      'progress-seconds': { type: 'string', default: '10' },
      api: { type: 'string' },
      'api-scope': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const progressSeconds = Number(values['progress-seconds']);
  const problem = !values.from
    ? '--from is required.'
    : !values['to-event-hubs'] === !values.to
      ? 'Give exactly one of --to-event-hubs and --to.'
      : !(progressSeconds > 0)
        ? '--progress-seconds must be a positive number.'
        : undefined;
  if (problem) {
    process.stderr.write(`image-pipeline bridge: ${problem}\n\n${USAGE}`);
    return 2;
  }
  const credential = sharedCredential();
  const hubs = values['to-event-hubs'] ? eventHubsKafka(values['to-event-hubs'], credential, 'image-pipeline-bridge') : undefined;
  const api = values.api ? apiClient(values.api, entraAuth(values['api-scope'] ?? process.env[API_SCOPE_VARIABLE], credential)) : undefined;
  const bridge = await startBridge({
    from: plainKafka(values.from!, 'image-pipeline-bridge'),
    to: hubs?.config ?? plainKafka(values.to!, 'image-pipeline-bridge'),
    toDescription: hubs?.description ?? values.to!,
    topic: values.topic,
    toTopic: values['to-topic'] ?? hubs?.entityPath ?? values.topic,
    groupId: values.group,
    batches: batchesContainer({ account: values['storage-account'], connection: values['storage-connection'] }, credential),
    progressEveryMs: progressSeconds * 1000,
    attribute: api && registeringAttribute((batchId, itemCount) => registerBatch(api, batchId, itemCount), log),
    log,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`bridge: ${signal}, stopping (records not yet acknowledged stay in-house)`);
      void bridge.stop();
    });
  }
  try {
    log(totalsLine(await bridge.done));
    return 0;
  } catch (error) {
    const totals = (error as { totals?: BridgeTotals }).totals;
    if (totals) log(totalsLine(totals));
    throw error;
  }
}
