// `npx image-pipeline sweep --as-of <8 days later>` against a running `npm start`: both built, both in processes of
// their own, as an operator runs them. Afterwards GET /api/images/{id} has no file name, camera or capture time, and
// the thumbnail answers 410.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIF_FIXTURE, jpegWithExif } from '../support/images';

const ROOT = resolve(__dirname, '../..');
// Built as `npm run build` builds, into a folder of this test's own: other test files build dist/ at the same time.
const BUILT = join(ROOT, 'build', 'sweep-cli-test');
const run = promisify(execFile);
const DAY = 24 * 3600_000;

/** The environment of an operator with no stores configured: the CLI finds the local host's. */
function operatorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/^(AzureWebJobsStorage|COSMOS_CONNECTION|KAFKA_BROKERS|LOCAL_STORAGE_PATH|RETENTION_DAYS)/.test(name)) delete env[name];
  return env;
}

async function sweep(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(BUILT, 'src/cli/main.js'), 'sweep', ...args], { cwd: ROOT, env: operatorEnv() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('image-pipeline sweep against npm start', () => {
  let host: ChildProcess;
  let api: string;
  let port: string;
  let output = '';

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', BUILT], { stdio: 'inherit' });
    host = spawn(process.execPath, [join(BUILT, 'src/local/main.js')], { cwd: ROOT, env: { ...operatorEnv(), PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    host.stdout!.on('data', (chunk) => (output += chunk));
    host.stderr!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 120_000;
    let match: RegExpExecArray | null;
    while (!(match = /HTTP API: (http:\/\/localhost:(\d+)\/api)\//.exec(output))) {
      if (host.exitCode !== null || Date.now() > deadline) throw new Error(`the local host did not start: ${output}`);
      await sleep(50);
    }
    [, api, port] = match;
  }, 240_000);

  afterAll(async () => {
    if (host?.exitCode === null) {
      const exited = once(host, 'exit');
      host.kill('SIGTERM');
      await exited;
    }
  });

  it('removes file name, camera and capture time of an image 8 days old, and its thumbnail answers 410', async () => {
    const upload = new FormData();
    upload.append('file', new Blob([new Uint8Array(await jpegWithExif())], { type: 'image/jpeg' }), 'anna-at-the-lake.jpg');
    const uploaded = await fetch(`${api}/images?wait=30`, { method: 'POST', body: upload });
    expect(uploaded.status).toBe(200);
    const { id } = (await uploaded.json()) as { id: string };
    const image = async () => (await (await fetch(`${api}/images/${id}`)).json()) as { status: string; source: Record<string, unknown>; metadata: Record<string, unknown> };
    expect(await image()).toMatchObject({ source: { fileName: 'anna-at-the-lake.jpg' }, metadata: { camera: { make: EXIF_FIXTURE.make }, takenAt: EXIF_FIXTURE.takenAt } });
    expect((await fetch(`${api}/images/${id}/thumbnail`)).status).toBe(200);
    const asOf = new Date(Date.now() + 8 * DAY).toISOString();

    // A dry run counts and changes nothing. Two blobs: the upload, and the one its thumbnail and preview share.
    const dry = await sweep('--as-of', asOf, '--dry-run', '--local-port', port);
    expect(dry.stdout).toContain(`image-pipeline sweep: working on the local host at ${api.replace('localhost', '127.0.0.1')}`);
    expect(dry.stdout).toMatch(/would de-identify 1 images, 0 batches and 0 rejected records; would delete 2 blobs; 0 failures/);
    expect(dry.code).toBe(0);
    expect((await image()).source.fileName).toBe('anna-at-the-lake.jpg');

    const swept = await sweep('--as-of', asOf, '--local-port', port);
    expect(swept.stderr).toBe('');
    expect(swept.code).toBe(0);
    const lines = swept.stdout.trim().split('\n');
    expect(lines.slice(0, 5)).toEqual([
      `image-pipeline sweep: working on the local host at ${api.replace('localhost', '127.0.0.1')} (pid ${host.pid})`,
      expect.stringMatching(/^ {2}blob storage http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1: containers uploads, derived, batches, deadletter$/),
      expect.stringMatching(/^ {2}Cosmos DB http:\/\/127\.0\.0\.1:\d+\/: database image-pipeline, containers images, batches \(the others hold nothing personal\)$/),
      `  retention 7 days (RETENTION_DAYS), as of ${asOf}`,
      "  orchestration histories: not reachable from here; the app's retention-sweep job purges them every hour",
    ]);
    expect(lines.at(-1)).toBe('image-pipeline sweep: de-identified 1 images, 0 batches and 0 rejected records; deleted 2 blobs; 0 failures');

    const after = await image();
    expect(after).toMatchObject({ status: 'succeeded', metadata: { format: 'jpeg', width: 20, height: 40 } });
    expect(after.source.fileName).toBeUndefined();
    expect(after.metadata.camera).toBeUndefined();
    expect(after.metadata.takenAt).toBeUndefined();
    const thumbnail = await fetch(`${api}/images/${id}/thumbnail`);
    expect(thumbnail.status).toBe(410);
    expect(await thumbnail.json()).toMatchObject({ type: 'urn:image-pipeline:problem:derivative-expired' });
    // Nothing of it in what the host printed either.
    expect(output).not.toContain('anna-at-the-lake');
  });

  it('refuses a malformed --as-of, and says what to do when no local host runs on the port', async () => {
    const bad = await sweep('--as-of', 'next tuesday', '--local-port', port);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('image-pipeline: --as-of must be an ISO 8601 date or date-time (2026-12-01T10:00:00Z); got "next tuesday".\n');
    const none = await sweep('--local-port', '1');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no local host running on port 1: set AzureWebJobsStorage and COSMOS_CONNECTION, or start one with npm start/);
  });
});
