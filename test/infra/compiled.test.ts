// The infrastructure as the real Bicep compiler sees it (infra/scripts/bicep.sh, the pinned NuGet package): the linter
// and the compiler report nothing, and deployment snapshots of both parameter files (every module expanded with the
// profile's values) have the properties that the review of infra/ found missing.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bicepDir, infraDir, repoRoot } from './bicep-ast.js';
import { bicep, compilerSkipReason, diagnostics, snapshot, type SnapshotResource, workDir } from './bicep-cli.js';
import { METRICS } from '../../src/lib/metrics.js';
import { BLOB_RECEIPTS_PREFIX, lifecycleViolations } from './retention-rules.js';
import { MAX_RETENTION_DAYS } from '../../src/lib/config.js';
import { BLOB_CONTAINERS } from '../../src/lib/names.js';

const DEPLOYER = 'aaaaaaaa-0000-4000-8000-000000000001';
const AUTH_CLIENT = 'cccccccc-0000-4000-8000-00000000c11e';
const SNAPSHOT_TENANT = '00000000-0000-0000-0000-00000000b002';
// Role definition ids (Azure built-in roles, from Azure's documentation)
const STORAGE_BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';

let dev: SnapshotResource[]; // dev profile, the deployer given explicitly, the Event Grid subscription from Bicep
let prod: SnapshotResource[]; // prod profile as it is
let devServicePrincipal: SnapshotResource[]; // dev profile, principalType set by the caller
let failedOver: SnapshotResource[]; // prod profile after a failover to the secondary region, subscriptions from Bicep, a producer and a backup server
let elsewhere: SnapshotResource[]; // prod profile deployed with another primary location
const PRODUCER = 'aaaaaaaa-0000-4000-8000-000000000002';
const BACKUP_SERVER = 'aaaaaaaa-0000-4000-8000-000000000003';
// Built-in role ids, as Azure documents them
const EVENT_HUBS_DATA_SENDER = '2b629674-e913-4c01-ae53-ef4638d8f975';
const COSMOS_DATA_READER = '00000000-0000-0000-0000-000000000001';

