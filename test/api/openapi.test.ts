import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/lib/api/openapi';
import { ROUTES, WEB_ROUTES } from '../../src/lib/api/routes';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from '../../src/lib/problem';
import { sampleImage } from '../support/images';
import { openApiValidator } from '../support/openapi-recorder';
import { startTestHost } from '../integration/local-host';

const ALL_ROUTES = [...ROUTES, ...WEB_ROUTES];
const document = buildOpenApiDocument(ALL_ROUTES);
const operationOf = (route: { method: string; route: string }) => (document.paths?.[`/${route.route}`] as Record<string, { operationId: string }> | undefined)?.[route.method.toLowerCase()];

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    // An ES module: imported dynamically from this CommonJS-compiled test.
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(structuredClone(document) as unknown as Parameters<InstanceType<typeof Validator>['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes every route of the route table, and fails for a route without a description', () => {
    expect(ALL_ROUTES.length).toBeGreaterThanOrEqual(12);
    for (const route of ALL_ROUTES) expect(operationOf(route)?.operationId, `${route.method} /api/${route.route}`).toBe(route.name);
    const operations = Object.values(document.paths ?? {}).flatMap((item) => Object.keys(item as object));
    expect(operations).toHaveLength(ALL_ROUTES.length);
    expect(() => buildOpenApiDocument([...ALL_ROUTES, { name: 'deleteImage', method: 'DELETE', route: 'images/{id}' }])).toThrow(/deleteImage .* has no entry in ROUTE_DOCS/);
  });

  it('describes every parameter the handlers read', () => {
    const parameters = (path: string, method: string) =>
      ((document.paths?.[path] as Record<string, { parameters?: Array<{ name: string; in: string }> }>)[method].parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
    expect(parameters('/images', 'post')).toEqual(['query:wait']);
    expect(parameters('/images', 'get')).toEqual(['query:batch', 'query:continuationToken', 'query:format', 'query:from', 'query:limit', 'query:status', 'query:to']);
    expect(parameters('/images/{id}/{derivative}', 'get')).toEqual(['path:derivative', 'path:id']);
    expect(parameters('/batches', 'get')).toEqual(['query:continuationToken', 'query:limit', 'query:status', 'query:updatedBefore']);
    expect(parameters('/batches/{id}/items', 'get')).toEqual(['path:id', 'query:continuationToken', 'query:limit']);
  });

  it('names every specific problem type, and each route only at its own status', () => {
    const text = JSON.stringify(document);
    const generic = new Set<ProblemType>(['too-many-requests', 'bad-request', 'method-not-allowed', 'conflict', 'unprocessable-content', 'header-fields-too-large', 'not-implemented', 'service-unavailable']);
    for (const type of Object.keys(PROBLEM_TYPES) as ProblemType[]) {
      if (!generic.has(type)) expect(text, type).toContain(problemTypeUri(type));
    }
    const problem = (path: string, method: string, status: number) =>
      ((document.paths?.[path] as Record<string, { responses: Record<string, { content: Record<string, { schema: { properties: { type: { enum: string[] } } } }> }> }>)[method].responses[status]
        .content['application/problem+json'].schema.properties.type.enum);
    expect([...problem('/images', 'post', 415)].sort()).toEqual([problemTypeUri('unsupported-image-type'), problemTypeUri('unsupported-media-type')].sort());
    expect(problem('/batches/{id}/retry', 'post', 409)).toEqual([problemTypeUri('batch-not-retryable')]);
  });

  it('holds a test.http request for every operation', () => {
    const http = readFileSync(join(__dirname, '../../test.http'), 'utf8');
    const requests = [...http.matchAll(/^(GET|POST|PUT|HEAD) \{\{api\}\}(\/[^\s?]*)/gm)].map(([, method, path]) => ({ method, path }));
    for (const route of ALL_ROUTES) {
      const pattern = new RegExp(`^/${route.route.replace(/\{\w+\}/g, '[^/]+')}$`);
      expect(requests.some((r) => r.method === route.method && pattern.test(r.path)), `test.http: ${route.method} /api/${route.route}`).toBe(true);
    }
  });
});

