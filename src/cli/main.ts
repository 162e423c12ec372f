#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { eventHubsKafka, plainKafka } from './kafka-connection';
import { sendBatch } from './send';
import { waitForSummary } from './wait';

const USAGE = `Usage: image-pipeline send [options] <folder|files...>

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
`;

async function main(argv: string[]): Promise<number> {
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
      timeout: { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...paths] = positionals;
  if (values.help || command !== 'send' || !paths.length) {
    process.stderr.write(USAGE);
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
    process.stdout.write(`${batchId}\n`);
    return 0;
  }
  const batch = await waitForSummary({ api: values.api!, batchId, itemCount: items, code: values.code, timeoutSeconds: Number(values.timeout) });
  process.stdout.write(`${JSON.stringify(batch, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`image-pipeline: ${error.message}\n`);
    process.exit(1);
  },
);
