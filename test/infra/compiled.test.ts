// The infrastructure as the real Bicep compiler sees it (infra/scripts/bicep.sh, the pinned NuGet package): the linter
// and the compiler report nothing, and deployment snapshots of both parameter files (every module expanded with the
// profile's values) have the properties that the review of infra/ found missing.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bicepDir, infraDir, repoRoot } from './bicep-ast.js';
import { bicep, compilerSkipReason, diagnostics, snapshot, type SnapshotResource, workDir } from './bicep-cli.js';

const DEPLOYER = 'aaaaaaaa-0000-4000-8000-000000000001';
const AUTH_CLIENT = 'cccccccc-0000-4000-8000-00000000c11e';
const SNAPSHOT_TENANT = '00000000-0000-0000-0000-00000000b002';
// Role definition ids (Azure built-in roles, from Azure's documentation)
const STORAGE_BLOB_DATA_CONTRIBUTOR = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';

let dev: SnapshotResource[]; // dev profile, the deployer given explicitly, the Event Grid subscription from Bicep
let prod: SnapshotResource[]; // prod profile as it is
let devServicePrincipal: SnapshotResource[]; // dev profile, principalType set by the caller

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
    [dev, prod, devServicePrincipal] = await Promise.all([
      snapshot(dir, 'main.parameters.json', devValues),
      snapshot(dir, 'main.parameters.prod.json'),
      snapshot(dir, 'main.parameters.json', { ...devValues, principalType: "'ServicePrincipal'" }),
    ]);
  }, 180_000);

  it('lints every template without a single diagnostic (bicepconfig.json makes the linter rules errors)', async () => {
    const { stdout, stderr } = await bicep('lint', '--pattern', `${path.relative(repoRoot, infraDir)}/**/*.bicep`);
    expect(diagnostics(stdout + stderr)).toEqual([]);
    const config = JSON.parse(readFileSync(path.join(bicepDir, 'bicepconfig.json'), 'utf8'));
    const levels = Object.values(config.analyzers.core.rules as Record<string, { level: string }>).map((r) => r.level);
    expect(levels.length).toBeGreaterThan(20);
    expect(new Set(levels)).toEqual(new Set(['error']));
  });

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

  it('gives the deploying person no data-plane role in prod; only the app and the Event Grid topic get roles', () => {
    const [identity] = ofType(prod, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    const [topic] = ofType(prod, 'Microsoft.EventGrid/systemTopics');
    const assignments = roleAssignments(prod);
    expect(assignments.length).toBeGreaterThanOrEqual(8);
    const holders = new Set(assignments.map((a) => String(a.properties?.principalId)));
    expect([...holders].sort()).toEqual(
      [
        `[reference('${identity!.id}', '2023-01-31').principalId]`,
        `[reference('${topic!.id}', '2022-06-15', 'full').identity.principalId]`,
      ].sort(),
    );
    // the same template does give the deployer roles when the profile asks for it (dev), so the check can fail
    expect(roleAssignments(dev).filter((a) => a.properties?.principalId === DEPLOYER).length).toBeGreaterThan(0);
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
