import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixedBatch, type TestFile } from './batch-images';
import { startBatchHost, waitForBatch } from './host';
import { until } from '../support/until';

type Host = Awaited<ReturnType<typeof startBatchHost>>;

/** Requests this process sends, by host:port, counted where Node starts every HTTP client request (as `npm run bench` does). */
const sent = new Map<string, number>();
const count = (message: unknown) => {
  const target = String((message as { request: ClientRequest }).request.getHeader('host'));
  sent.set(target, (sent.get(target) ?? 0) + 1);
};

const endpointOf = (connectionString: string, key: string) => new RegExp(`${key}=https?://([^/;]+)`, 'i').exec(connectionString)![1];

/**
 * Issue 15: a batch item costs at most 2 Cosmos and 3 blob requests (blob: the item's bytes written by ingest and read
 * back by its activity, both derivatives written as one blob).
 * Request counts do not depend on timing, so this is no timed test: two batches through the real local host (Azurite, the Cosmos stand-in, durable-functions' replay
 * engine), every request the host sends to its emulators counted, and the difference between the batches divided by
 * the difference in items is what one more item costs, whatever a batch costs once.
 */
describe('store requests per batch item', () => {
  let host: Host;
  let endpoints: { blob: string; cosmos: string };

  beforeAll(async () => {
    // No background listing or sweeping while the batches run: only the batches' own requests are counted.
    host = await startBatchHost({ BLOB_WATCH_INTERVAL_MS: '60000', BATCH_RECEIVE_TIMEOUT: '3600' });
    const { storage, cosmos } = host.services.config;
    endpoints = {
      blob: endpointOf(storage!.kind === 'connectionString' ? storage!.value : '', 'BlobEndpoint'),
      cosmos: endpointOf(cosmos!.kind === 'connectionString' ? cosmos!.value : '', 'AccountEndpoint'),
    };
    diagnostics.subscribe('http.client.request.start', count);
  });
  afterAll(async () => {
    diagnostics.unsubscribe('http.client.request.start', count);
    await host?.stop();
  });

  async function requestsFor(files: TestFile[]): Promise<{ blob: number; cosmos: number }> {
    const before = { blob: sent.get(endpoints.blob) ?? 0, cosmos: sent.get(endpoints.cosmos) ?? 0 };
    const body = new FormData();
    for (const file of files) body.append('files', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
    const response = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    // The summary logs the end of the batch, after its last write: waiting on that sends no request (polling would).
    await until(() => host.log.lines.some((line) => line.includes(`batch ${id} completed`)), { what: `batch ${id} to complete`, timeoutMs: 120_000, everyMs: 20 });
    const counted = { blob: (sent.get(endpoints.blob) ?? 0) - before.blob, cosmos: (sent.get(endpoints.cosmos) ?? 0) - before.cosmos };
    const ended = await waitForBatch(`${host.apiUrl}/batches/${id}`);
    expect(ended.summary?.counts).toEqual({ succeeded: files.length - 3, failed: 3, pending: 0 });
    return counted;
  }

  it('costs at most 2 Cosmos and 3 blob requests per item', async () => {
    const small = await mixedBatch(5);
    const large = await mixedBatch(25);
    const few = await requestsFor(small.files);
    const many = await requestsFor(large.files);
    const items = large.files.length - small.files.length;
    const perItem = { blob: (many.blob - few.blob) / items, cosmos: (many.cosmos - few.cosmos) / items };
    expect(perItem.cosmos, JSON.stringify({ few, many })).toBeLessThanOrEqual(2);
    expect(perItem.blob, JSON.stringify({ few, many })).toBeLessThanOrEqual(3);
  });
});

