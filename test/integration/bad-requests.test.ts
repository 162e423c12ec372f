import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from '../../src/lib/problem';
import { encodeBmp, pngBomb, riffNotWebp, sampleImage, solidRaster, textFile, truncatedJpeg, truncatedPng, unreadableJpegHeader } from '../support/images';
import { startTestHost } from './local-host';

/**
 * Bad requests against the local host, as an attacker or a broken client sends them: each must get the precise
 * status and problem type as problem+json, and the host must still serve afterwards (a listing that reads Cosmos DB).
 */
let host: Awaited<ReturnType<typeof startTestHost>>;
let port: number;
const MAX_UPLOAD_BYTES = 200_000;
const BODY_TIMEOUT_MS = 300;
const state: { imagesToken: string; batchId: string; itemsToken: string; otherBatchId: string; png: Buffer } = { imagesToken: '', batchId: '', itemsToken: '', otherBatchId: '', png: Buffer.alloc(0) };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes exactly as given on a fresh connection and reads the one answer (the server closes or says how long). */
function raw(request: string | Buffer): Promise<Answer> {
  const head = request.toString('latin1').startsWith('HEAD ');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${JSON.stringify(request.toString().slice(0, 80))}`));
    }, 5000);
    const parse = (): Answer | undefined => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const body = received.subarray(end + 4);
      const length = Number(headers['content-length'] ?? NaN);
      if (!head && Number.isFinite(length) && body.length < length) return undefined;
      return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
    };
    const finish = () => {
      const answer = parse();
      if (!answer) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      finish();
    });
    socket.on('end', finish);
    socket.on('error', (error) => {
      clearTimeout(timer);
      const answer = parse();
      if (answer) resolve(answer);
      else reject(error);
    });
    socket.write(request);
  });
}

async function viaFetch(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual', ...init });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

const get = (path: string) => viaFetch(path);
const post = (path: string, body: RequestInit['body'], contentType?: string) => viaFetch(path, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
const form = (files: Array<[string, Buffer, string?]>, fields: Record<string, string> = {}) => {
  const data = new FormData();
  for (const [name, bytes, type] of files) data.append('file', new Blob([new Uint8Array(bytes)], { type: type ?? 'application/octet-stream' }), name);
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
};
const request = (method: string, path: string, headers: string[] = [], body = '') =>
  raw(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`);

type Case = [name: string, send: () => Promise<Answer>, status: number, type: ProblemType];
const cases: Case[] = [];
const add = (name: string, send: () => Promise<Answer>, type: ProblemType, status: number = PROBLEM_TYPES[type].status) => cases.push([name, send, status, type]);

