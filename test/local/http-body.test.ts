// The local host hands a request body to its handler as the chunks Node received (no copy of each, as
// Readable.toWeb makes), reads the socket only as fast as the handler reads the body, and fails the read of a body
// whose client goes away.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiRequest, ApiResponse } from '../../src/lib/api/http';
import { createApiServer } from '../../src/local/http-server';
import { until } from '../support/until';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A local host server with one page, POST /upload, answered by `handler`; its URL and the server side's sockets. */
async function serve(handler: (request: ApiRequest) => Promise<ApiResponse>): Promise<{ url: string; sockets: Socket[] }> {
  server = createApiServer([], () => Promise.reject(new Error('no routes')), { bodyTimeoutMs: 10_000, localPages: [{ path: '/upload', methods: ['POST'], handler }] });
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, sockets };
}

/** Sends `body` to `url` as fast as the server takes it; resolves with the answer, or rejects when the send fails. */
function post(url: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks;
}

describe('local host: request bodies', () => {
  it('passes the body on as the Buffers Node received, every byte in order', async () => {
    const sent = randomBytes(3 * 1024 * 1024);
    let chunks: Uint8Array[] = [];
    const { url } = await serve(async (req) => {
      chunks = await readAll(req.body!);
      return { status: 204 };
    });
    expect((await post(url, sent)).status).toBe(204);
    expect(chunks.length).toBeGreaterThan(1);
    // Readable.toWeb would give plain Uint8Array copies.
    expect(chunks.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
  });

  it('reads no further ahead of the handler than a small buffer: the client waits while the handler does', async () => {
    const sent = randomBytes(32 * 1024 * 1024);
    let started!: () => void;
    const reading = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let received = Buffer.alloc(0);
    const { url, sockets } = await serve(async (req) => {
      started();
      await released;
      received = Buffer.concat(await readAll(req.body!));
      return { status: 204 };
    });
    const answer = post(url, sent);
    await reading;
    // Whatever the client has sent by now waits in socket buffers, not in the host: it has read at most a few
    // hundred kilobytes past the headers (Node's own reads, the stream's high-water mark).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sockets[0].bytesRead).toBeLessThan(4 * 1024 * 1024);
    release();
    expect((await answer).status).toBe(204);
    expect(received.equals(sent)).toBe(true);
  });

  it('fails the read of a body whose client goes away half-way', async () => {
    let failure: unknown;
    let got = 0;
    const { url } = await serve(async (req) => {
      try {
        for await (const chunk of req.body!) got += chunk.length;
      } catch (error) {
        failure = error;
      }
      return { status: 204 };
    });
    const req = request(url, { method: 'POST', headers: { 'content-length': 4 * 1024 * 1024 } });
    req.on('error', () => undefined);
    req.write(randomBytes(1024 * 1024));
    await until(() => got > 0);
    req.destroy();
    await until(() => failure !== undefined);
    expect(failure).toBeInstanceOf(Error);
  });
});
