import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableClient } from 'durable-functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INGEST_TRIGGER_RETRY } from '../../src/lib/orchestration/trigger-retry';
import { recordRegistrations } from './functions-core';

// Registrations must be recorded before the app module calls app.eventHub.
const registrations = recordRegistrations();
let durableStarter: typeof import('../../src/functions/ingest').durableStarter;

/**
 * The Azure starter against durable-functions' real DurableClient, talking to a fake Durable extension (its HTTP
 * API: GET instances/{id}, POST orchestrators/{name}/{id}), so the client's own 404, 409 and error handling is
 * what the starter meets.
 */
const { DurableClient: Client } = require('durable-functions/lib/src/durableClient/DurableClient') as { DurableClient: new (data: object) => DurableClient };

interface Instance {
  name: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus?: unknown;
}

const instances = new Map<string, Instance>();
const requests: string[] = [];
/** Ids whose status query fails with a 500; and ids another trigger starts between this one's status query and start. */
const broken = new Set<string>();
const racing = new Set<string>();

let server: Server;
let client: DurableClient;

beforeAll(async () => {
  ({ durableStarter } = await import('../../src/functions/ingest.js'));
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push(`${request.method} ${request.url}`);
      const [, kind, ...rest] = decodeURIComponent(new URL(request.url!, 'http://x').pathname).split('/').filter(Boolean);
      const reply = (status: number, json?: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(json === undefined ? '' : JSON.stringify(json));
      if (request.method === 'GET' && kind === 'instances') {
        const id = rest.join('/');
        if (broken.has(id)) return reply(500, { message: 'storage unavailable' });
        const found = instances.get(id);
        if (racing.delete(id)) instances.set(id, { name: 'batchOrchestrator', runtimeStatus: 'Running', input: null, output: null });
        if (!found) return reply(404);
        const now = new Date().toISOString();
        return reply(200, { instanceId: id, createdTime: now, lastUpdatedTime: now, ...found });
      }
      if (request.method === 'POST' && kind === 'orchestrators') {
        const [name, id] = rest;
        if (instances.has(id)) return reply(409, { message: `An instance with ID '${id}' already exists.` });
        instances.set(id, { name, runtimeStatus: 'Pending', input: JSON.parse(body), output: null });
        return reply(202, { id });
      }
      reply(400);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/durabletask/`;
  client = new Client({ taskHubName: 'hub', creationUrls: {}, managementUrls: {}, baseUrl: base, requiredQueryStringParameters: '', rpcBaseUrl: base });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  instances.clear();
  requests.length = 0;
});

describe('the Azure orchestration starter (src/functions/ingest.ts) on a Durable client', () => {
  it('is used by an ingest trigger registered with the retry policy the local stream and Kafka consumer apply', () => {
    const { metadata } = registrations.get('ingestBatchRecords')!;
    expect((metadata as { retryOptions?: unknown }).retryOptions).toMatchObject({ retryStrategy: INGEST_TRIGGER_RETRY.strategy, maxRetryCount: INGEST_TRIGGER_RETRY.maxRetryCount });
    expect(Object.values(metadata.bindings).map((binding) => binding.type)).toEqual(expect.arrayContaining(['eventHubTrigger', 'durableClient']));
  });

  it('starts a missing instance with its input, once', async () => {
    const starter = durableStarter(client);
    expect(await starter.startOnce('batchOrchestrator', 'batch-1', { batchId: 'batch-1', itemCount: 3 })).toBe(true);
    expect(instances.get('batch-1')).toMatchObject({ name: 'batchOrchestrator', input: { batchId: 'batch-1', itemCount: 3 } });
    expect(await starter.startOnce('batchOrchestrator', 'batch-1', { batchId: 'batch-1', itemCount: 3 })).toBe(false);
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /durabletask/orchestrators/batchOrchestrator/batch-1']);
  });

  it('never starts an instance that exists in any state: startNew would run a finished batch again', async () => {
    for (const runtimeStatus of ['Completed', 'Failed', 'Terminated']) instances.set(`batch-${runtimeStatus}`, { name: 'batchOrchestrator', runtimeStatus, input: null, output: null });
    const starter = durableStarter(client);
    for (const runtimeStatus of ['Completed', 'Failed', 'Terminated']) expect(await starter.startOnce('batchOrchestrator', `batch-${runtimeStatus}`, {})).toBe(false);
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual([]);
  });

  it('takes "already exists" from a trigger that won the race as started elsewhere', async () => {
    racing.add('batch-race');
    expect(await durableStarter(client).startOnce('batchOrchestrator', 'batch-race', {})).toBe(false);
    expect(requests.map((r) => r.split(' ')[0])).toEqual(['GET', 'POST']);
  });

  it('throws when the status cannot be read, so the trigger retries the records', async () => {
    broken.add('batch-broken');
    await expect(durableStarter(client).startOnce('batchOrchestrator', 'batch-broken', {})).rejects.toThrow(/500/);
    await expect(durableStarter(client).getStatus('batch-broken')).rejects.toThrow(/500/);
    expect(requests.filter((r) => r.startsWith('POST'))).toEqual([]);
  });

  it('reports the runtime status, the output of a completed instance and the failure of a failed one', async () => {
    instances.set('running', { name: 'batchOrchestrator', runtimeStatus: 'Running', input: null, output: null, customStatus: { chunksDone: 1, chunks: 4 } });
    instances.set('done', { name: 'batchOrchestrator', runtimeStatus: 'Completed', input: null, output: { succeeded: 3 } });
    instances.set('failed', { name: 'batchOrchestrator', runtimeStatus: 'Failed', input: null, output: "Orchestrator function 'batchOrchestrator' failed: Error: Cosmos DB unavailable" });
    const starter = durableStarter(client);
    expect(await starter.getStatus('missing')).toBeUndefined();
    expect(await starter.getStatus('running')).toEqual({ runtimeStatus: 'Running', output: null, failure: undefined, customStatus: { chunksDone: 1, chunks: 4 } });
    expect(await starter.getStatus('done')).toMatchObject({ runtimeStatus: 'Completed', output: { succeeded: 3 } });
    expect(await starter.getStatus('failed')).toMatchObject({ runtimeStatus: 'Failed', failure: expect.stringContaining('Cosmos DB unavailable') });
  });
});
