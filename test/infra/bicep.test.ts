// Infrastructure checks that run without a Bicep compiler: every template parses with the Bicep grammar, the app
// settings match src/lib/config.ts, resource names match the code, the privacy sweep exists, parameter files fit.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_SETTINGS } from '../../src/lib/config.js';
import { BLOB_CONTAINERS, COSMOS_CONTAINERS } from '../../src/lib/names.js';
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

// Settings the Functions host or the Azure SDKs read that are not app configuration of the code (src/lib/config.ts).
const HOST_ONLY_SETTINGS = new Set([
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'AZURE_CLIENT_ID',
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
    expect([...connections].sort()).toEqual(['AzureWebJobsStorage', 'COSMOS_CONNECTION', 'EVENTHUB_CONNECTION']);
    for (const c of connections) {
      expect(byName.has(c), `${c} must not be set as a connection string`).toBe(false);
      expect(evaluate(byName.get(`${c}__credential`)), `${c}__credential`).toBe('managedidentity');
      expect(byName.has(`${c}__clientId`), `${c}__clientId`).toBe(true);
    }
    expect(byName.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(byName.has('COSMOS_CONNECTION__accountEndpoint')).toBe(true);
    expect(byName.has('EVENTHUB_CONNECTION__fullyQualifiedNamespace')).toBe(true);
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

  it('Cosmos DB containers and partition keys match src/lib/names.ts, analytical store on', () => {
    const cosmos = bicep('app/cosmos.bicep');
    const resolve = fileResolver(cosmos);
    const declared = resolve('containers');
    expect(Array.isArray(declared) ? (declared as Array<{ name: string; partitionKeyPath: string }>).map(({ name, partitionKeyPath }) => ({ name, partitionKeyPath })).sort(byName) : declared).toEqual(
      [...CODE_COSMOS_CONTAINERS].sort(byName),
    );
    const sqlContainers = single(
      resourcesOfType(cosmos, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers'),
      'one Cosmos container resource (a loop)',
    );
    expect(loopSource(sqlContainers)?.text).toBe('containers');
    const resource = propertyPath(declarationBody(sqlContainers), 'properties', 'resource')!;
    expect(propertyPath(resource, 'id')?.text).toBe('container.name');
    expect(propertyPath(resource, 'partitionKey', 'paths')?.text).toMatch(/container\.partitionKeyPath/);
    expect(evaluate(propertyPath(resource, 'analyticalStorageTtl'))).toBe(-1);

    const account = single(resourcesOfType(cosmos, 'Microsoft.DocumentDB/databaseAccounts'), 'one Cosmos account');
    const props = evaluate(property(declarationBody(account), 'properties'), resolve) as Record<string, Value>;
    expect(props.enableAnalyticalStorage).toBe(true);
    expect(props.disableLocalAuth).toBe(true);
    expect(props.backupPolicy).toEqual({ type: 'Continuous', continuousModeProperties: { tier: 'Continuous30Days' } });
    expect(evaluate(findDeclaration(bicep('main.bicep'), 'parameter_declaration', 'cosmosDatabaseName')?.lastNamedChild ?? undefined)).toBe(
      APP_SETTINGS.COSMOS_DATABASE.default,
    );
    expect([...CODE_COSMOS_CONTAINERS].sort(byName)).toEqual([
      { name: 'batches', partitionKeyPath: '/id' },
      { name: 'images', partitionKeyPath: '/partitionKey' },
      { name: 'usage', partitionKeyPath: '/id' },
    ]);
  });

  it('Event Hubs defaults match the code defaults and the hub has its consumer group', () => {
    const main = bicep('main.bicep');
    const resolve = fileResolver(main);
    expect(resolve('eventHubName')).toBe(APP_SETTINGS.EVENTHUB_NAME.default);
    const eventHubs = bicep('app/eventhubs.bicep');
    expect(resourcesOfType(eventHubs, 'Microsoft.EventHub/namespaces/eventhubs/consumergroups')).toHaveLength(1);
    const ns = resourcesOfType(eventHubs, 'Microsoft.EventHub/namespaces')[0]!;
    expect(property(declarationBody(ns), 'properties')?.text).toBe('namespaceProperties');
    const nsProps = fileResolver(eventHubs)('namespaceProperties') as Record<string, Value>;
    expect(nsProps.disableLocalAuth).toBe(true);
  });
});

describe('storage privacy and security', () => {
  it('lifecycle policy deletes uploads/ (and batches/) 7 days after creation', () => {
    const storage = bicep('app/storage.bicep');
    const main = bicep('main.bicep');
    const resolve = moduleResolver(main, storage);
    const policy = single(resourcesOfType(storage, 'Microsoft.Storage/storageAccounts/managementPolicies'), 'one lifecycle policy');
    const rules = evaluate(propertyPath(declarationBody(policy), 'properties', 'policy', 'rules'), resolve) as Array<
      Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    >;
    const sweep = rules.filter(
      (r) =>
        r.enabled === true &&
        r.type === 'Lifecycle' &&
        Array.isArray(r.definition?.filters?.prefixMatch) &&
        r.definition.filters.prefixMatch.includes('uploads/'),
    );
    expect(sweep, 'an enabled lifecycle rule with prefixMatch uploads/').toHaveLength(1);
    const rule = sweep[0]!;
    expect(rule.definition.filters.prefixMatch).toContain('batches/');
    expect(rule.definition.filters.prefixMatch).toContain('deadletter/');
    expect(rule.definition.filters.prefixMatch).not.toContain('derived/');
    expect(rule.definition.filters.blobTypes).toContain('blockBlob');
    const del = rule.definition.actions.baseBlob.delete as Record<string, Value>;
    const days = del.daysAfterCreationGreaterThan ?? del.daysAfterModificationGreaterThan;
    expect(days, 'retention resolved through main.bicep').toBe(7);
    // the retention can be shortened but never raised above 7 days
    const maxValue = decoratorArguments(findDeclaration(main, 'parameter_declaration', 'transientBlobRetentionDays')!, 'maxValue');
    expect(maxValue?.map((a) => evaluate(a))).toEqual([7]);
    expect(
      decoratorArguments(findDeclaration(storage, 'parameter_declaration', 'transientBlobRetentionDays')!, 'maxValue')?.map((a) =>
        evaluate(a),
      ),
    ).toEqual([7]);
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

  it('prod turns on zone redundancy, RA-GZRS, a second Cosmos region and Event Hubs geo-DR', () => {
    const prod = JSON.parse(readFileSync(path.join(bicepDir, 'main.parameters.prod.json'), 'utf8')).parameters;
    expect(prod.zoneRedundant.value).toBe(true);
    expect(prod.storageSkuName.value).toBe('Standard_RAGZRS');
    expect(prod.cosmosSecondaryLocation.value).not.toBe('');
    expect(prod.eventHubsGeoDrSecondaryLocation.value).not.toBe('');
    expect(prod.cosmosSecondaryLocation.value).not.toBe(prod.location.value);
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
