import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { notFound } from '../problem';
import type { ApiRequest, ApiResponse } from './http';

/** What the web app is made of: anything else in the folder is never served. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** One path segment, no dot files, no `..`: the web app is flat, so nothing below or above the folder is reachable. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

/**
 * Pages only talk to this origin; images may be data: URLs, and palette swatches are styled from script (CSSOM),
 * which `style-src 'self'` allows.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const webRoots = new Map<string, string>();

/**
 * The `web` folder at the app root, found by walking up from this module: src/lib/api under vitest and tsx,
 * dist/src/lib/api once built, both locally and in the deployed package.
 */
export function findWebRoot(start = __dirname): string {
  const known = webRoots.get(start);
  if (known) return known;
  for (let dir = start, depth = 0; depth < 8; dir = dirname(dir), depth++) {
    const candidate = join(dir, 'web');
    if (existsSync(join(candidate, 'index.html'))) {
      webRoots.set(start, candidate);
      return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`No web/index.html above ${start}; the web app is not part of this deployment.`);
}

const cacheControl = (ext: string) =>
  // Pages revalidate every time so a deployment shows at once; assets are not fingerprinted, so they only get a
  // short lifetime and then revalidate with their ETag.
  ext === '.html' ? 'no-cache' : 'public, max-age=300, must-revalidate';

function securityHeaders(ext: string): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    // Page addresses (batch and image ids) stay on this origin.
    'referrer-policy': 'no-referrer',
    ...(ext === '.html' ? { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-frame-options': 'DENY' } : {}),
  };
}

/** GET /api/web and /api/web/: to the start page, keeping the query. */
export async function webIndex(request: ApiRequest): Promise<ApiResponse> {
  const url = new URL(request.url);
  const location = `${url.pathname.replace(/\/+$/, '')}/index.html${url.search}`;
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

/** GET /api/web/{file}: one file of the web app, with its content type, an ETag and cache headers. */
export async function webFile(request: ApiRequest): Promise<ApiResponse> {
  const name = request.params.file ?? '';
  const ext = extname(name).toLowerCase();
  const type = CONTENT_TYPES[ext];
  if (!FILE_NAME.test(name) || !type) throw notFound(`No file "${name}" in the web app.`);
  const root = findWebRoot();
  const path = resolve(root, name);
  // Belt and braces: the pattern already keeps the name to one segment of the folder.
  if (!path.startsWith(root + sep)) throw notFound(`No file "${name}" in the web app.`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') {
      throw notFound(`No file "${name}" in the web app.`);
    }
    throw error;
  }
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  const headers = { 'content-type': type, 'cache-control': cacheControl(ext), etag, ...securityHeaders(ext) };
  const match = request.headers.get('if-none-match');
  if (match && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
    return { status: 304, headers };
  }
  return { status: 200, headers, body: bytes };
}
