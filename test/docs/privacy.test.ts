// The README's Privacy table holds where data lives and for how long. Each row the code or the Bicep controls names
// the tests that prove it, and its figures are the ones the code and the Bicep have; infra/README.md says the same.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_SETTINGS, MAX_RETENTION_DAYS } from '../../src/lib/config';
import { DEFAULT_SWEEP_LIMIT } from '../../src/lib/jobs/retention-sweep';
import { RETENTION_SWEEP_EVERY_MINUTES } from '../../src/lib/privacy/retention';
import { bicepDir, type BicepFile, fileResolver, listBicepFiles, parseBicepFile, UNKNOWN } from '../infra/bicep-ast';
import { LIFECYCLE_RUN_DELAY_DAYS } from '../infra/retention-rules';

const ROOT = join(__dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const infraReadme = readFileSync(join(ROOT, 'infra/README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Privacy'), readme.indexOf('\n## ', readme.indexOf('## Privacy') + 1));
/** The section's prose with line breaks as spaces, for phrases that wrap. */
const prose = section.replace(/\s+/g, ' ');
const parameters = (file: string) => JSON.parse(readFileSync(join(bicepDir, file), 'utf8')).parameters as Record<string, { value: unknown }>;

interface Row {
  where: string;
  what: string;
  maximumAge: string;
  enforcedBy: string;
  guardedBy: string;
}

const rows: Row[] = section
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| where ') && !line.startsWith('|---'))
  .map((line) => {
    const [where, what, maximumAge, enforcedBy, guardedBy] = line.slice(2, -2).split(' | ');
    return { where, what, maximumAge, enforcedBy, guardedBy };
  });

const files = new Map<string, BicepFile>();
beforeAll(async () => {
  for (const file of listBicepFiles()) files.set(file, await parseBicepFile(file));
});
const resolve = (file: string) => fileResolver(files.get(join(bicepDir, file))!);

describe('README "Privacy"', () => {
  it('has a table of every place data lives, with the maximum age, who enforces it and which tests prove it', () => {
    expect(rows.length).toBeGreaterThanOrEqual(12);
    for (const place of ['`uploads/`', '`derived/`', '`deadletter/`', '`eventgrid-dead-letters/`', 'blobreceipts', 'Cosmos DB `images`', 'Cosmos DB `batches`', 'continuous backup', 'analytical store', 'Durable Functions task hub', 'Event Hubs', 'Application Insights', 'API answers', 'local host']) {
      expect(rows.some((row) => row.where.includes(place)), place).toBe(true);
    }
  });

  it('names, for every row the code or the Bicep controls, tests that exist and prove it', () => {
    for (const row of rows) {
      const tests = [...row.guardedBy.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]);
      const controlled = /sweep|code|Bicep|lifecycle rule/.test(row.enforcedBy);
      if (controlled) expect(tests.length, `${row.where}: guarded by`).toBeGreaterThan(0);
      else expect(row.guardedBy, `${row.where}: nothing of ours to test`).toMatch(/^(—|`test\/)/);
      for (const test of tests) expect(existsSync(join(ROOT, test)), test).toBe(true);
    }
  });

  it('gives the figures the code and the Bicep have', () => {
    const main = resolve('main.bicep');
    const retentionDays = main('retentionDays') as number;
    const softDelete = main('blobSoftDeleteRetentionDays') as number;
    expect(retentionDays).toBe(Number(APP_SETTINGS.RETENTION_DAYS.default));
    expect(prose).toContain(`(\`R\` = \`RETENTION_DAYS\`, default ${APP_SETTINGS.RETENTION_DAYS.default};`);
    expect(prose).toContain(`within \`RETENTION_DAYS\` days** (${MAX_RETENTION_DAYS} by default; shorter is allowed, longer is refused at start-up)`);
    expect(RETENTION_SWEEP_EVERY_MINUTES).toBe(60);
    expect(prose).toContain('runs every hour in Azure and on the local host');
    expect(prose).toContain('`RETENTION_DAYS` days less one hour ago');
    expect(prose).toContain(`bounded per run (${DEFAULT_SWEEP_LIMIT} documents of each kind and ${DEFAULT_SWEEP_LIMIT} blobs of each container;`);

    const storage = fileResolver(files.get(join(bicepDir, 'app/storage.bicep'))!, (name) => ({ retentionDays, softDeleteRetentionDays: softDelete })[name] ?? UNKNOWN);
    const age = storage('lifecycleDeleteAfterDays') as number;
    expect(storage('lifecycleRunDelayDays')).toBe(LIFECYCLE_RUN_DELAY_DAYS);
    const storageRow = rows.find((row) => row.where.startsWith('blob containers `uploads/`'))!;
    expect(storageRow.maximumAge).toBe('`R` days');
    expect(storageRow.enforcedBy).toContain(`eligible after \`R - ${LIFECYCLE_RUN_DELAY_DAYS + softDelete}\` = ${age} days, deleted within ${LIFECYCLE_RUN_DELAY_DAYS} days, soft-deleted copy purged ${softDelete} day later`);

    const cosmos = files.get(join(bicepDir, 'app/cosmos.bicep'))!;
    const tier = /tier: '(Continuous\d+Days)'/.exec(readFileSync(cosmos.path, 'utf8'))![1];
    expect(rows.find((row) => row.where === 'Cosmos DB continuous backup')!.maximumAge).toContain(`\`${tier}\``);

    const dev = main('eventHubRetentionDays') as number;
    const prod = parameters('main.parameters.prod.json').eventHubRetentionDays.value;
    expect(rows.find((row) => row.where === 'Event Hubs `image-batches`')!.maximumAge).toBe(`\`eventHubRetentionDays\`: ${dev} day (dev), ${prod} days (prod), never more than \`R\``);

    const logsDev = main('logAnalyticsRetentionDays') as number;
    const logsProd = parameters('main.parameters.prod.json').logAnalyticsRetentionDays.value;
    expect(rows.find((row) => row.where === 'Application Insights, Log Analytics')!.maximumAge).toBe(`${logsDev} days (dev), ${logsProd} days (prod)`);
  });

  it('infra/README.md gives the same figures', () => {
    const main = resolve('main.bicep');
    const retentionDays = main('retentionDays') as number;
    const softDelete = main('blobSoftDeleteRetentionDays') as number;
    const age = retentionDays - LIFECYCLE_RUN_DELAY_DAYS - softDelete;
    expect(infraReadme).toContain(`at \`daysAfterCreationGreaterThan: ${age}\` with the defaults`);
    expect(infraReadme).toContain(`| the rule's age: \`retentionDays - ${LIFECYCLE_RUN_DELAY_DAYS} - blobSoftDeleteRetentionDays\` | ${age} |`);
    expect(infraReadme).toContain(`| lifecycle management's run delay, at most | ${LIFECYCLE_RUN_DELAY_DAYS} |`);
    expect(infraReadme).toContain(`| soft delete (\`blobSoftDeleteRetentionDays\`, at most 1, or 0 for off) | ${softDelete} |`);
    expect(infraReadme).toContain(`| gone by | ${retentionDays} |`);
    expect(infraReadme).toContain('Cosmos DB\'s continuous backup is `Continuous7Days`');
    expect(infraReadme).not.toMatch(/Continuous30Days|30-day backup|within 30 days/);
    const prod = parameters('main.parameters.prod.json');
    const eventHubDays = main('eventHubRetentionDays') as number;
    expect(infraReadme).toContain(`| \`eventHubRetentionDays\` | \`${eventHubDays}\` | \`${prod.eventHubRetentionDays.value}\` |`);
    expect(infraReadme).toContain(`Event Hubs keeps records \`eventHubRetentionDays\` (${eventHubDays} day in dev, ${prod.eventHubRetentionDays.value} in prod`);
    expect(infraReadme).toContain(`| \`retentionDays\` | \`${retentionDays}\` (3-${MAX_RETENTION_DAYS}) |`);
  });
});
