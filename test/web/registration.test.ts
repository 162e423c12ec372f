import { beforeAll, describe, expect, it } from 'vitest';
import { recordRegistrations } from '../functions/functions-core';
import { as, USERS } from '../support/principals';

// Registrations must be recorded before the app module calls app.http.
const registrations = recordRegistrations();
let functions: typeof import('@azure/functions');

beforeAll(async () => {
  // As App Service sets it when its authentication is on (the Bicep turns it on).
  process.env.WEBSITE_AUTH_ENABLED = 'True';
  functions = await import('@azure/functions');
  await import('../../src/functions/web.js');
});

const trigger = (name: string) => Object.values(registrations.get(name)!.metadata.bindings).find((binding) => binding.type === 'httpTrigger');

type Result = { status: number; headers: Record<string, string>; body?: Uint8Array };
const call = (name: string, url: string, params: Record<string, string> = {}, headers: Record<string, string> = as(USERS.alice)) =>
  registrations.get(name)!.handler(
    new functions.HttpRequest({ method: 'GET', url, params, headers }),
    new functions.InvocationContext({ functionName: name, logHandler: () => undefined }),
  ) as Promise<Result>;

describe('Azure registration of the web app (src/functions/web.ts)', () => {
  it('declares anonymous GET routes: Easy Auth lets unsigned browsers through to them, to be sent to sign in', () => {
    expect(trigger('webIndex')).toMatchObject({ route: 'web', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
    expect(trigger('webFile')).toMatchObject({ route: 'web/{file}', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
    expect(trigger('openApiDocument')).toMatchObject({ route: 'openapi.json', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
  });

  it('serves the OpenAPI document without a key or services, with the Azure host as its server', async () => {
    const answer = await call('openApiDocument', 'https://app.example.net/api/openapi.json', {});
    expect(answer.status).toBe(200);
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const document = JSON.parse(Buffer.from(answer.body!).toString('utf8')) as { openapi: string; servers: Array<{ url: string }> };
    expect([document.openapi, document.servers]).toEqual(['3.1.0', [{ url: 'https://app.example.net/api' }]]);
  });

  it('serves a page through the Functions request shape to a signed-in user, with no stores configured; sends anyone else to sign in', async () => {
    const page = await call('webFile', 'https://app.example.net/api/web/upload.html', { file: 'upload.html' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(Buffer.from(page.body!).toString('utf8')).toContain('<h1>Upload an image</h1>');

    const index = await call('webIndex', 'https://app.example.net/api/web?code=k');
    expect(index).toMatchObject({ status: 302, headers: { location: '/api/web/index.html?code=k' } });

    const traversal = await call('webFile', 'https://app.example.net/api/web/..%2Fhost.json', { file: '../host.json' });
    expect(traversal.status).toBe(404);

    const unsigned = await call('webFile', 'https://app.example.net/api/web/upload.html', { file: 'upload.html' }, {});
    expect(unsigned).toMatchObject({ status: 302, headers: { location: '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fweb%2Fupload.html' } });
  });
});
