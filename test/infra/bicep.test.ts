// Infrastructure checks that run without a Bicep compiler: every template parses with the Bicep grammar, the app
// settings match src/lib/config.ts, resource names match the code, the privacy sweep exists, parameter files fit.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_SETTINGS, MAX_RETENTION_DAYS } from '../../src/lib/config.js';
import { ANALYTICS_CONTAINER, BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../src/lib/names.js';
import {
  type BicepFile,
  bicepDir,
  bicepParser,
  declarationBody,
  declarationName,
  declarations,
  declaredTypeOrPath,
  decoratorArguments,
  evaluate,
  fileResolver,
  findDeclaration,
  infraDir,
  isExisting,
  listBicepFiles,
  loopSource,
  moduleResolver,
  objectProperties,
  parseBicepFile,
  property,
  propertyPath,
  repoRoot,
  syntaxProblems,
  UNKNOWN,
  type Value,
} from './bicep-ast.js';
import { BLOB_RECEIPTS_PREFIX, lifecycleViolations } from './retention-rules.js';

// Settings the Functions host or the Azure SDKs read that are not app configuration of the code (src/lib/config.ts).
// Application Insights settings are in APP_SETTINGS too: the app's own OpenTelemetry export reads them.
const HOST_ONLY_SETTINGS = new Set([
  'AZURE_CLIENT_ID',
  // The Functions host's request body limit: raised above the web batch limit (200 MiB), which the app enforces.
  'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT',
  // The Functions host's switch for one function: off in the standby region (failover.sh turns them on there).
  'AzureWebJobs.ingestBatchRecords.Disabled',
  'AzureWebJobs.maintenance.Disabled',
  // Easy Auth's sign-in uses the app's managed identity as a federated credential of the app registration
  'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID',
]);

// The code's names (src/lib/names.ts), in the shape the Bicep declares them.
const CODE_BLOB_CONTAINERS: string[] = Object.values(BLOB_CONTAINERS);
const CODE_COSMOS_CONTAINERS = Object.values(COSMOS_CONTAINERS).map((c) => ({ name: c.id, partitionKeyPath: c.partitionKeyPath }));
const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

const files = new Map<string, BicepFile>();
const bicep = (relativeToBicepDir: string): BicepFile => {
  const file = files.get(path.join(bicepDir, relativeToBicepDir));
  if (!file) throw new Error(`infra/bicep/${relativeToBicepDir} not found`);
  return file;
};

function resourcesOfType(file: BicepFile, typePrefix: string) {
  return declarations(file, 'resource_declaration').filter(
    (r) => declaredTypeOrPath(r).toLowerCase().startsWith(`${typePrefix.toLowerCase()}@`) && !isExisting(r),
  );
}

function single<T>(items: T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0]!;
}

beforeAll(async () => {
  for (const file of listBicepFiles()) files.set(file, await parseBicepFile(file));
});