const ofType = (resources: SnapshotResource[], type: string) => resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
const roleAssignments = (resources: SnapshotResource[]) => [
  ...ofType(resources, 'Microsoft.Authorization/roleAssignments'),
  ...ofType(resources, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments'),
];

describe.skipIf(Boolean(compilerSkipReason))('Bicep compiled by the Bicep CLI', () => {
  beforeAll(async () => {
    await bicep('--version'); // restores the CLI if needed, once, before the parallel runs
    const dir = workDir();
    const devValues = { environmentName: "'ci-dev'", location: "'westeurope'", principalId: `'${DEPLOYER}'`, createBlobEventSubscription: 'true', authClientId: `'${AUTH_CLIENT}'` };
    [dev, prod, devServicePrincipal, failedOver, elsewhere] = await Promise.all([
      snapshot(dir, 'main.parameters.json', devValues),
      snapshot(dir, 'main.parameters.prod.json'),
      snapshot(dir, 'main.parameters.json', { ...devValues, principalType: "'ServicePrincipal'" }),
      snapshot(dir, 'main.parameters.prod.json', {
        activeRegion: "'secondary'",
        createBlobEventSubscription: 'true',
        producerPrincipalIds: `['${PRODUCER}']`,
        backupPrincipalIds: `['${BACKUP_SERVER}']`,
      }),
      snapshot(dir, 'main.parameters.prod.json', { location: "'swedencentral'" }),
    ]);
  }, 300_000);

  it('lints every template without a single diagnostic (bicepconfig.json makes the linter rules errors)', async () => {
    const { stdout, stderr } = await bicep('lint', '--pattern', `${path.relative(repoRoot, infraDir)}/**/*.bicep`);
    expect(diagnostics(stdout + stderr)).toEqual([]);
    const config = JSON.parse(readFileSync(path.join(bicepDir, 'bicepconfig.json'), 'utf8'));
    const levels = Object.values(config.analyzers.core.rules as Record<string, { level: string }>).map((r) => r.level);
    expect(levels.length).toBeGreaterThan(20);
    expect(new Set(levels)).toEqual(new Set(['error']));
  }, 300_000); // every template, standby region included: on a loaded 2-core machine this outlasts the default minute

  it('suppresses BCP081 for Microsoft.Web/sites/host deliberately: without the pragma the compiler warns', async () => {
    const file = path.join(bicepDir, 'app', 'blob-event-subscription.bicep');
    const lines = readFileSync(file, 'utf8').split('\n');
    const pragma = lines.findIndex((l) => l.trim() === '#disable-next-line BCP081');
    expect(pragma, 'one #disable-next-line BCP081').toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes('BCP081') && l.includes('#disable'))).toHaveLength(1);
    expect(lines[pragma + 1]).toMatch(/^resource \w+ 'Microsoft\.Web\/sites\/host@[\d-]+' existing/);
    expect(lines[pragma - 1], 'the suppression says why').toMatch(/^\/\/ /);

    const dir = workDir();
    const copy = path.join(dir, 'blob-event-subscription.bicep');
    writeFileSync(copy, lines.filter((_, i) => i !== pragma).join('\n'));
    const { stdout, stderr } = await bicep('lint', copy);
    expect(diagnostics(stdout + stderr).join('\n')).toMatch(/Warning BCP081: Resource type "Microsoft\.Web\/sites\/host@/);
  });

  it('derives principalType from the deployer, so a CI service principal gets matching role assignments', async () => {
    const compiled = workDir();
    await bicep('build', path.join(bicepDir, 'main.bicep'), '--outfile', path.join(compiled, 'main.json'));
    const template = JSON.parse(readFileSync(path.join(compiled, 'main.json'), 'utf8'));
    expect(template.parameters.principalType.defaultValue).toBe("[if(empty(deployer().userPrincipalName), 'ServicePrincipal', 'User')]");
    expect(template.parameters.principalType.allowedValues).toEqual(['User', 'ServicePrincipal', 'Group']);

    const deployerAssignments = (resources: SnapshotResource[]) =>
      ofType(resources, 'Microsoft.Authorization/roleAssignments').filter((r) => r.properties?.principalId === DEPLOYER);
    expect(deployerAssignments(dev).length).toBeGreaterThanOrEqual(6);
    for (const a of deployerAssignments(dev)) expect(a.properties!.principalType).toBe("[if(empty(deployer().userPrincipalName), 'ServicePrincipal', 'User')]");
    for (const a of deployerAssignments(devServicePrincipal)) expect(a.properties!.principalType).toBe('ServicePrincipal');
  });

  it('deploys a workbook on Application Insights that charts every metric the app records', () => {
    for (const resources of [dev, prod]) {
      const [component] = ofType(resources, 'Microsoft.Insights/components');
      const workbooks = ofType(resources, 'Microsoft.Insights/workbooks');
      expect(workbooks).toHaveLength(1);
      const [workbook] = workbooks;
      expect(workbook!.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(workbook!.properties!.sourceId.toLowerCase()).toBe(component!.id.toLowerCase());
      const content = JSON.parse(workbook!.properties!.serializedData) as { version: string; items: Array<{ type: number; content: { query?: string; timeContextFromParameter?: string } }> };
      expect(content.version).toBe('Notebook/1.0');
      const queries = content.items.filter((item) => item.type === 3).map((item) => item.content);
      for (const name of Object.values(METRICS)) expect(queries.filter((q) => q.query!.includes(`"${name}"`)), name).toHaveLength(1);
      for (const query of queries) expect([query.query, query.timeContextFromParameter]).toEqual([expect.stringMatching(/^customMetrics\n\| where timestamp \{TimeRange\}/), 'TimeRange']);
    }
  });

  it('runs the function app on Node 22', () => {
    for (const resources of [dev, prod]) {
      const [site] = ofType(resources, 'Microsoft.Web/sites');
      expect(site!.properties!.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    }
  });

  it('dead-letters BlobCreated events Event Grid could not deliver, with a retry policy at the longest TTL', () => {
    const [subscription] = ofType(dev, 'Microsoft.EventGrid/systemTopics/eventSubscriptions');
    expect(subscription, 'the Bicep path creates the subscription').toBeDefined();
    const props = subscription!.properties!;
    expect(props.retryPolicy).toEqual({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
    expect(props.deadLetterWithResourceIdentity.identity).toEqual({ type: 'SystemAssigned' });
    const destination = props.deadLetterWithResourceIdentity.deadLetterDestination;
    expect(destination.endpointType).toBe('StorageBlob');
    const [account] = ofType(dev, 'Microsoft.Storage/storageAccounts');
    expect(destination.properties.resourceId).toBe(account!.id);
    const container = ofType(dev, 'Microsoft.Storage/storageAccounts/blobServices/containers').find((c) =>
      c.id.endsWith(`/containers/${destination.properties.blobContainerName}`),
    );
    expect(container, 'the dead-letter container is created').toBeDefined();

    // The topic's own identity may write there, and only there.
    const [topic] = ofType(dev, 'Microsoft.EventGrid/systemTopics');
    expect(topic!.identity).toEqual({ type: 'SystemAssigned' });
    const writers = roleAssignments(dev).filter((a) => String(a.properties?.principalId).includes(`systemTopics/${topic!.name}'`));
    expect(writers).toHaveLength(1);
    expect(writers[0]!.id.startsWith(`${container!.id}/providers/Microsoft.Authorization/roleAssignments/`)).toBe(true);
    expect(writers[0]!.properties!.roleDefinitionId).toMatch(new RegExp(`/roleDefinitions/${STORAGE_BLOB_DATA_CONTRIBUTOR}$`));

    // The default path (azd postdeploy hook) creates the same subscription with az.
    for (const script of ['postdeploy.sh', 'postdeploy.ps1']) {
      const text = readFileSync(path.join(infraDir, 'scripts', script), 'utf8');
      expect(text, script).toMatch(/--deadletter-identity systemassigned/);
      expect(text, script).toMatch(/--deadletter-identity-endpoint \S+/);
      expect(text, script).toMatch(/blobServices\/default\/containers\/\$\{?\w+/);
      expect(text, script).toMatch(/--max-delivery-attempts 30/);
    }
  });

  it('gives the deploying person no data-plane role in prod; only the apps and the Event Grid topics get roles', () => {
    const identities = ofType(prod, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const topics = ofType(prod, 'Microsoft.EventGrid/systemTopics');
    expect(identities.map((i) => i.name).sort()).toEqual([expect.stringMatching(/^id-api-\w+$/), expect.stringMatching(/^id-api-\w+-standby$/)]);
    expect(topics).toHaveLength(2);
    const assignments = roleAssignments(prod);
    expect(assignments.length).toBeGreaterThanOrEqual(16);
    const holders = new Set(assignments.map((a) => String(a.properties?.principalId)));
    expect([...holders].sort()).toEqual(
      [
        ...identities.map((identity) => `[reference('${identity.id}', '2023-01-31').principalId]`),
        ...topics.map((topic) => `[reference('${topic.id}', '2022-06-15', 'full').identity.principalId]`),
      ].sort(),
    );
    // the same template does give the deployer roles when the profile asks for it (dev), so the check can fail
    expect(roleAssignments(dev).filter((a) => a.properties?.principalId === DEPLOYER).length).toBeGreaterThan(0);
  });

  it('keeps nothing of an image beyond RETENTION_DAYS as both profiles deploy it: lifecycle, soft delete, backup, analytical store, Event Hubs', () => {
    for (const [profile, resources] of [['dev', dev], ['prod', prod]] as const) {
      const [settings] = ofType(resources, 'Microsoft.Web/sites/config');
      const retentionDays = Number(settings!.properties!.RETENTION_DAYS);
      expect(retentionDays, profile).toBe(MAX_RETENTION_DAYS);
      const [blobService] = ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices');
      expect(blobService!.properties).toMatchObject({ isVersioningEnabled: false, changeFeed: { enabled: false } });
      const softDeleteDays = blobService!.properties!.deleteRetentionPolicy.enabled ? blobService!.properties!.deleteRetentionPolicy.days : 0;
      expect(blobService!.properties!.containerDeleteRetentionPolicy.days ?? 0, profile).toBeLessThanOrEqual(softDeleteDays);
      // Every container that holds image bytes or names: the app's, Event Grid's dead letters, the trigger's receipts.
      const deadLetters = 'eventgrid-dead-letters';
      expect(ofType(resources, 'Microsoft.Storage/storageAccounts/blobServices/containers').map((c) => c.name.split('/').at(-1))).toEqual(
        expect.arrayContaining([...Object.values(BLOB_CONTAINERS), deadLetters]),
      );
      const rules = ofType(resources, 'Microsoft.Storage/storageAccounts/managementPolicies').flatMap((p) => p.properties!.policy.rules);
      const prefixes = [...Object.values(BLOB_CONTAINERS).map((c) => `${c}/`), `${deadLetters}/`, BLOB_RECEIPTS_PREFIX];
      expect(lifecycleViolations(rules, { retentionDays, softDeleteDays, prefixes }), profile).toEqual([]);
      // The check is not vacuous on what the compiler produced: counted from modification, or snapshots kept a day longer, fail.
      const changed = (change: (rule: any) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const copy = structuredClone(rules);
        change(copy[0]);
        return lifecycleViolations(copy, { retentionDays, softDeleteDays, prefixes });
      };
      expect(changed((r) => (r.definition.actions.baseBlob.delete = { daysAfterModificationGreaterThan: 4 })).join('\n')).toMatch(/not only from creation|not counted from creation/);
      expect(changed((r) => (r.definition.actions.snapshot.delete.daysAfterCreationGreaterThan += 1)).join('\n')).toMatch(/snapshots under .* over the 7-day policy/);

      const [account] = ofType(resources, 'Microsoft.DocumentDB/databaseAccounts');
      expect(account!.properties!.backupPolicy, profile).toEqual({ type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } });
      // An analytical store only on the de-identified facts: on images or batches it would keep personal fields.
      for (const container of ofType(resources, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers')) {
        const ttl = container.properties!.resource.analyticalStorageTtl ?? null;
        expect(ttl, `${profile} ${container.name}: analytical store`).toBe(container.name.endsWith('/facts') ? -1 : null);
      }
      const [hub] = ofType(resources, 'Microsoft.EventHub/namespaces/eventhubs');
      expect(hub!.properties!.messageRetentionInDays, profile).toBeLessThanOrEqual(retentionDays);
    }
    expect(ofType(dev, 'Microsoft.EventHub/namespaces/eventhubs')[0]!.properties!.messageRetentionInDays, 'dev: 1 day').toBe(1);
  });

  describe('the secondary region', () => {
    const sites = (resources: SnapshotResource[]) => ofType(resources, 'Microsoft.Web/sites');
    const settingsOf = (resources: SnapshotResource[], site: string) =>
      ofType(resources, 'Microsoft.Web/sites/config').find((c) => c.name === `${site}/appsettings`)!.properties as Record<string, string>;
    const located = (resources: SnapshotResource[], type: string, name: string) => (ofType(resources, type).find((r) => r.name === name) as { location?: string } | undefined)?.location;
    const primaryApp = (resources: SnapshotResource[]) => sites(resources).find((s) => !s.name.endsWith('-standby'))!.name;
    const standbyApp = (resources: SnapshotResource[]) => `${primaryApp(resources)}-standby`;
    const namespaces = (resources: SnapshotResource[]) => ofType(resources, 'Microsoft.EventHub/namespaces');

    it('deploys a standby app with its own storage in the secondary region, its batch ingest and maintenance jobs off', () => {
      expect(sites(prod).map((s) => [s.name, (s as { location?: string }).location]).sort()).toEqual([
        [primaryApp(prod), 'northeurope'],
        [standbyApp(prod), 'westeurope'],
      ]);
      const primary = settingsOf(prod, primaryApp(prod));
      const standby = settingsOf(prod, standbyApp(prod));
      expect(located(prod, 'Microsoft.Storage/storageAccounts', primary.AzureWebJobsStorage__accountName)).toBe('northeurope');
      expect(located(prod, 'Microsoft.Storage/storageAccounts', standby.AzureWebJobsStorage__accountName)).toBe('westeurope');
      expect(primary['AzureWebJobs.ingestBatchRecords.Disabled']).toBe('false');
      expect(primary['AzureWebJobs.maintenance.Disabled']).toBe('false');
      expect(standby['AzureWebJobs.ingestBatchRecords.Disabled']).toBe('true');
      expect(standby['AzureWebJobs.maintenance.Disabled']).toBe('true');
      // Each app reads Cosmos DB from its own region first, through the global endpoint.
      expect(primary.COSMOS_PREFERRED_REGIONS).toBe('northeurope,westeurope');
      expect(standby.COSMOS_PREFERRED_REGIONS).toBe('westeurope,northeurope');
      expect(standby.COSMOS_CONNECTION__accountEndpoint).toBe(primary.COSMOS_CONNECTION__accountEndpoint);
      expect(primary.COSMOS_CONNECTION__accountEndpoint).toMatch(/\.documentEndpoint\]$/);
      const [account] = ofType(prod, 'Microsoft.DocumentDB/databaseAccounts');
      expect(account!.properties!.locations).toEqual([
        { locationName: 'northeurope', isZoneRedundant: true, failoverPriority: 0 },
        { locationName: 'westeurope', isZoneRedundant: true, failoverPriority: 1 },
      ]);
      expect(account!.properties!.enableAutomaticFailover).toBe(true);
      // The standby scales to zero while it stands by; its storage has the app's containers and the dead letters.
      const plans = ofType(prod, 'Microsoft.Web/sites').map((s) => s.properties!.functionAppConfig.scaleAndConcurrency.alwaysReady);
      expect(plans).toEqual([[{ name: 'durable', instanceCount: 1 }], []]);
      const standbyContainers = ofType(prod, 'Microsoft.Storage/storageAccounts/blobServices/containers').filter((c) => c.name.startsWith(`${standby.AzureWebJobsStorage__accountName}/`));
      expect(standbyContainers.map((c) => c.name.split('/').at(-1)).filter((n) => !n!.startsWith('app-package-')).sort()).toEqual(['batches', 'deadletter', 'derived', 'eventgrid-dead-letters', 'uploads']);
      // One region (dev): one app, no standby, the one region preferred.
      expect(sites(dev)).toHaveLength(1);
      expect(settingsOf(dev, primaryApp(dev)).COSMOS_PREFERRED_REGIONS).toBe('westeurope');
      expect(ofType(dev, 'Microsoft.DocumentDB/databaseAccounts')[0]!.properties!.locations).toHaveLength(1);
    });

    it('has both apps and the producers use the Event Hubs geo-DR alias, never a namespace', () => {
      const [primaryNs, secondaryNs] = namespaces(prod);
      expect((secondaryNs as { location?: string }).location).toBe('westeurope');
      const [alias] = ofType(prod, 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs');
      expect(alias!.name).toBe(`${primaryNs!.name}/${primaryNs!.name}-geo`);
      expect(alias!.properties!.partnerNamespace).toBe(secondaryNs!.id);
      for (const site of [primaryApp(prod), standbyApp(prod)]) {
        expect(settingsOf(prod, site).EVENTHUB_CONNECTION__fullyQualifiedNamespace).toBe(`${primaryNs!.name}-geo.servicebus.windows.net`);
      }
      // Producers may send to whichever namespace the alias points at: the hub of the active one, the other namespace.
      const senders = ofType(failedOver, 'Microsoft.Authorization/roleAssignments').filter(
        (a) => a.properties?.principalId === PRODUCER && String(a.properties?.roleDefinitionId).endsWith(EVENT_HUBS_DATA_SENDER),
      );
      const [failedOverPrimary, failedOverSecondary] = namespaces(failedOver);
      expect(senders.map((a) => a.id.split('/providers/Microsoft.Authorization/')[0]).sort()).toEqual([failedOverPrimary!.id, `${failedOverSecondary!.id}/eventhubs/image-batches`].sort());
      // Without a secondary region there is no alias, and the app uses the namespace.
      expect(ofType(dev, 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs')).toEqual([]);
      expect(settingsOf(dev, primaryApp(dev)).EVENTHUB_CONNECTION__fullyQualifiedNamespace).toBe(`${namespaces(dev)[0]!.name}.servicebus.windows.net`);
    });

    it('after a failover (activeRegion secondary) states what the failover did: write region, alias, active app', () => {
      const [account] = ofType(failedOver, 'Microsoft.DocumentDB/databaseAccounts');
      expect(account!.properties!.locations.map((l: { locationName: string; failoverPriority: number }) => [l.locationName, l.failoverPriority])).toEqual([
        ['westeurope', 0],
        ['northeurope', 1],
      ]);
      const [primaryNs, secondaryNs] = namespaces(failedOver);
      const [alias] = ofType(failedOver, 'Microsoft.EventHub/namespaces/disasterRecoveryConfigs');
      expect(alias!.name).toBe(`${secondaryNs!.name}/${primaryNs!.name}-geo`);
      expect(alias!.properties!.partnerNamespace).toBe(primaryNs!.id);
      expect(ofType(failedOver, 'Microsoft.EventHub/namespaces/eventhubs/consumergroups').map((g) => g.name)).toEqual([`${secondaryNs!.name}/image-batches/image-pipeline`]);
      expect(settingsOf(failedOver, primaryApp(failedOver))['AzureWebJobs.ingestBatchRecords.Disabled']).toBe('true');
      expect(settingsOf(failedOver, standbyApp(failedOver))['AzureWebJobs.ingestBatchRecords.Disabled']).toBe('false');
      expect(settingsOf(failedOver, standbyApp(failedOver))['AzureWebJobs.maintenance.Disabled']).toBe('false');
    });

    it('names shared resources without the location: another primary location names the same resources', () => {
      const names = (resources: SnapshotResource[]) => resources.map((r) => `${r.type} ${r.name}`).sort();
      expect(names(elsewhere)).toEqual(names(prod));
      expect(ofType(elsewhere, 'Microsoft.DocumentDB/databaseAccounts')[0]!.properties!.locations[0].locationName).toBe('swedencentral');
    });

    it('dead-letters undelivered BlobCreated events of each region into its own storage, and gives backup servers read access only', () => {
      const subscriptions = ofType(failedOver, 'Microsoft.EventGrid/systemTopics/eventSubscriptions');
      expect(subscriptions).toHaveLength(2);
      const topics = ofType(failedOver, 'Microsoft.EventGrid/systemTopics');
      for (const subscription of subscriptions) {
        const topic = topics.find((t) => subscription.name.startsWith(`${t.name}/`))!;
        const props = subscription.properties!;
        expect(props.retryPolicy).toEqual({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
        expect(props.deadLetterWithResourceIdentity.deadLetterDestination.properties).toEqual({ resourceId: topic.properties!.source, blobContainerName: 'eventgrid-dead-letters' });
        const writers = roleAssignments(failedOver).filter((a) => String(a.properties?.principalId).includes(`systemTopics/${topic.name}'`));
        expect(writers.map((w) => w.id.split('/providers/Microsoft.Authorization/')[0])).toEqual([`${topic.properties!.source}/blobServices/default/containers/eventgrid-dead-letters`]);
      }
      const backup = roleAssignments(failedOver).filter((a) => a.properties?.principalId === BACKUP_SERVER);
      expect(backup.map((a) => String(a.properties?.roleDefinitionId).split('/').at(-1))).toEqual([COSMOS_DATA_READER]);
    });
  });

  it('puts App Service Authentication with Entra ID in front of the app: API 401 without a token, pages through to the app, no secret', () => {
    const [auth] = ofType(dev, 'Microsoft.Web/sites/config').filter((r) => r.name.endsWith('/authsettingsV2'));
    expect(auth, 'authsettingsV2 with authClientId given').toBeDefined();
    const props = auth!.properties!;
    expect(props.platform).toEqual({ enabled: true });
    expect(props.globalValidation).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
      // Pages redirect to sign-in themselves; the blob extension's webhook has its own key and Event Grid no Entra token.
      excludedPaths: ['/api/web', '/api/web/*', '/runtime/webhooks/blobs'],
    });
    expect(props.httpSettings).toEqual({ requireHttps: true });
    expect(props.identityProviders.azureActiveDirectory).toEqual({
      enabled: true,
      registration: {
        // The snapshot leaves environment() unevaluated: the cloud's login endpoint, then the deployment's tenant.
        openIdIssuer: `[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, '${SNAPSHOT_TENANT}')]`,
        clientId: AUTH_CLIENT,
        clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID',
      },
      validation: { allowedAudiences: [AUTH_CLIENT, `api://${AUTH_CLIENT}`] },
    });
    expect(props.login).toEqual({ tokenStore: { enabled: false } });

    const [settings] = ofType(dev, 'Microsoft.Web/sites/config').filter((r) => r.name.endsWith('/appsettings'));
    const values = settings!.properties!;
    expect(values.AUTH_MODE).toBe('easyauth');
    expect(values).not.toHaveProperty('WEBSITE_AUTH_ENABLED');
    // The federated credential is the app's own user-assigned identity, the one every identity-based connection uses.
    expect(values.OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID).toBe(values.AZURE_CLIENT_ID);
    expect(values.OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID).toMatch(/userAssignedIdentities/);
    expect(values).toMatchObject({ UPLOAD_RATE_PER_MINUTE: '60', UPLOAD_BYTES_PER_DAY: '10737418240' });
    expect(values.OWNER_HASH_SALT).toBeTruthy();
  });

  it('without an app registration there is no Easy Auth, and the app still trusts nobody (AUTH_MODE=easyauth)', () => {
    expect(ofType(prod, 'Microsoft.Web/sites/config').filter((r) => r.name.endsWith('/authsettingsV2'))).toEqual([]);
    const [settings] = ofType(prod, 'Microsoft.Web/sites/config').filter((r) => r.name.endsWith('/appsettings'));
    expect(settings!.properties!.AUTH_MODE).toBe('easyauth');
  });

  it('keeps upload counters in their own Cosmos container, with a TTL and the smallest autoscale maximum', () => {
    const containers = ofType(prod, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    const byName = new Map(containers.map((c) => [c.name.split('/').pop(), c.properties!]));
    expect(byName.get('usage')).toMatchObject({ resource: { id: 'usage', partitionKey: { paths: ['/id'] }, defaultTtl: 172800 }, options: { autoscaleSettings: { maxThroughput: 1000 } } });
    expect(byName.get('images')!.resource.defaultTtl).toBeNull();
    expect(byName.get('images')!.options.autoscaleSettings.maxThroughput).toBe(4000);
  });
});