// --- The request line, the path and the headers (the local host's own parsing) -------------------------------------
for (const path of ['/api/images/%', '/api/images/%E0%A4%A', '/api/images/%ZZ', '/api/images/%C3', '/api/images/%C3%28', '/api/batches/%FF', '/api/batches/%E0%A4%A/items', '/api/images/abc/%E0', '/api/web/%', '/api/web/%C0%AF']) {
  add(`malformed percent-escape ${path}`, () => request('GET', path), 'malformed-request');
}
for (const hostHeader of ['[bad', '[::1', 'x/y', 'user@host', 'host:port:extra', 'a b', 'host?q', 'exa mple.com:80']) {
  add(`Host: ${hostHeader}`, () => raw(`GET /api/images HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`), 'malformed-request');
}
add('negative Content-Length', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: -1']), 'malformed-request');
add('non-numeric Content-Length', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: ten']), 'malformed-request');
add('Content-Length with chunked', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), 'malformed-request');
add('two different Content-Lengths', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: 5', 'Content-Length: 6'], 'abcdef'), 'malformed-request');
add('headers over 16 KB', () => request('GET', '/api/images', [`X-Padding: ${'a'.repeat(17_000)}`]), 'header-fields-too-large');
add('many headers over 16 KB', () => request('GET', '/api/images', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(40)}`)), 'header-fields-too-large');
add('unknown method FOO', () => request('FOO', '/api/images'), 'not-implemented');
add('unknown method BREW', () => request('BREW', '/'), 'not-implemented');
add('garbage request line', () => raw('this is not http\r\n\r\n'), 'malformed-request');
add('binary garbage', () => raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])), 'malformed-request');
add('HTTP/9.9', () => raw('GET /api/images HTTP/9.9\r\nHost: x\r\n\r\n'), 'malformed-request');
add('space in a header name', () => request('GET', '/api/images', ['Bad Header: x']), 'malformed-request');
add('control character in a header value', () => request('GET', '/api/images', ['X-A: a\x01b']), 'malformed-request');
add('a body shorter than its Content-Length', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: 1000'], 'only a little'), 'request-timeout');
add('a body shorter than its Content-Length (batch)', () => request('POST', '/api/batches', ['Content-Type: multipart/form-data; boundary=x', 'Content-Length: 5000'], '--x\r\n'), 'request-timeout');
add('a multipart body that stops half-way', () => request('POST', '/api/images', ['Content-Type: multipart/form-data; boundary=x', 'Content-Length: 100000'], '--x\r\nContent-Disposition: form-data; name="f"; filename="a.png"\r\n\r\n\x89PNG'), 'request-timeout');

// --- Routes and methods ------------------------------------------------------------------------------------------
const getRoutes = ['/api/images', '/api/images/some-id', '/api/images/some-id/thumbnail', '/api/batches/some-batch', '/api/batches/some-batch/items', '/api/web/index.html', '/api/web'];
for (const path of getRoutes) {
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    // PUT /api/batches/{id} registers a batch (below).
    if (method === 'PUT' && path === '/api/batches/some-batch') continue;
    add(`${method} ${path}`, () => request(method, path, ['Content-Length: 0']), 'method-not-allowed');
  }
}
for (const path of getRoutes.slice(1)) add(`POST ${path}`, () => request('POST', path, ['Content-Length: 0']), 'method-not-allowed');
add('GET /api/batches/{id}/retry (POST only)', () => request('GET', '/api/batches/b1/retry'), 'method-not-allowed');
add('HEAD /api/batches/{id}/retry (POST only)', () => request('HEAD', '/api/batches/b1/retry'), 'method-not-allowed');
add('DELETE /', () => request('DELETE', '/'), 'method-not-allowed');
for (const path of ['/api', '/api/', '/api/nothing', '/api/images/a/b/c', '/favicon.ico', '/index.html', '/api/web/../package.json', '/api/web/.env', '/api/web/%2e%2e%2fpackage.json', '/api/web/sub/dir.js', '/api/web/x.exe', '/api/web/missing.html', '/api/batches/x/items/y']) {
  add(`no endpoint ${path}`, () => request('GET', path), 'not-found');
}

// --- Ids ---------------------------------------------------------------------------------------------------------
for (const id of ['bad%20id!', 'a'.repeat(129), 'x.y', '%20', '%C3%BC', 'a:b', 'a%2Fb', '-%7E-', '%00']) {
  add(`image id ${id.slice(0, 20)}`, () => get(`/api/images/${id}`), 'invalid-id');
  add(`thumbnail of image id ${id.slice(0, 20)}`, () => get(`/api/images/${id}/thumbnail`), 'invalid-id');
}
for (const id of ['a_b', 'b'.repeat(101), 'a.b', '%20', 'a%2Fb', '%C3%BC', 'semi;colon']) {
  add(`batch id ${id.slice(0, 20)}`, () => get(`/api/batches/${id}`), 'invalid-id');
  add(`items of batch id ${id.slice(0, 20)}`, () => get(`/api/batches/${id}/items`), 'invalid-id');
}
for (const id of ['no-such-image', 'x', '00000000-0000-0000-0000-000000000000', 'blob-0123']) add(`unknown image ${id}`, () => get(`/api/images/${id}`), 'not-found');
for (const id of ['no-such-batch', '00000000-0000-0000-0000-000000000000']) add(`unknown batch ${id}`, () => get(`/api/batches/${id}`), 'not-found');
for (const name of ['poster', 'original', 'THUMBNAIL', '__proto__', 'constructor']) add(`derivative ${name}`, () => get(`/api/images/some-id/${name}`), 'not-found');

// --- GET /api/images queries -------------------------------------------------------------------------------------
for (const query of [
  'status=done', 'status=SUCCEEDED', 'status=queued,failed', 'format=jpg', 'format=svg', 'format=heic',
  'from=yesterday', 'from=2024-13-01', 'from=2024-05-01T25:00:00Z', 'from=2024-05-01T12:00', 'to=1714560000', 'to=2024-02-30x',
  'from=2024-05-02&to=2024-05-01', 'from=2024-05-01&to=2024-05-01', 'batch=a_b', 'batch=' + 'c'.repeat(101), 'batch=a.b',
  'limit=0', 'limit=101', 'limit=-1', 'limit=1.5', 'limit=abc', 'limit=1e2x', 'page=2', 'sort=asc', 'STATUS=failed', 'offset=10',
]) {
  add(`GET /api/images?${query.slice(0, 40)}`, () => get(`/api/images?${query}`), 'invalid-query');
}
for (const [name, token] of [
  ['garbage', () => 'not-a-token'],
  ['base64 JSON without a signature', () => Buffer.from(JSON.stringify({ f: 'x', t: 'y' })).toString('base64url')],
  ['an empty signature', () => `${state.imagesToken.split('.')[0]}.`],
  ['a forged signature', () => `${state.imagesToken.split('.')[0]}.${Buffer.alloc(32, 7).toString('base64url')}`],
  ['an altered payload', () => `${Buffer.from(JSON.stringify({ s: 'x', v: '{"token":"-RID:~abc"}' })).toString('base64url')}.${state.imagesToken.split('.')[1]}`],
  ['three parts', () => `${state.imagesToken}.extra`],
  ['a batch items token', () => state.itemsToken],
  ['the store token re-wrapped with an unkeyed filter hash', () => {
    // What anyone could make before tokens were signed: the filter's sha256 and any store token.
    const storeToken = (JSON.parse(Buffer.from(state.imagesToken.split('.')[0], 'base64url').toString('utf8')) as { v: string }).v;
    const f = createHash('sha256').update(JSON.stringify([null, null, null, null, null])).digest('base64url').slice(0, 16);
    return Buffer.from(JSON.stringify({ f, t: storeToken })).toString('base64url');
  }],
] as const) {
  add(`continuationToken: ${name}`, () => get(`/api/images?limit=1&continuationToken=${encodeURIComponent(token())}`), 'invalid-continuation-token');
}
add('continuationToken replayed with other filters', () => get(`/api/images?limit=1&status=succeeded&continuationToken=${state.imagesToken}`), 'invalid-continuation-token');
add('continuationToken replayed with another batch filter', () => get(`/api/images?limit=1&batch=${state.batchId}&continuationToken=${state.imagesToken}`), 'invalid-continuation-token');

// --- GET /api/batches/{id}/items queries -------------------------------------------------------------------------
for (const limit of ['0', '1001', '-5', 'x', '2.5']) add(`items limit=${limit}`, () => get(`/api/batches/${state.batchId}/items?limit=${limit}`), 'invalid-query');
for (const [name, token] of [
  ['garbage', () => 'zzz'],
  ['an unsigned index', () => Buffer.from(JSON.stringify({ after: 1 })).toString('base64url')],
  ['a listing token', () => state.imagesToken],
  ['a forged signature', () => `${state.itemsToken.split('.')[0]}.${Buffer.alloc(32).toString('base64url')}`],
  ['another batch', () => state.itemsToken],
] as const) {
  add(`items continuationToken: ${name}`, () => get(`/api/batches/${name === 'another batch' ? state.otherBatchId : state.batchId}/items?limit=1&continuationToken=${encodeURIComponent(token())}`), 'invalid-continuation-token');
}

// --- POST /api/images ---------------------------------------------------------------------------------------------
add('no Content-Type', () => viaFetch('/api/images', { method: 'POST', body: new Uint8Array([1, 2, 3]) }), 'unsupported-media-type');
for (const type of ['text/plain', 'application/json', 'application/x-www-form-urlencoded', 'video/mp4', 'imagejpeg']) add(`Content-Type ${type}`, () => post('/api/images', 'abc', type), 'unsupported-media-type');
add('empty body', () => post('/api/images', new Uint8Array(0), 'image/png'), 'empty-image');
add('chunked body', () => raw(`POST /api/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n\x89PNG\r\n0\r\n\r\n`), 'length-required');
add('Content-Length over the limit', () => request('POST', '/api/images', ['Content-Type: image/png', `Content-Length: ${MAX_UPLOAD_BYTES + 1}`]), 'content-too-large');
add('a body over the limit', () => post('/api/images', Buffer.alloc(MAX_UPLOAD_BYTES + 10, 1), 'image/png'), 'content-too-large');
add('Content-Length of 10^20 (overflows the parser)', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: 100000000000000000000']), 'malformed-request');
add('Content-Length of 10^15', () => request('POST', '/api/images', ['Content-Type: image/png', 'Content-Length: 1000000000000000']), 'content-too-large');
add('malformed multipart', () => post('/api/images', '--nope\r\ngarbage', 'multipart/form-data; boundary=xyz'), 'invalid-form');
add('multipart without a boundary', () => post('/api/images', 'x', 'multipart/form-data'), 'invalid-form');
add('multipart without files', () => viaFetch('/api/images', { method: 'POST', body: form([], { note: 'hi' }) }), 'invalid-form');
add('multipart with two files', () => viaFetch('/api/images', { method: 'POST', body: form([['a.png', state.png], ['b.png', state.png]]) }), 'invalid-form');
add('a file over the limit in multipart', () => viaFetch('/api/images', { method: 'POST', body: form([['big.png', Buffer.concat([state.png, Buffer.alloc(MAX_UPLOAD_BYTES)])]]) }), 'image-too-large');
const images: Array<[string, () => Buffer | Promise<Buffer>, ProblemType]> = [
  ['a text file', textFile, 'unsupported-image-type'],
  ['HTML', () => Buffer.from('<!doctype html><title>x</title>'), 'unsupported-image-type'],
  ['a ZIP', () => Buffer.from('PK\x03\x04 rest of a zip', 'latin1'), 'unsupported-image-type'],
  ['a PDF', () => Buffer.from('%PDF-1.7\n', 'latin1'), 'unsupported-image-type'],
  ['an SVG', () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'unsupported-image-type'],
  ['RIFF that is not WebP', riffNotWebp, 'unsupported-image-type'],
  ['"BM" and nothing else', () => Buffer.from('BM'), 'unsupported-image-type'],
  ['a truncated JPEG', truncatedJpeg, 'truncated-image'],
  ['a truncated PNG', truncatedPng, 'truncated-image'],
  ['a PNG missing the last byte of IEND', () => state.png.subarray(0, state.png.length - 1), 'truncated-image'],
  ['a PNG missing its IEND CRC', () => state.png.subarray(0, state.png.length - 4), 'truncated-image'],
  ['a PNG header and nothing else', () => state.png.subarray(0, 33), 'truncated-image'],
  ['a JPEG without image data', () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xd9]), 'unreadable-image-header'],
  ['an unreadable JPEG header', unreadableJpegHeader, 'unreadable-image-header'],
  ['a PNG decompression bomb (50000x50000)', () => pngBomb(), 'too-many-pixels'],
  ['a PNG of 1 x 50000001', () => pngBomb(1, 50_000_001), 'too-many-pixels'],
  ['a PNG of 0 x 10', () => pngBomb(0, 10), 'unreadable-image-header'],
  ['a GIF bomb header', () => Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0]), Buffer.alloc(20)]), 'too-many-pixels'],
  ['a BMP with an impossible header size', () => { const b = encodeBmp(solidRaster(4, 4, [1, 2, 3])); b.writeUInt32LE(7, 14); return b; }, 'unreadable-image-header'],
  ['a BMP with negative width', () => { const b = encodeBmp(solidRaster(4, 4, [1, 2, 3])); b.writeInt32LE(-4, 18); return b; }, 'unreadable-image-header'],
  ['an OS/2 BMP claiming 65535x65535', () => { const b = Buffer.alloc(26 + 64); b.write('BM', 0, 'latin1'); b.writeUInt32LE(26, 10); b.writeUInt32LE(12, 14); b.writeUInt16LE(65535, 18); b.writeUInt16LE(65535, 20); b.writeUInt16LE(1, 22); b.writeUInt16LE(24, 24); return b; }, 'too-many-pixels'],
  ['a BMP cut short', () => encodeBmp(solidRaster(40, 40, [9, 9, 9])).subarray(0, 2000), 'truncated-image'],
  ['a BMP with 7 bits per pixel', () => { const b = encodeBmp(solidRaster(4, 4, [1, 2, 3])); b.writeUInt16LE(7, 28); return b; }, 'unreadable-image-header'],
];
for (const [name, make, type] of images) {
  add(`upload of ${name}`, async () => post('/api/images', await make(), 'image/png'), type);
  add(`multipart upload of ${name}`, async () => viaFetch('/api/images', { method: 'POST', body: form([['x.png', await make()]]) }), type);
}
for (const wait of ['-1', '61', 'abc', '', ' ', '1e9', 'NaN', 'Infinity', '0x10']) add(`wait=${JSON.stringify(wait)}`, () => post(`/api/images?wait=${encodeURIComponent(wait)}`, state.png, 'image/png'), 'invalid-query');

// --- POST /api/batches --------------------------------------------------------------------------------------------
for (const type of ['image/png', 'application/json', 'text/plain']) add(`batch as ${type}`, () => post('/api/batches', 'x', type), 'unsupported-media-type');
add('batch without files', () => viaFetch('/api/batches', { method: 'POST', body: form([], { callbackUrl: 'https://example.com/x' }) }), 'invalid-form');
add('batch with a malformed body', () => post('/api/batches', '--b\r\nnope', 'multipart/form-data; boundary=b'), 'invalid-form');
add('batch chunked', () => raw(`POST /api/batches HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`), 'length-required');
add('batch callbackUrl as a file', () => {
  const data = form([['a.png', state.png]]);
  data.append('callbackUrl', new Blob(['https://example.com/hook']), 'url.txt');
  return viaFetch('/api/batches', { method: 'POST', body: data });
}, 'invalid-form');
for (const url of [
  'not a url', 'ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/',
  'http://168.63.129.16/machine', 'http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]/hook', 'http://0.0.0.0/', 'http://10.0.0.1/hook',
  'http://192.168.1.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/', 'https://user:pass@example.com/', 'http://224.0.0.1/',
]) {
  add(`batch callbackUrl ${url}`, () => viaFetch('/api/batches', { method: 'POST', body: form([['a.png', state.png]], { callbackUrl: url }) }), 'callback-not-allowed');
}

// --- PUT /api/batches/{id} (registration) -------------------------------------------------------------------------
const register = (id: string, body: string, contentType = 'application/json') => viaFetch(`/api/batches/${id}`, { method: 'PUT', body, headers: { 'content-type': contentType } });
for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) add(`registration as ${type}`, () => register('reg-1', '{"itemCount":1}', type), 'unsupported-media-type');
for (const body of ['', 'not json', '[]', '{}', '{"itemCount":0}', '{"itemCount":10001}', '{"itemCount":1.5}', '{"itemCount":"2"}', '{"itemCount":1,"owner":"someone-else"}', '{"itemCount":1,"callbackUrl":7}']) {
  add(`registration body ${body || '(empty)'}`, () => register('reg-1', body), 'bad-request');
}
add('registration of a batch id with a slash', () => register('a%2Fb', '{"itemCount":1}'), 'invalid-id');
add('registration of batch id a_b', () => register('a_b', '{"itemCount":1}'), 'invalid-id');
add('registration callbackUrl to the metadata service', () => register('reg-2', '{"itemCount":1,"callbackUrl":"http://169.254.169.254/"}'), 'callback-not-allowed');
add('registration over 4096 bytes', () => register('reg-3', JSON.stringify({ itemCount: 1, callbackUrl: `https://example.com/${'x'.repeat(5000)}` })), 'content-too-large');
add('registration of a taken batch id with another item count', () => register(state.batchId, '{"itemCount":3}'), 'batch-exists');

describe('bad requests against the local host', () => {
  beforeAll(async () => {
    host = await startTestHost({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), MAX_IMAGE_PIXELS: '50000000', REQUEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
    port = Number(new URL(host.apiUrl).port);
    state.png = await sampleImage('png', 32, 24);
    // Two single uploads and two batches, for genuine continuation tokens to misuse.
    for (let i = 0; i < 2; i++) expect((await post('/api/images?wait=20', state.png, 'image/png')).status).toBe(200);
    state.imagesToken = JSON.parse((await get('/api/images?limit=1')).body).continuationToken;
    for (const key of ['batchId', 'otherBatchId'] as const) {
      const accepted = JSON.parse((await viaFetch('/api/batches', { method: 'POST', body: form([['a.png', state.png], ['b.png', state.png]]) })).body) as { id: string };
      state[key] = accepted.id;
    }
    for (let i = 0; i < 100 && !state.itemsToken; i++) {
      const page = JSON.parse((await get(`/api/batches/${state.batchId}/items?limit=1`)).body) as { continuationToken?: string };
      if (page.continuationToken) state.itemsToken = page.continuationToken;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state.imagesToken && state.itemsToken).toBeTruthy();
  });
  afterAll(() => host?.stop());

  it(`has at least 200 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });

  it.each(cases)('%s', async (name, send, status, type) => {
    const answer = await send();
    expect(answer.status, answer.body).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    // A HEAD answer has the headers of the problem and no body.
    if (!name.startsWith('HEAD ')) {
      const problem = JSON.parse(answer.body) as Record<string, unknown>;
      expect(problem).toMatchObject({ type: problemTypeUri(type), status, title: PROBLEM_TYPES[type].title, detail: expect.any(String) });
    }
    if (status === 405) expect(answer.headers.allow).toMatch(/OPTIONS$/);
    // Still serving, Cosmos DB included.
    const listing = await get('/api/images?limit=1');
    expect(listing.status).toBe(200);
  });

  it('answers HEAD and OPTIONS on GET routes, and sends / to the web app', async () => {
    const head = await request('HEAD', '/api/web/index.html');
    const page = await get('/api/web/index.html');
    expect([head.status, head.body]).toEqual([200, '']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(page.body)));
    expect(head.headers.etag).toBe(page.headers.etag);
    expect((await request('HEAD', '/api/images?limit=1')).status).toBe(200);
    expect((await request('HEAD', '/api/images/no-such-image')).status).toBe(404);
    for (const [path, allow] of [['/api/images', 'POST, GET, HEAD, OPTIONS'], ['/api/images/x', 'GET, HEAD, OPTIONS'], ['/api/batches', 'POST, GET, HEAD, OPTIONS'], ['/api/batches/b1/retry', 'POST, OPTIONS'], ['/', 'GET, HEAD, OPTIONS']]) {
      const options = await request('OPTIONS', path);
      expect([options.status, options.headers.allow], path).toEqual([204, allow]);
    }
    const root = await get('/');
    expect([root.status, root.headers.location]).toEqual([302, '/api/web/']);
  });

  it('keeps a long file name shortened instead of failing the upload', async () => {
    const name = `${'ü'.repeat(2000)}.png`;
    const answer = await viaFetch('/api/images?wait=20', { method: 'POST', body: form([[name, state.png, 'image/png']]) });
    expect(answer.status).toBe(200);
    const result = JSON.parse(answer.body) as { status: string; source: { fileName: string } };
    expect(result.status).toBe('succeeded');
    expect(result.source.fileName).toBe(`${'ü'.repeat(125)}.png`);
  });
});
