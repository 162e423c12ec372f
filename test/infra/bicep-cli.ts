// The real Bicep CLI for the infrastructure tests: infra/scripts/bicep.sh restores the pinned NuGet package
// (infra/tools/bicep-cli.csproj) and runs it. Tests compile the templates and take `bicep snapshot`s, which evaluate
// main.bicep with a parameter file into the resources a deployment would create (every module expanded), so they
// assert on what Azure would receive rather than on the source text.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bicepDir, infraDir } from './bicep-ast.js';

const run = promisify(execFile);
const script = path.join(infraDir, 'scripts', 'bicep.sh');

const hasDotnet = (() => {
  try {
    execFileSync('dotnet', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Without the .NET SDK the compiler cannot be restored: the tests are skipped with this reason on a workstation, and
 * fail in CI, where a skipped compile would hide a broken template.
 */
export const compilerSkipReason = !hasDotnet && !process.env.CI ? 'the .NET SDK (dotnet) is absent, so the Bicep CLI cannot be restored; compiler tests skipped' : undefined;

/** Runs the Bicep CLI; resolves with its stderr (the diagnostics), rejects on a non-zero exit. */
export async function bicep(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('sh', [script, ...args], { maxBuffer: 64 * 1024 * 1024 });
}

/** Diagnostic lines (`file(line,col) : Warning BCP081: ...`) in CLI output. */
export const diagnostics = (output: string): string[] => output.split('\n').filter((line) => /\) : (Warning|Error|Info) /.test(line));

export const workDir = (): string => mkdtempSync(path.join(tmpdir(), 'bicep-test-'));

export interface SnapshotResource {
  id: string;
  type: string;
  name: string;
  identity?: { type: string };
  properties?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export const SNAPSHOT_SUBSCRIPTION = '00000000-0000-0000-0000-00000000a001';

/**
 * A deployment snapshot of main.bicep with one of its parameter files (decompiled to .bicepparam), with some
 * parameters replaced (`overrides`: name -> Bicep literal).
 */
export async function snapshot(dir: string, parameterFile: string, overrides: Record<string, string> = {}): Promise<SnapshotResource[]> {
  const name = `${path.basename(parameterFile, '.json')}-${Object.keys(overrides).join('-') || 'as-is'}`;
  const bicepparam = path.join(dir, `${name}.bicepparam`);
  await bicep('decompile-params', path.join(bicepDir, parameterFile), '--bicep-file', path.join(bicepDir, 'main.bicep'), '--outfile', bicepparam, '--force');
  let source = readFileSync(bicepparam, 'utf8');
  for (const [param, value] of Object.entries(overrides)) {
    const line = new RegExp(`^param ${param} = .*$`, 'm');
    source = line.test(source) ? source.replace(line, `param ${param} = ${value}`) : `${source}\nparam ${param} = ${value}\n`;
  }
  writeFileSync(bicepparam, source);
  const location = /^param location = '([^']+)'/m.exec(source)?.[1] ?? 'westeurope';
  await bicep('snapshot', bicepparam, '--mode', 'overwrite', '--subscription-id', SNAPSHOT_SUBSCRIPTION, '--tenant-id', '00000000-0000-0000-0000-00000000b002', '--location', location);
  const result = JSON.parse(readFileSync(bicepparam.replace(/\.bicepparam$/, '.snapshot.json'), 'utf8')) as { predictedResources: SnapshotResource[] };
  return result.predictedResources;
}
