import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROUTES } from '../../src/lib/api/routes';
import { findWebRoot } from '../../src/lib/api/static-files';
import { startWebHost, type WebHost } from './browser';

let host: WebHost;
beforeAll(async () => {
  host = await startWebHost();
});
afterAll(() => host?.stop());

/** A raw GET, so paths reach the server exactly as written (fetch would normalise `..` away). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(host.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web app static files', () => {
  it('are anonymous routes of their own in the route table, with the OpenAPI document', () => {
    expect(WEB_ROUTES.map((r) => [r.method, r.route])).toEqual([
      ['GET', 'web'],
      ['GET', 'web/{file}'],
      ['GET', 'openapi.json'],
    ]);
  });

  it('redirects the folder to its start page, keeping the query', async () => {
    for (const path of ['/api/web', '/api/web/', '/api/web?code=abc']) {
      const response = await rawGet(path);
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe(`/api/web/index.html${path.includes('?') ? '?code=abc' : ''}`);
    }
  });

  it.each([
    ['index.html', 'text/html; charset=utf-8', 'no-cache'],
    ['upload.html', 'text/html; charset=utf-8', 'no-cache'],
    ['batch.html', 'text/html; charset=utf-8', 'no-cache'],
    ['results.html', 'text/html; charset=utf-8', 'no-cache'],
    ['styles.css', 'text/css; charset=utf-8', 'public, max-age=300, must-revalidate'],
    ['common.js', 'text/javascript; charset=utf-8', 'public, max-age=300, must-revalidate'],
    ['favicon.svg', 'image/svg+xml', 'public, max-age=300, must-revalidate'],
  ])('serves %s as %s with cache headers and an ETag', async (file, type, cache) => {
    const response = await rawGet(`/api/web/${file}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(type);
    expect(response.headers['cache-control']).toBe(cache);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.etag).toMatch(/^"[\w-]+"$/);
    if (file.endsWith('.html')) expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    const again = await rawGet(`/api/web/${file}`, { 'if-none-match': String(response.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    '/api/web/..%2Fpackage.json',
    '/api/web/%2e%2e%2fpackage.json',
    '/api/web/..%5Cpackage.json',
    '/api/web/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/api/web/.gitignore',
    '/api/web/..',
    '/api/web/missing.html',
    '/api/web/index.html.bak',
    '/api/web/README',
    '/api/web/index.html%00.js',
  ])('refuses %s with a 404 problem', async (path) => {
    const response = await rawGet(path);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).not.toContain('"name"'); // never package.json
  });

  it('does not serve below or above the folder', async () => {
    for (const path of ['/api/web/../package.json', '/api/web/sub/index.html', '/api/web/%2Fetc%2Fpasswd']) {
      const response = await rawGet(path);
      expect(response.status, path).toBe(404);
    }
  });

  it('finds the web folder above the module, from the sources and from the build', () => {
    const root = join(__dirname, '..', '..');
    expect(findWebRoot()).toBe(join(root, 'web'));
    expect(findWebRoot(join(root, 'dist', 'src', 'lib', 'web'))).toBe(join(root, 'web'));
    expect(() => findWebRoot(tmpdir())).toThrow(/No web\/index.html above/);
  });
});
