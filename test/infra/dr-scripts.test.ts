// infra/scripts/failover.sh and failback.sh: shellcheck, their dry runs (every command printed, none run), and real
// runs against a stand-in `az` that records its calls, to prove a dry run prints exactly what a real run does.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { infraDir, repoRoot } from './bicep-ast.js';

const scripts = path.join(infraDir, 'scripts');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

const OUTPUTS = {
  AZURE_ENV_NAME: 'image-pipeline-prod',
  AZURE_RESOURCE_GROUP: 'rg-image-pipeline-prod',
  AZURE_LOCATION: 'northeurope',
  AZURE_SECONDARY_LOCATION: 'westeurope',
  COSMOS_ACCOUNT_NAME: 'cosmos-x',
  EVENTHUB_NAMESPACE: 'evhns-x',
  EVENTHUB_SECONDARY_NAMESPACE: 'evhns-x-secondary',
  EVENTHUB_ALIAS: 'evhns-x-geo',
  AZURE_FUNCTION_APP_NAME: 'func-x',
  AZURE_STORAGE_ACCOUNT_NAME: 'stx',
  BLOB_SYSTEM_TOPIC_NAME: 'evgt-storage-x',
  SERVICE_API_BASE_URL: 'https://func-x.azurewebsites.net',
  AZURE_STANDBY_FUNCTION_APP_NAME: 'func-x-standby',
  AZURE_STANDBY_STORAGE_ACCOUNT_NAME: 'stxsb',
  STANDBY_BLOB_SYSTEM_TOPIC_NAME: 'evgt-storage-x-standby',
  STANDBY_API_BASE_URL: 'https://func-x-standby.azurewebsites.net',
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * A stand-in `az` on PATH: records every call (as a dry run prints it, shell-quoted; `postdeploy:` in front of the
 * calls postdeploy.sh makes) and answers the few queries the scripts read. `answers` maps a call's start to its output;
 * `fail` lists call starts that exit 1.
 */
function fakeAz(answers: Record<string, string[]> = {}, fail: string[] = []) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-az-'));
  dirs.push(dir);
  const log = path.join(dir, 'calls.log');
  const cases = Object.entries(answers)
    .map(([start, outputs], i) => `  "${start}"*) n=$(cat "$dir/count${i}" 2>/dev/null || echo 0); echo $((n + 1)) >"$dir/count${i}"; outputs=(${outputs.map((o) => `'${o}'`).join(' ')}); i=$((n < \${#outputs[@]} ? n : \${#outputs[@]} - 1)); echo "\${outputs[$i]}" ;;`)
    .join('\n');
  writeFileSync(
    path.join(dir, 'az'),
    `#!/usr/bin/env bash
dir=${JSON.stringify(dir)}
line=$(printf '%q ' az "$@" | sed 's/ $//')
echo "\${POSTDEPLOY_STANDBY:+postdeploy: }$line" >>"$dir/calls.log"
case "$*" in
${fail.map((start) => `  "${start}"*) exit 1 ;;`).join('\n')}
${cases}
esac
exit 0
`,
  );
  chmodSync(path.join(dir, 'az'), 0o755);
  const calls = () => {
    try {
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { dir, calls };
}

function run(script: string, args: string[], az: ReturnType<typeof fakeAz>, env: Record<string, string> = OUTPUTS) {
  const result = spawnSync('bash', [path.join(scripts, script), ...args], {
    env: { PATH: `${az.dir}:${process.env.PATH}`, HOME: process.env.HOME, DR_POLL_SECONDS: '0', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** The commands a dry run printed (comment lines left out). */
const commands = (out: string) => out.split('\n').filter((line) => line && !line.startsWith('#'));

describe.skipIf(!hasShellcheck && !process.env.CI)('shellcheck', () => {
  it('finds nothing in the disaster recovery scripts and the postdeploy hook', () => {
    const files = ['failover.sh', 'failback.sh', 'dr-common.sh', 'postdeploy.sh'].map((f) => path.relative(repoRoot, path.join(scripts, f)));
    const result = spawnSync('shellcheck', ['-x', ...files], { cwd: repoRoot, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('infra/scripts/failover.sh', () => {
  const postdeploy = path.join(scripts, 'postdeploy.sh');

  it('--dry-run prints every step and runs nothing', () => {
    const az = fakeAz({}, ['']); // any call fails
    const { code, out } = run('failover.sh', ['--dry-run'], az);
    expect(code).toBe(0);
    expect(az.calls()).toEqual([]);
    expect(commands(out)).toEqual([
      'az eventhubs georecovery-alias fail-over --resource-group rg-image-pipeline-prod --namespace-name evhns-x-secondary --alias evhns-x-geo',
      'az cosmosdb failover-priority-change --resource-group rg-image-pipeline-prod --name cosmos-x --failover-policies westeurope=0 northeurope=1',
      'az functionapp config appsettings set --resource-group rg-image-pipeline-prod --name func-x --output none --settings AzureWebJobs.ingestBatchRecords.Disabled=true AzureWebJobs.maintenance.Disabled=true',
      'az functionapp stop --resource-group rg-image-pipeline-prod --name func-x',
      'az functionapp config appsettings set --resource-group rg-image-pipeline-prod --name func-x-standby --output none --settings AzureWebJobs.ingestBatchRecords.Disabled=false AzureWebJobs.maintenance.Disabled=false',
      'az functionapp start --resource-group rg-image-pipeline-prod --name func-x-standby',
      `env POSTDEPLOY_STANDBY=1 AZURE_RESOURCE_GROUP=rg-image-pipeline-prod AZURE_FUNCTION_APP_NAME=func-x-standby AZURE_STORAGE_ACCOUNT_NAME=stxsb BLOB_SYSTEM_TOPIC_NAME=evgt-storage-x-standby sh ${postdeploy}`,
    ]);
    expect(out).toContain('API base https://func-x-standby.azurewebsites.net/api');
    expect(out).toContain('activeRegion=secondary');
  });

  it('runs exactly what the dry run printed, goes on when the lost region does not answer, and re-points Event Grid', () => {
    const dry = commands(run('failover.sh', ['--dry-run'], fakeAz()).out).filter((c) => c.startsWith('az '));
    const az = fakeAz(
      {
        'cosmosdb show': ['North Europe'],
        'functionapp keys list': ['standby-key'],
        'storage account show': ['/subscriptions/s/resourceGroups/rg-image-pipeline-prod/providers/Microsoft.Storage/storageAccounts/stxsb'],
      },
      ['functionapp stop --resource-group rg-image-pipeline-prod --name func-x'],
    );
    const { code, err } = run('failover.sh', [], az);
    expect(code).toBe(0);
    expect(err).toContain('warning: failed (the region may be down; continuing): run az functionapp stop');
    const own = az.calls().filter((c) => !c.startsWith('postdeploy: '));
    expect(own.filter((c) => !c.startsWith('az cosmosdb show'))).toEqual(dry);
    const subscription = az.calls().find((c) => c.startsWith('postdeploy: az eventgrid system-topic event-subscription create'))!;
    expect(subscription).toContain('--system-topic-name evgt-storage-x-standby');
    expect(subscription).toContain('--endpoint https://func-x-standby.azurewebsites.net/runtime/webhooks/blobs\\?functionName=Host.Functions.processUpload\\&code=standby-key');
    expect(subscription).toContain('--deadletter-identity-endpoint /subscriptions/s/resourceGroups/rg-image-pipeline-prod/providers/Microsoft.Storage/storageAccounts/stxsb/blobServices/default/containers/eventgrid-dead-letters');
  });

  it('leaves Cosmos DB alone when service-managed failover already moved the write region', () => {
    const az = fakeAz({ 'cosmosdb show': ['West Europe'], 'functionapp keys list': ['k'], 'storage account show': ['/id'] });
    expect(run('failover.sh', [], az).code).toBe(0);
    expect(az.calls().some((c) => c.includes('failover-priority-change'))).toBe(false);
  });

  it('names a missing deployment output and does nothing', () => {
    const az = fakeAz();
    const { EVENTHUB_ALIAS: _missing, ...rest } = OUTPUTS;
    const { code, err } = run('failover.sh', ['--dry-run'], az, rest);
    expect(code).toBe(2);
    expect(err).toBe('error: EVENTHUB_ALIAS is not set: export the deployment outputs first (eval "$(azd env get-values)")\n');
  });
});

describe('infra/scripts/failback.sh', () => {
  const template = path.join(scripts, '..', 'bicep', 'main.bicep');

  it('--dry-run prints the fail-forward of Event Hubs, the Cosmos DB and app switches, and runs nothing', () => {
    const az = fakeAz({}, ['']);
    const { code, out } = run('failback.sh', ['--dry-run', '--parameters', 'infra/bicep/main.parameters.prod.json'], az);
    expect(code).toBe(0);
    expect(az.calls()).toEqual([]);
    const deploy = (active: string) =>
      `az deployment sub create --name image-pipeline-${active} --location northeurope --template-file ${template} --parameters infra/bicep/main.parameters.prod.json --parameters environmentName=image-pipeline-prod location=northeurope activeRegion=${active} --output none`;
    expect(commands(out)).toEqual([
      'az functionapp start --resource-group rg-image-pipeline-prod --name func-x',
      'az eventhubs namespace delete --resource-group rg-image-pipeline-prod --name evhns-x',
      deploy('secondary'),
      'az eventhubs georecovery-alias show --resource-group rg-image-pipeline-prod --namespace-name evhns-x-secondary --alias evhns-x-geo --query pendingReplicationOperationsCount --output tsv',
      'az eventhubs georecovery-alias fail-over --resource-group rg-image-pipeline-prod --namespace-name evhns-x --alias evhns-x-geo',
      'az cosmosdb failover-priority-change --resource-group rg-image-pipeline-prod --name cosmos-x --failover-policies northeurope=0 westeurope=1',
      'az functionapp config appsettings set --resource-group rg-image-pipeline-prod --name func-x-standby --output none --settings AzureWebJobs.ingestBatchRecords.Disabled=true AzureWebJobs.maintenance.Disabled=true',
      'az functionapp config appsettings set --resource-group rg-image-pipeline-prod --name func-x --output none --settings AzureWebJobs.ingestBatchRecords.Disabled=false AzureWebJobs.maintenance.Disabled=false',
      `env POSTDEPLOY_STANDBY=1 AZURE_RESOURCE_GROUP=rg-image-pipeline-prod AZURE_FUNCTION_APP_NAME=func-x AZURE_STORAGE_ACCOUNT_NAME=stx BLOB_SYSTEM_TOPIC_NAME=evgt-storage-x sh ${path.join(scripts, 'postdeploy.sh')}`,
      'az eventhubs namespace delete --resource-group rg-image-pipeline-prod --name evhns-x-secondary',
      deploy('primary'),
    ]);
    expect(out).toContain('npx image-pipeline replay-deadletter --storage-account stx --app https://func-x.azurewebsites.net');
  });

  it('runs what the dry run printed, waiting for the pairing to replicate before failing the alias over', () => {
    const dry = commands(run('failback.sh', ['--dry-run', '--parameters', 'p.json'], fakeAz()).out).filter((c) => c.startsWith('az '));
    const az = fakeAz({ 'eventhubs georecovery-alias show': ['3', '1', '0'], 'cosmosdb show': ['West Europe'], 'functionapp keys list': ['k'], 'storage account show': ['/id'] });
    const { code } = run('failback.sh', ['--parameters', 'p.json'], az);
    expect(code).toBe(0);
    const own = az.calls().filter((c) => !c.startsWith('postdeploy: ') && !c.startsWith('az cosmosdb show'));
    const shows = own.filter((c) => c.startsWith('az eventhubs georecovery-alias show'));
    expect(shows).toHaveLength(3);
    expect(own.filter((c, i) => !(c.startsWith('az eventhubs georecovery-alias show') && own[i + 1]?.startsWith('az eventhubs georecovery-alias show')))).toEqual(dry);
  });

  it('wants the parameter file the environment was deployed with', () => {
    const { code, err } = run('failback.sh', ['--dry-run'], fakeAz());
    expect(code).toBe(2);
    expect(err).toContain('usage: failback.sh --parameters <parameter file> [--dry-run]');
  });
});
