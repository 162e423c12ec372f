// The delivery pipeline (.gitlab-ci.yml) and the package it deploys (infra/scripts/package.sh, run here for real).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startBatchHost } from '../batch/host';

const root = path.join(__dirname, '..', '..');
const run = promisify(execFile);

interface Job {
  stage?: string;
  extends?: string | string[];
  needs?: Array<string | { job: string }>;
  rules?: Array<{ if?: string; when?: string; allow_failure?: boolean }>;
  when?: string;
  script?: string[];
  before_script?: string[];
  id_tokens?: Record<string, { aud: string }>;
  environment?: { name: string };
  artifacts?: { paths?: string[] };
}

const pipeline = parse(readFileSync(path.join(root, '.gitlab-ci.yml'), 'utf8')) as Record<string, unknown> & { stages: string[] };
const jobs = Object.fromEntries(Object.entries(pipeline).filter(([name, value]) => !name.startsWith('.') && typeof value === 'object' && value !== null && 'stage' in value)) as Record<string, Job>;

/** A job with its `extends` templates merged in (GitLab merges hashes deeply; the templates here only add keys). */
function resolved(name: string): Job {
  const job = (pipeline[name] ?? jobs[name]) as Job;
  const parents = [job.extends ?? []].flat().map(resolved);
  return Object.assign({}, ...parents, job) as Job;
}
const needs = (name: string) => (resolved(name).needs ?? []).map((n) => (typeof n === 'string' ? n : n.job));
const jobsOfStage = (stage: string) => Object.keys(jobs).filter((name) => jobs[name]!.stage === stage);
const script = (name: string) => [...(resolved(name).before_script ?? []), ...(resolved(name).script ?? [])].join('\n');

