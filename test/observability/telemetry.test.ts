import { context, metrics as metricsApi, propagation, SpanKind, trace } from '@opentelemetry/api';
import { metrics, node, tracing } from '@opentelemetry/sdk-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, headersAsBytes } from '../../src/lib/batch/record';
import { jsonLogger } from '../../src/lib/logger';
import { sweepRetention } from '../../src/lib/jobs/retention-sweep';
import { METRICS } from '../../src/lib/metrics';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { ingestRecords } from '../../src/lib/orchestration/intake';
import type { OrchestrationStarter } from '../../src/lib/orchestration/starter';
import { startTestHost } from '../integration/local-host';
import { storageError } from '../support/faults';
import { sampleImage, textFile } from '../support/images';
import { memoryServices } from '../support/memory-services';

/**
 * The done-when of issue 16: with an in-memory span exporter, one upload is one trace (POST /api/images ->
 * processUpload -> image.process + image.result) and one batch is one trace (POST /api/batches -> batch.ingest ->
 * batch.start -> an activity span per item -> image.process + image.result, and the summary), each a single tree.
 * And the metrics the workbook charts, read from an in-memory metric reader.
 */
const spans = new tracing.InMemorySpanExporter();
const tracerProvider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(spans)] });

class MemoryReader extends metrics.MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const reader = new MemoryReader();
const meterProvider = new metrics.MeterProvider({ readers: [reader] });

type Span = tracing.ReadableSpan;
const parentOf = (span: Span) => span.parentSpanContext?.spanId;
const inTrace = (traceId: string) => spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

async function spansUntil(traceId: string, done: (found: Span[]) => boolean): Promise<Span[]> {
  for (let i = 0; i < 200; i++) {
    const found = inTrace(traceId);
    if (done(found)) return found;
    await sleep(50);
  }
  throw new Error(`trace ${traceId} incomplete: ${inTrace(traceId).map((s) => s.name).join(', ')}`);
}

/** The spans of a trace form one tree: one span whose parent is outside the trace, every other span's parent inside it. */
function singleTree(found: Span[]): Span {
  const ids = new Set(found.map((s) => s.spanContext().spanId));
  const roots = found.filter((s) => !ids.has(parentOf(s) ?? ''));
  expect(roots.map((s) => s.name)).toHaveLength(1);
  return roots[0];
}

const childrenOf = (found: Span[], parent: Span, name?: string) => found.filter((s) => parentOf(s) === parent.spanContext().spanId && (name === undefined || s.name === name));

/** The value of a counter or histogram (count and sum) for the data points whose attributes match. */
async function metric(name: string, attributes: Record<string, string> = {}) {
  const { resourceMetrics } = await reader.collect();
  const data = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name);
  const points = (data?.dataPoints ?? []).filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
  return points.reduce(
    (total, p) => {
      const value = p.value as number | { count: number; sum?: number };
      return typeof value === 'number' ? { count: total.count + value, sum: total.sum + value } : { count: total.count + value.count, sum: total.sum + (value.sum ?? 0) };
    },
    { count: 0, sum: 0 },
  );
}