describe('Bicep syntax (tree-sitter-bicep grammar)', () => {
  it('finds the templates', () => {
    const relative = [...files.values()].map((f) => f.relative.split(path.sep).join('/'));
    expect(relative).toContain('infra/bicep/main.bicep');
    expect(relative.length).toBeGreaterThanOrEqual(5);
  });

  it('parses every .bicep file under infra/ without ERROR or MISSING nodes', () => {
    const problems = [...files.values()].flatMap((f) => syntaxProblems(f.root, f.relative));
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('reports broken Bicep with file:line:column (the check cannot pass vacuously)', async () => {
    const parser = await bicepParser();
    const broken: Record<string, string> = {
      'unclosed-object.bicep': "param location string\nresource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n  location: location\n",
      'dangling-assignment.bicep': "var a = 'ok'\nparam p string =\nvar b = [\n  1\n",
      'bad-token.bicep': "var ok = 1\nresource r 'T@1' = { name: 'n' properties: { a: 1 } ) }\n",
    };
    for (const [name, source] of Object.entries(broken)) {
      const tree = parser.parse(source)!;
      const problems = syntaxProblems(tree.rootNode, name);
      expect(problems.length, `${name} should be reported`).toBeGreaterThan(0);
      for (const p of problems) expect(p).toMatch(new RegExp(`^${name.replace('.', '\\.')}:\\d+:\\d+: `));
    }
    // and a well-formed snippet is not
    const fine = parser.parse("param p string = 'x'\nvar v = {\n  a: [\n    p\n  ]\n}\n")!;
    expect(syntaxProblems(fine.rootNode, 'fine.bicep')).toEqual([]);
  });

  it('every local module that main.bicep references exists and parses', () => {
    const main = bicep('main.bicep');
    const modules = declarations(main, 'module_declaration').map(declaredTypeOrPath);
    const local = modules.filter((m) => !m.startsWith('br/') && !m.startsWith('br:') && !m.startsWith('ts/'));
    expect(local.length).toBeGreaterThan(0);
    for (const m of local) expect(files.has(path.join(bicepDir, m)), `module ${m}`).toBe(true);
    // registry modules (br/, ts/) cannot be restored where CI runs, and the compiler needs them all
    expect(modules.filter((m) => m !== undefined && !local.includes(m))).toEqual([]);
  });
});

describe('app settings match src/lib/config.ts APP_SETTINGS', () => {
  function bicepAppSettings() {
    const candidates = [...files.values()].flatMap((file) =>
      resourcesOfType(file, 'Microsoft.Web/sites/config')
        .filter((r) => evaluate(property(declarationBody(r), 'name')) === 'appsettings')
        .map((r) => ({ file, resource: r })),
    );
    const { file, resource } = single(candidates, 'one Microsoft.Web/sites/config appsettings resource');
    const settings = property(declarationBody(resource), 'properties');
    expect(settings?.type, 'appsettings properties must be an object literal (no union(), no spreads)').toBe('object');
    const entries = objectProperties(settings!);
    for (const e of entries) expect(e.key, `app setting key at ${e.node.startPosition.row + 1}`).toBeDefined();
    return { file, entries: entries.map((e) => ({ name: e.key!, value: e.value })) };
  }

  const azureSettings = Object.entries(APP_SETTINGS)
    .filter(([, s]) => s.scope === 'azure')
    .map(([name]) => name);
  const localSettings = Object.entries(APP_SETTINGS)
    .filter(([, s]) => s.scope === 'local')
    .map(([name]) => name);

  it('sets every azure-scoped setting, plainly or identity-based (NAME__property)', () => {
    const names = bicepAppSettings().entries.map((e) => e.name);
    expect(azureSettings.length).toBeGreaterThan(0);
    const missing = azureSettings.filter((s) => !names.includes(s) && !names.some((n) => n.startsWith(`${s}__`)));
    expect(missing, `azure-scoped settings not set by the Bicep: ${missing.join(', ')}`).toEqual([]);
  });

  it('sets nothing that is neither in APP_SETTINGS (azure scope) nor a host-only setting', () => {
    const names = bicepAppSettings().entries.map((e) => e.name);
    const unknown = names.filter((n) => {
      const base = n.split('__')[0]!;
      return !HOST_ONLY_SETTINGS.has(n) && !azureSettings.includes(base);
    });
    expect(unknown, `app settings unknown to src/lib/config.ts: ${unknown.join(', ')}`).toEqual([]);
    const local = names.filter((n) => localSettings.includes(n.split('__')[0]!));
    expect(local, `local-only settings must not be deployed: ${local.join(', ')}`).toEqual([]);
    for (const hostOnly of HOST_ONLY_SETTINGS) expect(names, `host-only allow-list entry ${hostOnly}`).toContain(hostOnly);
    // What the platform injects is never set by us: WEBSITE_AUTH_ENABLED set by hand would make a forged
    // X-MS-CLIENT-PRINCIPAL believed without Easy Auth in front.
    const platform = Object.entries(APP_SETTINGS).filter(([, s]) => s.scope === 'platform').map(([name]) => name);
    expect(platform).toContain('WEBSITE_AUTH_ENABLED');
    expect(names.filter((n) => platform.includes(n.split('__')[0]!))).toEqual([]);
    expect(new Set(names).size, 'duplicate app setting').toBe(names.length);
  });

  it('uses identity-based connections only: managedidentity credential, client id, no keys', () => {
    const { file, entries } = bicepAppSettings();
    const byName = new Map(entries.map((e) => [e.name, e.value]));
    const connections = new Set(entries.filter((e) => e.name.includes('__')).map((e) => e.name.split('__')[0]!));
    expect([...connections].sort()).toEqual(['ANALYTICS_STORAGE', 'AzureWebJobsStorage', 'COSMOS_CONNECTION', 'EVENTHUB_CONNECTION']);
    for (const c of connections) {
      expect(byName.has(c), `${c} must not be set as a connection string`).toBe(false);
      expect(evaluate(byName.get(`${c}__credential`)), `${c}__credential`).toBe('managedidentity');
      expect(byName.has(`${c}__clientId`), `${c}__clientId`).toBe(true);
    }
    expect(byName.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(byName.has('COSMOS_CONNECTION__accountEndpoint')).toBe(true);
    expect(byName.has('EVENTHUB_CONNECTION__fullyQualifiedNamespace')).toBe(true);
    expect(byName.has('ANALYTICS_STORAGE__blobServiceUri')).toBe(true);
    expect(evaluate(byName.get('BLOB_TRIGGER_SOURCE'))).toBe('EventGrid');
    expect(byName.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.text).toMatch(/ClientId=\$\{[^}]+\};Authorization=AAD/);
    const source = readFileSync(file.path, 'utf8');
    expect(source).not.toMatch(/listKeys\(|listConnectionStrings\(|AccountKey=|SharedAccessKey/);
    // the function app resource itself carries no second set of app settings
    const site = single(resourcesOfType(file, 'Microsoft.Web/sites'), 'one function app');
    expect(propertyPath(declarationBody(site), 'properties', 'siteConfig', 'appSettings')).toBeUndefined();
  });
});

describe('resource names match the code', () => {
  it('blob containers match src/lib/names.ts (plus the deployment package container)', () => {
    const storage = bicep('app/storage.bicep');
    const resolve = moduleResolver(bicep('main.bicep'), storage);
    const declared = evaluate(findDeclaration(storage, 'variable_declaration', 'appContainerNames')?.lastNamedChild ?? undefined);
    expect(Array.isArray(declared) ? [...declared].sort() : declared).toEqual([...CODE_BLOB_CONTAINERS].sort());
    const containers = single(
      resourcesOfType(storage, 'Microsoft.Storage/storageAccounts/blobServices/containers'),
      'one blob container resource (a loop)',
    );
    expect(loopSource(containers)?.text).toMatch(/appContainerNames/);
    expect(loopSource(containers)?.text).toMatch(/deploymentContainerName/);
    expect(resolve('appContainerNames')).toEqual(declared);
    // the names the docs and the issue promise
    expect([...CODE_BLOB_CONTAINERS].sort()).toEqual(['batches', 'deadletter', 'derived', 'uploads']);
  });

  it('Cosmos DB containers and partition keys match src/lib/names.ts, an analytical store on the de-identified facts only, 7-day continuous backup', () => {
    const cosmos = bicep('app/cosmos.bicep');
    const resolve = fileResolver(cosmos);
    const declared = resolve('containers') as Array<{ name: string; partitionKeyPath: string; analyticalStorageTtl: Value }>;
    expect(declared.map(({ name, partitionKeyPath }) => ({ name, partitionKeyPath })).sort(byName)).toEqual([...CODE_COSMOS_CONTAINERS].sort(byName));
    // The de-identified facts are in the analytical store for good; the counters are not in it at all.
    expect(declared.find((c) => c.name === 'facts')?.analyticalStorageTtl).toBe(-1);
    expect(declared.find((c) => c.name === 'stats')?.analyticalStorageTtl).toBeNull();
    // No analytical store on containers that hold personal fields: it would keep them after the sweep removes them.
    expect(declared.find((c) => c.name === 'images')?.analyticalStorageTtl).toBeNull();
    expect(declared.find((c) => c.name === 'batches')?.analyticalStorageTtl).toBeNull();
    const sqlContainers = single(
      resourcesOfType(cosmos, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers'),
      'one Cosmos container resource (a loop)',
    );
    expect(loopSource(sqlContainers)?.text).toBe('containers');
    const resource = propertyPath(declarationBody(sqlContainers), 'properties', 'resource')!;
    expect(propertyPath(resource, 'id')?.text).toBe('container.name');
    expect(propertyPath(resource, 'partitionKey', 'paths')?.text).toMatch(/container\.partitionKeyPath/);
    expect(propertyPath(resource, 'analyticalStorageTtl')?.text).toBe('container.analyticalStorageTtl');

    const account = single(resourcesOfType(cosmos, 'Microsoft.DocumentDB/databaseAccounts'), 'one Cosmos account');
    const props = evaluate(property(declarationBody(account), 'properties'), resolve) as Record<string, Value>;
    expect(props.enableAnalyticalStorage).toBe(true);
    expect(props.disableLocalAuth).toBe(true);
    expect(props.backupPolicy).toEqual({ type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } });
    expect(evaluate(findDeclaration(bicep('main.bicep'), 'parameter_declaration', 'cosmosDatabaseName')?.lastNamedChild ?? undefined)).toBe(
      APP_SETTINGS.COSMOS_DATABASE.default,
    );
    expect([...CODE_COSMOS_CONTAINERS].sort(byName)).toEqual([
      { name: 'batches', partitionKeyPath: '/id' },
      { name: 'facts', partitionKeyPath: '/day' },
      { name: 'images', partitionKeyPath: '/partitionKey' },
      { name: 'stats', partitionKeyPath: '/id' },
      { name: 'usage', partitionKeyPath: '/id' },
    ]);
  });

  it('Event Hubs defaults match the code defaults and the hub has its consumer group', () => {
    const main = bicep('main.bicep');
    const resolve = fileResolver(main);
    expect(resolve('eventHubName')).toBe(APP_SETTINGS.EVENTHUB_NAME.default);
    const eventHubs = bicep('app/eventhubs.bicep');
    // On the active namespace: the primary's, or after a failover the secondary's (the pairing copies them to the other).
    const groups = resourcesOfType(eventHubs, 'Microsoft.EventHub/namespaces/eventhubs/consumergroups');
    expect(groups.map((g) => property(declarationBody(g), 'parent')?.text)).toEqual(['hub', 'secondaryHub']);
    expect(groups.map((g) => property(declarationBody(g), 'name')?.text)).toEqual(['consumerGroupName', 'consumerGroupName']);
    const ns = resourcesOfType(eventHubs, 'Microsoft.EventHub/namespaces')[0]!;
    expect(property(declarationBody(ns), 'properties')?.text).toBe('namespaceProperties');
    const nsProps = fileResolver(eventHubs)('namespaceProperties') as Record<string, Value>;
    expect(nsProps.disableLocalAuth).toBe(true);
  });
});

describe('storage privacy and security', () => {
  /** The lifecycle rules of a storage.bicep (the real one, or a changed copy) with these parameter values. */
  function lifecycleRules(storage: BicepFile, values: Record<string, number>) {
    const resolve = fileResolver(storage, (name) => values[name] ?? UNKNOWN);
    const policy = single(resourcesOfType(storage, 'Microsoft.Storage/storageAccounts/managementPolicies'), 'one lifecycle policy');
    return evaluate(propertyPath(declarationBody(policy), 'properties', 'policy', 'rules'), resolve) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  const range = (file: BicepFile, name: string) => {
    const [min] = decoratorArguments(findDeclaration(file, 'parameter_declaration', name)!, 'minValue')!.map((a) => evaluate(a) as number);
    const [max] = decoratorArguments(findDeclaration(file, 'parameter_declaration', name)!, 'maxValue')!.map((a) => evaluate(a) as number);
    return Array.from({ length: max - min + 1 }, (_, i) => min + i);
  };

  /** Every container of the code's, and the blob trigger's receipts (the Event Grid container's name is interpolated: test/infra/compiled.test.ts). */
  const imagePrefixes = [...CODE_BLOB_CONTAINERS.map((c) => `${c}/`), BLOB_RECEIPTS_PREFIX];

  /** Violations of storage.bicep's rules for every allowed retention and soft-delete value of main.bicep. */
  function violationsForEveryAllowedValue(storage: BicepFile): string[] {
    const main = bicep('main.bicep');
    return range(main, 'retentionDays').flatMap((retentionDays) =>
      range(main, 'blobSoftDeleteRetentionDays').flatMap((softDeleteDays) =>
        lifecycleViolations(lifecycleRules(storage, { retentionDays, softDeleteRetentionDays: softDeleteDays }), { retentionDays, softDeleteDays, prefixes: imagePrefixes }).map(
          (problem) => `retentionDays ${retentionDays}, soft delete ${softDeleteDays}: ${problem}`,
        ),
      ),
    );
  }

  /** storage.bicep with `change` applied to its text, parsed. */
  async function changedStorage(change: (source: string) => string): Promise<BicepFile> {
    const source = readFileSync(bicep('app/storage.bicep').path, 'utf8');
    const changed = change(source);
    expect(changed, 'the change applies').not.toBe(source);
    const dir = mkdtempSync(path.join(tmpdir(), 'storage-bicep-'));
    writeFileSync(path.join(dir, 'storage.bicep'), changed);
    return parseBicepFile(path.join(dir, 'storage.bicep'));
  }

  it('every container holding image bytes or names is under a creation-based lifecycle rule, whose age + run delay + soft delete stays within the policy for every allowed value', () => {
    expect(violationsForEveryAllowedValue(bicep('app/storage.bicep'))).toEqual([]);
    // The arithmetic as it resolves through main.bicep's defaults: 7 days - 2 days of run delay - 1 day of soft delete.
    const rules = lifecycleRules(bicep('app/storage.bicep'), { retentionDays: 7, softDeleteRetentionDays: 1 });
    expect(rules.map((r) => r.definition.actions.baseBlob.delete)).toEqual([{ daysAfterCreationGreaterThan: 4 }]);
    // The policy is RETENTION_DAYS: the same maximum and default as the code, passed to storage and the app setting.
    const main = bicep('main.bicep');
    expect(range(main, 'retentionDays').at(-1)).toBe(MAX_RETENTION_DAYS);
    expect(fileResolver(main)('retentionDays')).toBe(Number(APP_SETTINGS.RETENTION_DAYS.default));
    const storageModule = declarations(main, 'module_declaration').find((m) => declaredTypeOrPath(m) === 'app/storage.bicep')!;
    expect(property(property(declarationBody(storageModule), 'params')!, 'retentionDays')?.text).toBe('retentionDays');
    expect(property(property(declarationBody(storageModule), 'params')!, 'softDeleteRetentionDays')?.text).toBe('blobSoftDeleteRetentionDays');
  });

  it('fails when a rule counts from the last modification, when snapshots or versions are kept longer, when a container is left out, when the margin shrinks', async () => {
    const cases: Array<[string, (source: string) => string, RegExp]> = [
      ['modification-based', (s) => s.replace('daysAfterCreationGreaterThan', 'daysAfterModificationGreaterThan'), /baseBlob deletion counts from daysAfterModificationGreaterThan/],
      ['snapshots kept longer', (s) => s.replace(/(snapshot: \{\s*delete: \{\s*daysAfterCreationGreaterThan: )lifecycleDeleteAfterDays/, '$1lifecycleDeleteAfterDays + 1'), /snapshots under uploads\/ can live 5 \+ 2 \+ 1 = 8 days/],
      ['versions never deleted', (s) => s.replace(/\s*version: \{\s*delete: \{\s*daysAfterCreationGreaterThan: lifecycleDeleteAfterDays\s*\}\s*\}/, ''), /versions under uploads\/ are never deleted/],
      ['derivatives left out', (s) => s.replace("  'derived/'\n", ''), /derived\/ is under no enabled lifecycle rule/],
      ['no margin for the run delay', (s) => s.replace('var lifecycleRunDelayDays = 2', 'var lifecycleRunDelayDays = 1'), /can live 5 \+ 2 \+ 1 = 8 days, over the 7-day policy/],
      ['rule disabled', (s) => s.replace(/(name: 'privacy-retention'\s*)enabled: true/, '$1enabled: false'), /uploads\/ is under no enabled lifecycle rule/],
    ];
    for (const [what, change, expected] of cases) {
      const violations = violationsForEveryAllowedValue(await changedStorage(change));
      expect(violations.join('\n'), what).toMatch(expected);
    }
  });

  it('soft delete stays at most 1 day and versioning is off, so deleted uploads do not linger', () => {
    const storage = bicep('app/storage.bicep');
    const main = bicep('main.bicep');
    for (const [file, name] of [
      [main, 'blobSoftDeleteRetentionDays'],
      [storage, 'softDeleteRetentionDays'],
    ] as const) {
      const max = decoratorArguments(findDeclaration(file, 'parameter_declaration', name)!, 'maxValue');
      expect(max?.map((a) => evaluate(a)), `${name} @maxValue`).toEqual([1]);
    }
    const blobService = single(resourcesOfType(storage, 'Microsoft.Storage/storageAccounts/blobServices'), 'blob service');
    expect(evaluate(propertyPath(declarationBody(blobService), 'properties', 'isVersioningEnabled'))).toBe(false);
  });

  it('storage account: no shared keys, no public blobs, TLS 1.2, ZRS or RA-GZRS', () => {
    const storage = bicep('app/storage.bicep');
    const account = single(resourcesOfType(storage, 'Microsoft.Storage/storageAccounts'), 'one storage account');
    const props = evaluate(property(declarationBody(account), 'properties')) as Record<string, Value>;
    expect(props.allowSharedKeyAccess).toBe(false);
    expect(props.allowBlobPublicAccess).toBe(false);
    expect(props.minimumTlsVersion).toBe('TLS1_2');
    const allowed = decoratorArguments(findDeclaration(bicep('main.bicep'), 'parameter_declaration', 'storageSkuName')!, 'allowed');
    expect(allowed?.map((a) => evaluate(a))).toEqual([['Standard_ZRS', 'Standard_RAGZRS']]);
  });
});

describe('function app', () => {
  it('Flex Consumption FC1, Node 22, user-assigned identity, durable always-ready group', () => {
    const fn = bicep('app/function-app.bicep');
    const resolve = moduleResolver(bicep('main.bicep'), fn);
    const plan = single(resourcesOfType(fn, 'Microsoft.Web/serverfarms'), 'one plan');
    expect(evaluate(property(declarationBody(plan), 'sku'))).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(propertyPath(declarationBody(plan), 'properties', 'zoneRedundant')?.text).toBe('zoneRedundant');
    const site = single(resourcesOfType(fn, 'Microsoft.Web/sites'), 'one site');
    const config = propertyPath(declarationBody(site), 'properties', 'functionAppConfig')!;
    expect(evaluate(property(config, 'runtime'))).toEqual({ name: 'node', version: '22' });
    expect(evaluate(propertyPath(config, 'deployment', 'storage', 'type'))).toBe('blobContainer');
    expect(evaluate(propertyPath(declarationBody(site), 'identity', 'type'))).toBe('UserAssigned');
    expect(propertyPath(config, 'scaleAndConcurrency', 'alwaysReady')?.text).toBe('alwaysReady');
    expect(resolve('alwaysReady')).toEqual([{ name: 'durable', instanceCount: 1 }]);
  });
});

describe('parameter files and azure.yaml', () => {
  const main = () => bicep('main.bicep');
  const paramFiles = readdirSync(bicepDir).filter((f) => /\.parameters(\.[\w-]+)?\.json$/.test(f));

  it('has the dev and prod parameter files', () => {
    expect(paramFiles).toEqual(expect.arrayContaining(['main.parameters.json', 'main.parameters.prod.json']));
  });

  it('parameter files parse and name only parameters of main.bicep, with every required one', () => {
    const params = declarations(main(), 'parameter_declaration');
    const names = params.map(declarationName);
    const required = params.filter((p) => p.namedChildren.filter((c) => c?.type !== 'comment').length < 3).map(declarationName);
    expect(required.sort()).toEqual(['environmentName', 'location']);
    for (const f of paramFiles) {
      const json = JSON.parse(readFileSync(path.join(bicepDir, f), 'utf8')) as { parameters: Record<string, { value: unknown }> };
      const unknown = Object.keys(json.parameters).filter((n) => !names.includes(n));
      expect(unknown, `${f}: parameters not in main.bicep`).toEqual([]);
      for (const r of required) expect(json.parameters[r], `${f}: ${r}`).toBeDefined();
      for (const [name, { value }] of Object.entries(json.parameters)) {
        if (typeof value === 'string' && value.startsWith('${')) continue; // azd substitutes these
        const decl = params.find((p) => declarationName(p) === name)!;
        const type = decl.namedChildren.find((c) => c?.type === 'type')?.text;
        const expected = { string: 'string', int: 'number', bool: 'boolean', array: 'object', object: 'object' }[type ?? ''];
        expect(typeof value, `${f}: ${name} (${type})`).toBe(expected);
        const allowed = decoratorArguments(decl, 'allowed');
        if (allowed) expect(evaluate(allowed[0]) as Value[], `${f}: ${name} @allowed`).toContain(value);
      }
    }
  });

  it('prod turns on zone redundancy, RA-GZRS and a second region (standby app, Cosmos DB region, Event Hubs geo-DR)', () => {
    const prod = JSON.parse(readFileSync(path.join(bicepDir, 'main.parameters.prod.json'), 'utf8')).parameters;
    expect(prod.zoneRedundant.value).toBe(true);
    expect(prod.storageSkuName.value).toBe('Standard_RAGZRS');
    expect(prod.secondaryLocation.value).not.toBe('');
    expect(prod.secondaryLocation.value).not.toBe(prod.location.value);
    expect(prod.activeRegion).toBeUndefined(); // the default, primary: only a failover changes it
  });

  it('azure.yaml points azd at infra/bicep and deploys the repo root as a TypeScript function app', () => {
    const yaml = readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^infra:\s*\n(?:\s+.*\n)*?\s+path:\s*infra\/bicep\s*$/m);
    expect(yaml).toMatch(/^\s+project:\s*\.\s*$/m);
    expect(yaml).toMatch(/^\s+language:\s*ts\s*$/m);
    expect(yaml).toMatch(/^\s+host:\s*function\s*$/m);
    for (const hook of yaml.matchAll(/run:\s*(\S+)/g)) expect(existsSync(path.join(repoRoot, hook[1]!)), hook[1]).toBe(true);
    const postdeploy = readFileSync(path.join(infraDir, 'scripts/postdeploy.sh'), 'utf8');
    expect(postdeploy).toContain('systemKeys.blobs_extension');
    expect(postdeploy).toContain('runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}');
    expect(postdeploy).toContain('FUNCTION_NAME="${FUNCTION_NAME:-processUpload}"');
    expect(postdeploy).toContain('/blobServices/default/containers/${UPLOADS_CONTAINER_NAME}/');
    expect(postdeploy).toContain('Microsoft.Storage.BlobCreated');
  });

  it('every output the postdeploy hook reads is a main.bicep output', () => {
    const outputs = declarations(main(), 'output_declaration').map(declarationName);
    const script = readFileSync(path.join(infraDir, 'scripts/postdeploy.sh'), 'utf8');
    for (const v of ['AZURE_FUNCTION_APP_NAME', 'AZURE_RESOURCE_GROUP', 'BLOB_SYSTEM_TOPIC_NAME', 'UPLOADS_CONTAINER_NAME', 'AZURE_STORAGE_ACCOUNT_NAME', 'DEAD_LETTER_CONTAINER_NAME']) {
      expect(script).toContain(v);
      expect(outputs).toContain(v);
    }
    expect(UNKNOWN).toBeTypeOf('symbol');
  });
});

describe('analytics', () => {
  it('exports go to a Data Lake Storage Gen2 account of their own, Entra ID only', () => {
    const file = bicep('app/analytics-storage.bicep');
    const account = single(resourcesOfType(file, 'Microsoft.Storage/storageAccounts'), 'one analytics account');
    const props = evaluate(property(declarationBody(account), 'properties')) as Record<string, Value>;
    expect(props.isHnsEnabled).toBe(true);
    expect(props.allowSharedKeyAccess).toBe(false);
    expect(props.allowBlobPublicAccess).toBe(false);
    expect(evaluate(findDeclaration(bicep('main.bicep'), 'variable_declaration', 'analyticsContainerName')?.lastNamedChild ?? undefined)).toBe(ANALYTICS_CONTAINER);
  });

  it('analysts get Blob Data Reader on the analytics container and readMetadata + readAnalytics on the facts container only', () => {
    const file = bicep('app/analyst-rbac.bicep');
    const role = single(resourcesOfType(file, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions'), 'one custom role');
    const permissions = evaluate(propertyPath(declarationBody(role), 'properties', 'permissions')) as Array<{ dataActions: string[] }>;
    expect(permissions).toEqual([{ dataActions: ['Microsoft.DocumentDB/databaseAccounts/readMetadata', 'Microsoft.DocumentDB/databaseAccounts/readAnalytics'] }]);
    const assignment = single(resourcesOfType(file, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments'), 'one Cosmos assignment');
    expect(propertyPath(declarationBody(assignment), 'properties', 'scope')?.text).toMatch(/\/colls\/\$\{factsContainerName\}/);
    const reader = single(resourcesOfType(file, 'Microsoft.Authorization/roleAssignments'), 'one Azure role assignment');
    expect(property(declarationBody(reader), 'scope')?.text).toBe('analyticsContainer');
    expect(evaluate(findDeclaration(file, 'variable_declaration', 'storageBlobDataReader')?.lastNamedChild ?? undefined)).toBe('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1');
    // Fabric mirroring of a private account comes through the Azure services bypass.
    const account = single(resourcesOfType(bicep('app/cosmos.bicep'), 'Microsoft.DocumentDB/databaseAccounts'), 'one Cosmos account');
    expect(propertyPath(declarationBody(account), 'properties', 'networkAclBypass')?.text).toBe("vnetEnabled ? 'AzureServices' : 'None'");
  });
});