describe('the response validator', () => {
  const validator = openApiValidator(document);
  const ok = { 'x-request-id': 'r1', 'content-type': 'application/json' };
  const image = { id: 'a', schemaVersion: 1, status: 'queued', source: { bytes: 1, sha256: 'x', uploadedAt: '2024-05-01T00:00:00.000Z' }, createdAt: '2024-05-01T00:00:00.000Z', updatedAt: '2024-05-01T00:00:00.000Z', links: { self: 'http://h/api/images/a' } };
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('accepts a response the document describes', () => {
    expect(validator.validate({ method: 'GET', path: '/api/images/a', status: 200, headers: ok, body: body(image) })).toEqual([]);
  });

  it('reports an undescribed field, a missing field, an undescribed status, a wrong problem type and a missing request id', () => {
    expect(validator.validate({ method: 'GET', path: '/api/images/a', status: 200, headers: ok, body: body({ ...image, extra: 1 }) })[0]).toMatch(/must NOT have additional properties/);
    expect(validator.validate({ method: 'GET', path: '/api/images/a', status: 200, headers: ok, body: body({ ...image, status: undefined }) })[0]).toMatch(/must have required property 'status'/);
    expect(validator.validate({ method: 'GET', path: '/api/images/a', status: 201, headers: ok, body: body(image) })[0]).toMatch(/status 201 is not described/);
    const problem = { type: problemTypeUri('too-many-files'), title: 'x', status: 413, detail: 'x' };
    expect(validator.validate({ method: 'POST', path: '/api/images', status: 413, headers: { ...ok, 'content-type': 'application/problem+json' }, body: body(problem) })[0]).toMatch(/must be equal to one of the allowed values/);
    expect(validator.validate({ method: 'GET', path: '/api/images/a', status: 200, headers: { 'content-type': 'application/json' }, body: body(image) })).toEqual(['GET /api/images/a -> 200: no x-request-id header']);
  });
});

describe('the served document and the contract of every route', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host?.stop());

  const api = (path: string, init?: RequestInit) => fetch(`${host.apiUrl}${path}`, { redirect: 'manual', ...init });

  it('serves GET /api/openapi.json anonymously, with this host as its server', async () => {
    const response = await api('/openapi.json');
    expect(response.status).toBe(200);
    const served = (await response.json()) as typeof document;
    expect(served.servers).toEqual([{ url: host.apiUrl }]);
    expect(Object.keys(served.paths ?? {})).toEqual(Object.keys(document.paths ?? {}));
  });

  it('answers every operation as the document says, successes included', async () => {
    const png = await sampleImage('png', 40, 30);
    const uploaded = await api('/images?wait=20', { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
    expect(uploaded.status).toBe(200);
    const { id } = (await uploaded.json()) as { id: string };
    expect((await api('/images?limit=5&format=PNG')).status).toBe(200);
    expect((await api(`/images/${id}`)).status).toBe(200);
    expect((await api(`/images/${id}/thumbnail`)).status).toBe(200);
    expect((await api(`/images/${id}/similar`)).status).toBe(200);
    expect((await api('/stats')).status).toBe(200);
    expect((await api('/me')).status).toBe(200);
    expect((await api('/batch-sweep', { method: 'POST' })).status).toBe(200);
    const registration = { method: 'PUT', body: JSON.stringify({ itemCount: 2 }), headers: { 'content-type': 'application/json' } };
    expect((await api(`/batches/${randomUUID()}`, registration)).status).toBe(201);
    const form = new FormData();
    for (const name of ['a.png', 'b.png']) form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
    const accepted = await api('/batches', { method: 'POST', body: form });
    expect(accepted.status).toBe(202);
    const batch = (await accepted.json()) as { id: string };
    let status = '';
    for (let i = 0; i < 300 && !['completed', 'incomplete', 'failed'].includes(status); i++) {
      status = ((await (await api(`/batches/${batch.id}`)).json()) as { status: string }).status;
      if (!['completed', 'incomplete', 'failed'].includes(status)) await sleep(100);
    }
    expect(status).toBe('completed');
    expect((await api(`/batches/${batch.id}/items?limit=1`)).status).toBe(200);
    expect((await api('/batches?status=completed')).status).toBe(200);
    expect((await api(`/batches/${batch.id}/retry`, { method: 'POST' })).status).toBe(202);
    expect((await api('/web')).status).toBe(302);
    expect((await api('/web/api.html')).status).toBe(200);
    expect((await api('/images/no-such-image/preview')).status).toBe(404);
    for (const route of ALL_ROUTES) expect(host.contract.seen.get(route.name), route.name).toBeGreaterThan(0);
    expect(host.contract.violations).toEqual([]);
  });

  it('echoes a request id on every answer: the caller’s, else the trace id of its traceparent, else a new one', async () => {
    const own = await api('/images/no-such-image', { headers: { 'x-request-id': 'support-ticket-42' } });
    expect([own.status, own.headers.get('x-request-id')]).toEqual([404, 'support-ticket-42']);
    const traced = await api('/images?limit=1', { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(traced.headers.get('x-request-id')).toBe('0af7651916cd43dd8448eb211c80319c');
    const [a, b] = await Promise.all([api('/nothing'), api('/images', { method: 'DELETE' })]);
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(b.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    // An answer of the host's own HTTP parser, before any route.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(host.apiUrl).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write('this is not http\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toMatch(/\r\nx-request-id: [0-9a-f]{32}\r\n/);
  });
});