describe('one trace per image and per batch, and the metrics', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    tracerProvider.register();
    metricsApi.setGlobalMeterProvider(meterProvider);
    const sink = (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>);
    host = await startTestHost({}, jsonLogger({ info: sink, warn: sink, error: sink }));
  });
  afterAll(async () => {
    await host?.stop();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    metricsApi.disable();
    propagation.disable();
    context.disable();
  });

  it('follows an upload from POST /api/images through the blob trigger to the result document, continuing the caller’s traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const response = await fetch(`${host.apiUrl}/images?wait=20`, {
      method: 'POST',
      body: new Uint8Array(await sampleImage('png', 64, 48)),
      headers: { 'content-type': 'image/png', traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(traceId);
    const { id } = (await response.json()) as { id: string };
    const found = await spansUntil(traceId, (s) => s.some((x) => x.name === 'processUpload') && s.some((x) => x.name === 'image.result'));

    const root = singleTree(found);
    expect([root.name, root.kind, parentOf(root)]).toEqual(['POST /api/images', SpanKind.SERVER, callerSpan]);
    expect(root.attributes).toMatchObject({ 'http.route': '/api/images', 'http.response.status_code': 200, 'http.request.id': traceId });
    const [processing] = childrenOf(found, root, 'processUpload');
    expect([processing.kind, processing.attributes['image.id']]).toEqual([SpanKind.CONSUMER, id]);
    expect(childrenOf(found, processing).map((s) => s.name).sort()).toEqual(['image.process', 'image.result']);
    expect(childrenOf(found, processing, 'image.process')[0].attributes).toMatchObject({ 'image.format': 'png', 'image.status': 'succeeded' });
    expect(found).toHaveLength(4);
  });

  it('follows a batch from POST /api/batches through ingest, the orchestration’s activities and the summary', async () => {
    const png = await sampleImage('png', 48, 32);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'holiday-photo-1.png');
    form.append('file', new Blob([new Uint8Array(await sampleImage('jpeg', 40, 40))], { type: 'image/jpeg' }), 'holiday-photo-2.jpg');
    form.append('file', new Blob([new Uint8Array(textFile())], { type: 'image/png' }), 'not-a-photo.png');
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    expect(response.status).toBe(202);
    const traceId = response.headers.get('x-request-id')!;
    const { id } = (await response.json()) as { id: string };
    const found = await spansUntil(traceId, (s) => s.some((x) => x.name === 'batchSummarise'));

    const root = singleTree(found);
    expect([root.name, root.kind, parentOf(root)]).toEqual(['POST /api/batches', SpanKind.SERVER, undefined]);
    const ingests = childrenOf(found, root, 'batch.ingest');
    expect(ingests.length).toBeGreaterThanOrEqual(1);
    const starts = ingests.flatMap((ingest) => childrenOf(found, ingest, 'batch.start'));
    expect(starts).toHaveLength(1);
    const [start] = starts;
    const items = childrenOf(found, start, 'batchProcessItem').sort((a, b) => Number(a.attributes['batch.item.index']) - Number(b.attributes['batch.item.index']));
    expect(items.map((s) => s.attributes['batch.item.index'])).toEqual([0, 1, 2]);
    for (const item of items) expect(item.attributes['batch.id']).toBe(id);
    // The two images are processed in their activity; the text file failed at ingest, so its activity only reads it.
    for (const item of items.slice(0, 2)) expect(childrenOf(found, item).map((s) => s.name).sort()).toEqual(['image.process', 'image.result']);
    expect(childrenOf(found, items[2])).toEqual([]);
    expect(childrenOf(found, start, 'batchSummarise')).toHaveLength(1);
    expect(found.filter((s) => s.name === 'image.process').map((s) => s.attributes['image.status'])).toEqual(['succeeded', 'succeeded']);
    // No span of this batch's work is outside its trace (the polling GETs are traces of their own).
    const elsewhere = spans.getFinishedSpans().filter((s) => s.attributes['batch.id'] === id && s.spanContext().traceId !== traceId);
    expect(elsewhere.map((s) => s.name)).toEqual([]);
    // Logs carry the trace: the line saying the orchestration started is in the batch's trace.
    expect(logLines.find((line) => String(line.message).includes(`batch ${id}: all 3 items received`))).toMatchObject({ traceId, batchId: id });
  });

  it('counts images by format and outcome, their processing time, batch duration and size', async () => {
    expect(await metric(METRICS.imagesProcessed, { format: 'png', source: 'upload' })).toMatchObject({ count: 1 });
    expect(await metric(METRICS.imagesProcessed, { source: 'batch' })).toMatchObject({ count: 2 });
    expect(await metric(METRICS.imagesFailed, { format: 'unknown', source: 'batch' })).toMatchObject({ count: 1 });
    const durations = await metric(METRICS.processingDuration);
    expect(durations.count).toBe(3);
    expect(durations.sum).toBeGreaterThan(0);
    expect(await metric(METRICS.batchItems, { status: 'completed' })).toEqual({ count: 1, sum: 3 });
    const batch = await metric(METRICS.batchDuration, { status: 'completed' });
    expect(batch.count).toBe(1);
    expect(batch.sum).toBeGreaterThan(0);
  });

  it('counts dead letters (a record storage refused for good) and sweep deletions', async () => {
    const { services, memory, faults } = await memoryServices();
    faults.storage.fail(['put'], Infinity, () => storageError(500), (container) => container === BLOB_CONTAINERS.batches);
    const starter: OrchestrationStarter = { startOnce: async () => true, state: async () => undefined, purgeEnded: async () => 0 };
    const bytes = await sampleImage('png', 20, 20);
    const record = buildRecord({ batchId: 'metrics-batch', index: 0, count: 1, contentType: 'image/png', bytes });
    const before = (await metric(METRICS.deadLetters, { kind: 'record' })).count;
    const result = await ingestRecords({ services, starter, log: jsonLogger({ info: () => {}, warn: () => {}, error: () => {} }), retry: { attempts: 1, firstDelayMs: 1, factor: 1 } }, [
      { key: record.key, value: record.value, headers: headersAsBytes(record.headers) },
    ]);
    expect(result.deadLettered).toBe(1);
    expect(await memory.blobs.exists(BLOB_CONTAINERS.deadletter, 'metrics-batch/0')).toBe(true);
    expect((await metric(METRICS.deadLetters, { kind: 'record' })).count).toBe(before + 1);
    // Thirty days on, the retention sweep deletes the dead letter (and what else it finds), and counts it.
    const blobsBefore = (await metric(METRICS.sweepDeletions, { what: 'blobs' })).sum;
    const swept = await sweepRetention({ services, log: jsonLogger({ info: () => {}, warn: () => {}, error: () => {} }) }, { asOf: new Date(Date.now() + 30 * 86_400_000) });
    expect(await memory.blobs.exists(BLOB_CONTAINERS.deadletter, 'metrics-batch/0')).toBe(false);
    expect(swept.blobs).toBeGreaterThanOrEqual(1);
    expect((await metric(METRICS.sweepDeletions, { what: 'blobs' })).sum).toBe(blobsBefore + swept.blobs);
  });
});
