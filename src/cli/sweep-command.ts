import { parseArgs } from 'node:util';
import { sweepRetention, type RetentionSweepResult } from '../lib/jobs/retention-sweep';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS, holdsPersonalData } from '../lib/names';
import { createServices, endpointOf } from '../lib/services';
import type { CliIo } from './cli-io';
import { resolveConfig } from './connections';

const USAGE = `Usage: image-pipeline sweep [--as-of <ISO time>] [--dry-run] [--local-port <port>]

Applies the retention policy (RETENTION_DAYS), as the app's hourly retention-sweep job does: deletes every blob of
the images older than the policy and de-identifies their documents, the batch documents and the rejected records.
Works on the stores of AzureWebJobsStorage and COSMOS_CONNECTION when both are set, else on those of the local host
running on --local-port; it prints which.

  --as-of <ISO time>     Sweep as of this time instead of now (a later time expires more)
  --dry-run              Count what would be done, change nothing
  --local-port <port>    The local host to use when no stores are configured (default: 7071)
`;

const KINDS = ['images', 'batches', 'rejections', 'blobs', 'failures'] as const;

export async function runSweepCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'as-of': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'local-port': { type: 'string', default: '7071' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  const asOf = values['as-of'] === undefined ? new Date() : new Date(values['as-of']);
  if (Number.isNaN(asOf.getTime()) || (values['as-of'] !== undefined && !/^\d{4}-\d{2}-\d{2}/.test(values['as-of']))) {
    throw new Error(`--as-of must be an ISO 8601 date or date-time (2026-12-01T10:00:00Z); got "${values['as-of']}".`);
  }
  const port = Number(values['local-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--local-port must be a port number; got "${values['local-port']}".`);
  const dryRun = values['dry-run']!;

  const { config, source } = resolveConfig(process.env, port);
  const services = await createServices(config);
  const say = (line: string) => io.out(`${line}\n`);
  say(`image-pipeline sweep: working on ${source}${dryRun ? ' (dry run: nothing is changed)' : ''}`);
  say(`  blob storage ${endpointOf(config.storage!)}: containers ${Object.values(BLOB_CONTAINERS).join(', ')}`);
  say(`  Cosmos DB ${endpointOf(config.cosmos!)}: database ${config.cosmosDatabase}, containers ${Object.values(COSMOS_CONTAINERS).map((c) => c.id).filter(holdsPersonalData).join(', ')} (the others hold nothing personal)`);
  say(`  retention ${config.retentionDays} days (RETENTION_DAYS), as of ${asOf.toISOString()}`);
  say("  orchestration histories: not reachable from here; the app's retention-sweep job purges them every hour");

  const log = { info: say, warn: (line: string) => io.err(`${line}\n`), error: (line: string) => io.err(`${line}\n`) };
  const total: Pick<RetentionSweepResult, (typeof KINDS)[number]> = { images: 0, batches: 0, rejections: 0, blobs: 0, failures: 0 };
  // Each run is bounded; run again while one stops at its limit (a dry run changes nothing, so once is all it can do).
  for (let more = true; more; ) {
    const result = await sweepRetention({ services, log }, { asOf, dryRun });
    for (const kind of KINDS) total[kind] += result[kind];
    more = result.more && !dryRun && result.images + result.batches + result.rejections + result.blobs > 0;
  }
  say(
    `image-pipeline sweep: ${dryRun ? 'would de-identify' : 'de-identified'} ${total.images} images, ${total.batches} batches and ${total.rejections} rejected records; ${dryRun ? 'would delete' : 'deleted'} ${total.blobs} blobs; ${total.failures} failures`,
  );
  await services.batchStream?.close();
  return total.failures ? 1 : 0;
}
