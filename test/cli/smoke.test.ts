// `image-pipeline smoke` against the real local host (embedded Azurite, Cosmos stand-in, in-process stream), and
// through a proxy that injects faults, to prove that a wrong answer fails the run with the step and the reason.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import { startBatchHost } from '../batch/host';

type Host = Awaited<ReturnType<typeof startBatchHost>>;
type Fault = (req: IncomingMessage, res: ServerResponse, forward: () => Promise<Response>) => Promise<boolean>;

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** A proxy to the host's API that lets `fault` answer a request instead (true) or forwards it. */
async function proxy(target: string, fault: Fault): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const forward = () =>
      fetch(`${target}${req.url!.replace(/^\/api/, '')}`, {
        method: req.method,
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection') as Array<[string, string]>),
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
    if (await fault(req, res, forward)) return;
    const response = await forward();
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, server };
}

describe('image-pipeline smoke', () => {
  let host: Host;
  const servers: Server[] = [];

  beforeAll(async () => {
    host = await startBatchHost({ BLOB_WATCH_INTERVAL_MS: '200' });
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await host?.stop();
  });

  it('passes against the local host: single upload with ?wait, a 3-image batch, results and summary', async () => {
    const run = await cli('smoke', '--api', host.apiUrl, '--timeout', '60');
    expect(run.err.replace(/^processed .*\n/gm, '')).toBe('');
    expect(run.code).toBe(0);
    const lines = run.out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(3);
    expect(lines.at(-1)).toBe(`image-pipeline smoke: passed against ${host.apiUrl}`);
    // it really sent them: the host now lists the single upload and the three batch items
    const listed = (await (await fetch(`${host.apiUrl}/images?status=succeeded&limit=100`)).json()) as { items: Array<{ source: { fileName?: string } }> };
    const names = listed.items.map((i) => i.source.fileName);
    expect(names).toEqual(expect.arrayContaining(['smoke-batch-0.png', 'smoke-batch-1.jpg', 'smoke-batch-2.webp']));
  });

  it('fails at the single upload with the status and the problem detail when the API answers an error', async () => {
    const faulty = await proxy(host.apiUrl, async (req, res) => {
      if (req.method !== 'POST' || !req.url!.startsWith('/api/images')) return false;
      res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Service Unavailable', detail: 'storage is down' }));
      return true;
    });
    servers.push(faulty.server);
    const run = await cli('smoke', '--api', faulty.url, '--timeout', '30');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^image-pipeline smoke: FAILED at single upload: \S+\/api\/images\?wait=30 answered 503, expected 200 \(Service Unavailable: storage is down\)\n$/);
    expect(run.out).toBe('');
  });

  it('fails at the batch summary when the summary does not match what was sent', async () => {
    const faulty = await proxy(host.apiUrl, async (req, res, forward) => {
      if (req.method !== 'GET' || !/^\/api\/batches\/[^/]+$/.test(req.url!)) return false;
      const response = await forward();
      const batch = (await response.json()) as { summary?: { formats: Record<string, number> } };
      if (batch.summary) batch.summary.formats = { png: 3 };
      res.writeHead(response.status, { 'content-type': 'application/json' }).end(JSON.stringify(batch));
      return true;
    });
    servers.push(faulty.server);
    const run = await cli('smoke', '--api', faulty.url, '--timeout', '60');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/image-pipeline smoke: FAILED at batch summary: summary\.formats is \{"png":3\}, expected \{"jpeg":1,"png":1,"webp":1\}\n$/);
    expect(run.out).toMatch(/^ok {2}single upload: .*\nok {2}batch accepted: /);
  });

  it('fails at the first step with a clear message when nothing answers, and rejects a bad timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await cli('smoke', '--api', `http://127.0.0.1:${port}/api`, '--timeout', '5');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(new RegExp(`^image-pipeline smoke: FAILED at single upload: POST http://127\\.0\\.0\\.1:${port}/api/images\\?wait=5 failed: `));
    await expect(cli('smoke', '--api', host.apiUrl, '--timeout', 'soon')).rejects.toThrow('--timeout must be a positive number of seconds; got "soon".');
  });
});