describe('.gitlab-ci.yml', () => {
  it('has the stages in delivery order, each with a job', () => {
    expect(pipeline.stages).toEqual(['test', 'package', 'validate', 'deploy-dev', 'smoke', 'approve', 'deploy-prod', 'rollback']);
    for (const stage of pipeline.stages) expect(jobsOfStage(stage).length, `a job in stage ${stage}`).toBeGreaterThan(0);
    for (const [name, job] of Object.entries(jobs)) expect(pipeline.stages, `${name}'s stage`).toContain(job.stage);
  });

  it('tests with .ci/run, packages with the package script, validates with a Bicep build and what-if', () => {
    expect(script('test')).toMatch(/^bash \.ci\/run$/m);
    expect(script('package')).toMatch(/^sh infra\/scripts\/package\.sh "\$PACKAGE"$/m);
    expect(resolved('package').artifacts?.paths).toEqual(['$PACKAGE']);
    const whatIf = readFileSync(path.join(root, 'infra/scripts/pipeline/what-if.sh'), 'utf8');
    expect(whatIf).toMatch(/^az bicep build --file infra\/bicep\/main\.bicep/m);
    expect(whatIf).toMatch(/^az deployment sub what-if /m);
    expect(script('validate')).toContain('what-if.sh dev');
    expect(script('validate')).toContain('what-if.sh prod');
  });

  it('deploys only after the test and validate jobs; prod only after the manual approval and the dev smoke test', () => {
    for (const deploy of [...jobsOfStage('deploy-dev'), 'deploy-prod']) {
      expect(needs(deploy), deploy).toEqual(expect.arrayContaining(['test', 'validate', 'package']));
    }
    const [approval] = jobsOfStage('approve');
    expect(needs('deploy-prod')).toContain(approval);
    const gate = resolved(approval!).rules!.find((r) => r.when === 'manual');
    expect(gate, 'the approval is a manual job').toBeDefined();
    expect(gate!.allow_failure, 'a blocking manual job: the pipeline waits for it').toBe(false);
    expect(needs(approval!)).toEqual(jobsOfStage('smoke'));
    expect(needs(jobsOfStage('smoke')[0]!)).toContain('deploy-dev');
    expect(resolved('deploy-dev').environment?.name).toBe('dev');
    expect(resolved('deploy-prod').environment?.name).toBe('production');
  });

  it('smoke-tests with image-pipeline smoke and rolls back by redeploying the previous package, by hand', () => {
    for (const smoke of [...jobsOfStage('smoke'), 'smoke-prod']) expect(script(smoke)).toContain('infra/scripts/pipeline/smoke.sh');
    expect(readFileSync(path.join(root, 'infra/scripts/pipeline/smoke.sh'), 'utf8')).toMatch(/dist\/src\/cli\/main\.js" smoke --api /);
    const [rollback] = jobsOfStage('rollback');
    expect(resolved(rollback!).rules!.some((r) => r.when === 'manual')).toBe(true);
    expect(script(rollback!)).toContain('release.sh rollback');
    expect(script('deploy-prod').indexOf('release.sh record')).toBeLessThan(script('deploy-prod').indexOf('deploy.sh prod'));
    const release = readFileSync(path.join(root, 'infra/scripts/pipeline/release.sh'), 'utf8');
    expect(release).toMatch(/fetch previous previous\.zip[^\n]*\n\s*sh infra\/scripts\/pipeline\/deploy\.sh prod previous\.zip/);
  });

  it('signs in to Azure with a GitLab ID token (OIDC federation) and stores no secret', () => {
    const azureJobs = Object.keys(jobs).filter((name) => script(name).includes('azure-login.sh'));
    expect(azureJobs.sort()).toEqual(['deploy-dev', 'deploy-prod', 'rollback-prod', 'smoke-dev', 'smoke-prod', 'validate']);
    for (const name of azureJobs) expect(resolved(name).id_tokens, name).toEqual({ AZURE_ID_TOKEN: { aud: 'api://AzureADTokenExchange' } });
    const login = readFileSync(path.join(root, 'infra/scripts/pipeline/azure-login.sh'), 'utf8');
    expect(login).toMatch(/--federated-token "\$AZURE_ID_TOKEN"/);
    const everything = [readFileSync(path.join(root, '.gitlab-ci.yml'), 'utf8'), login].join('\n');
    expect(everything).not.toMatch(/CLIENT_SECRET|--password|-p \$|client-secret/i);
    // the federated credential that trusts those tokens
    const identity = readFileSync(path.join(root, 'infra/pipeline/ci-identity-resources.bicep'), 'utf8');
    expect(identity).toMatch(/federatedIdentityCredentials@/);
    expect(identity).toContain("'api://AzureADTokenExchange'");
    expect(readFileSync(path.join(root, 'infra/pipeline/ci-identity.bicep'), 'utf8')).toContain("subject: 'project_path:${gitlabProjectPath}:ref_type:branch:ref:${branch}'");
  });
});

/**
 * The package under test: built here with infra/scripts/package.sh, or, when IMAGE_PIPELINE_PACKAGE names a zip,
 * that zip. .ci/run builds it once with the same script and passes it to both suite runs (Node 20 and 22), since
 * building it takes minutes on a loaded machine.
 */
describe('infra/scripts/package.sh', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'package-test-'));
  const zip = process.env.IMAGE_PIPELINE_PACKAGE ?? path.join(dir, 'image-pipeline.zip');
  let entries: string[];

  beforeAll(async () => {
    if (!process.env.IMAGE_PIPELINE_PACKAGE) await run('sh', [path.join(root, 'infra/scripts/package.sh'), zip], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    entries = execFileSync('unzip', ['-Z1', zip], { maxBuffer: 64 * 1024 * 1024 }).toString().trim().split('\n');
    execFileSync('unzip', ['-q', zip, '-d', path.join(dir, 'app')]);
  }, 600_000);

  it("holds the app, host.json, web/ and sharp's Linux x64 binary with its libvips", () => {
    expect(entries).toEqual(expect.arrayContaining(['host.json', 'package.json', 'dist/src/functions/http.js', 'dist/src/functions/ingest.js', 'web/upload.html']));
    const sharpVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/sharp/package.json'), 'utf8')).version as string;
    expect(entries).toContain(`node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-${sharpVersion}.node`);
    expect(entries.some((e) => /^node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so\.[\d.]+$/.test(e))).toBe(true);
    // no other platform's binaries, no tests, benchmarks or local host (but the file the CLI reads to find a running one)
    expect(entries.filter((e) => /@img\/sharp-(?!linux-x64|libvips-linux-x64)/.test(e))).toEqual([]);
    const cliReadsIt = ['dist/src/local/', 'dist/src/local/local-host-file.js'];
    expect(entries.filter((e) => /^(dist\/(test|bench|src\/local)|test|bench|infra|src)\//.test(e) && !cliReadsIt.includes(e))).toEqual([]);
    expect(entries).toContain('dist/src/local/local-host-file.js');
  });

  it('holds no development dependency (as package-lock.json marks them)', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }> };
    const devOnly = Object.entries(lock.packages)
      .filter(([where, info]) => where.startsWith('node_modules/') && info.dev)
      .map(([where]) => `${where}/package.json`);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((file) => entries.includes(file))).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // A development dependency that a production package needs too (@types/node through protobufjs, for one) is not
    // dev in the lock, and ships; every other one stays out.
    const [shipped, devOnlyNames] = [false, true].map((dev) => Object.keys(pkg.devDependencies).filter((name) => Boolean(lock.packages[`node_modules/${name}`]?.dev) === dev));
    const neededInProduction = (name: string) => Object.entries(lock.packages).some(([where, info]) => !info.dev && where.startsWith('node_modules/') && info.dependencies?.[name]);
    for (const name of shipped) expect(neededInProduction(name), `${name} ships: a production package depends on it`).toBe(true);
    for (const name of devOnlyNames) expect(entries, name).not.toContain(`node_modules/${name}/package.json`);
    for (const name of Object.keys(pkg.dependencies)) expect(entries, name).toContain(`node_modules/${name}/package.json`);
  });

  it('runs: the packaged CLI passes the smoke test against the local host, with the packaged sharp', async () => {
    const host = await startBatchHost();
    try {
      const { stdout } = await run(process.execPath, [path.join(dir, 'app/dist/src/cli/main.js'), 'smoke', '--api', host.apiUrl, '--timeout', '60'], { cwd: path.join(dir, 'app') });
      expect(stdout).toContain(`image-pipeline smoke: passed against ${host.apiUrl}`);
      const { stdout: resolvedSharp } = await run(process.execPath, ['-p', "require.resolve('sharp')"], { cwd: path.join(dir, 'app') });
      expect(resolvedSharp.trim().startsWith(path.join(dir, 'app', 'node_modules'))).toBe(true);
    } finally {
      await host.stop();
    }
  });

  afterAll(() => execFileSync('rm', ['-rf', dir]));
});
