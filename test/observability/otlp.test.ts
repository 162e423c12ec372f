import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../src/lib/metrics';
import { sampleImage } from '../support/images';
import { startTestHost } from '../integration/local-host';

/** A stand-in OTLP/HTTP collector: keeps what is posted to it. */
function collector(): Promise<{ server: Server; url: string; received: Array<{ path: string; type: string; body: string }> }> {
  const received: Array<{ path: string; type: string; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received })));
}

describe('the local host with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let otlp: Awaited<ReturnType<typeof collector>>;
  beforeAll(async () => {
    otlp = await collector();
  });
  afterAll(() => new Promise<void>((resolve) => otlp?.server.close(() => resolve())));

  it('exports the upload’s trace and the metrics to the collector, and nothing without the setting', async () => {
    const host = await startTestHost({ OTEL_EXPORTER_OTLP_ENDPOINT: `${otlp.url}/` });
    expect(host.describe()).toContain(`Telemetry: traces and metrics to ${otlp.url} (OTLP/HTTP)`);
    const response = await fetch(`${host.apiUrl}/images?wait=20`, { method: 'POST', body: new Uint8Array(await sampleImage('png', 32, 32)), headers: { 'content-type': 'image/png' } });
    expect(response.status).toBe(200);
    const traceId = response.headers.get('x-request-id')!;
    await host.stop(); // flushes the batched spans and the last metrics
    const traces = otlp.received.filter((r) => r.path === '/v1/traces');
    const metrics = otlp.received.filter((r) => r.path === '/v1/metrics');
    expect(traces.length).toBeGreaterThan(0);
    const spans = traces.flatMap((r) => (JSON.parse(r.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }> }> }).resourceSpans)
      .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
    const ofUpload = spans.filter((span) => span.traceId === traceId).map((span) => span.name).sort();
    expect(ofUpload).toEqual(['POST /api/images', 'image.process', 'image.result', 'processUpload']);
    expect(metrics.some((r) => r.body.includes(METRICS.imagesProcessed) && r.body.includes(METRICS.processingDuration))).toBe(true);

    const before = otlp.received.length;
    const quiet = await startTestHost();
    expect(quiet.describe().some((line) => line.startsWith('Telemetry:'))).toBe(false);
    expect((await fetch(`${quiet.apiUrl}/images?limit=1`)).status).toBe(200);
    await quiet.stop();
    expect(otlp.received.length).toBe(before);
  });
});
