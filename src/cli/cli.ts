import { parseArgs } from 'node:util';
import { eventHubsKafka, plainKafka } from './kafka-connection';
import { sendBatch } from './send';
import { runSmoke, SmokeFailure } from './smoke';
import { waitForSummary } from './wait';

const USAGE = `Usage: image-pipeline <command> [options]

image-pipeline send [options] <folder|files...>
  Sends the files as one batch of Kafka records (format v1, see README "Batch upload through Kafka").

  --brokers <host:port,...>      Kafka brokers (default: KAFKA_BROKERS, else localhost:9092)
  --event-hubs <connection>      Event Hubs namespace connection string: its Kafka endpoint (port 9093, TLS, SASL PLAIN)
  --topic <name>                 Topic / event hub (default: EntityPath of --event-hubs, EVENTHUB_NAME, else image-batches)
  --batch-id <id>                Batch id (default: a new UUID)
  --callback-url <url>           http(s) URL POSTed the summary when the batch completes
  --storage-connection <conn>    Upload files over ~900 KB to blob storage and send references (else they are refused)
  --wait                         Wait for the batch and print its summary (polls GET /api/batches/{id})
  --api <url>                    API base for --wait (default: http://localhost:7071/api)
  --code <key>                   Function key for --wait against Azure
  --timeout <seconds>            How long --wait waits (default: 600)

image-pipeline smoke --api <url> [--code <key>] [--timeout <seconds>]
  Checks a running deployment end to end: uploads an image with ?wait, sends a 3-image batch through
  POST /api/batches, and checks the results and the summary. Exits 1 with the failing step on the first failure.

  --api <url>                    API base (default: http://localhost:7071/api)
  --code <key>                   Function key (x-functions-key); not needed by the local host
  --timeout <seconds>            How long each step may take (default: 120)
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/** Runs one image-pipeline command; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string' },
      'event-hubs': { type: 'string' },
      topic: { type: 'string' },
      'batch-id': { type: 'string' },
      'callback-url': { type: 'string' },
      'storage-connection': { type: 'string' },
      wait: { type: 'boolean', default: false },
      api: { type: 'string', default: 'http://localhost:7071/api' },
      code: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...paths] = positionals;
  const timeoutSeconds = (fallback: number) => {
    const seconds = Number(values.timeout ?? fallback);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout must be a positive number of seconds; got "${values.timeout}".`);
    return seconds;
  };

  if (command === 'smoke' && !values.help) {
    try {
      await runSmoke({ api: values.api!, code: values.code, timeoutSeconds: timeoutSeconds(120), log: (line) => io.out(`${line}\n`) });
    } catch (error) {
      if (!(error instanceof SmokeFailure)) throw error;
      io.err(`image-pipeline smoke: FAILED at ${error.message}\n`);
      return 1;
    }
    io.out(`image-pipeline smoke: passed against ${values.api}\n`);
    return 0;
  }

  if (values.help || command !== 'send' || !paths.length) {
    io.err(USAGE);
    return values.help ? 0 : 2;
  }
  const hubs = values['event-hubs'] ? eventHubsKafka(values['event-hubs']) : undefined;
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',').map((b) => b.trim()).filter(Boolean);
  const { batchId, items } = await sendBatch({
    paths,
    kafka: hubs?.config ?? plainKafka(brokers),
    topic: values.topic ?? hubs?.entityPath ?? process.env.EVENTHUB_NAME ?? 'image-batches',
    batchId: values['batch-id'],
    callbackUrl: values['callback-url'],
    storageConnection: values['storage-connection'],
  });
  if (!values.wait) {
    io.out(`${batchId}\n`);
    return 0;
  }
  const batch = await waitForSummary({ api: values.api!, batchId, itemCount: items, code: values.code, timeoutSeconds: timeoutSeconds(600) });
  io.out(`${JSON.stringify(batch, null, 2)}\n`);
  return 0;
}
