import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { sampleImage } from '../support/images';
import { startTestHost } from '../integration/local-host';

/**
 * The local host hands a handler the request body as the socket's own chunks (src/local/http-server.ts bodyStream):
 * a body that arrives in many small, slow pieces must reach storage byte for byte (the stream pauses and resumes the
 * socket), and a client that goes away half-way must leave nothing stored and the host serving.
 */
let host: Awaited<ReturnType<typeof startTestHost>>;
let port: number;

/** Sends the head, then the body in `pieces` writes with a pause between them; resolves with the raw answer. */
function sendInPieces(head: string, body: Buffer, pieces: number, pauseMs: number, stopAfter = pieces): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    void (async () => {
      socket.write(head);
      const size = Math.ceil(body.length / pieces);
      for (let i = 0; i < stopAfter; i++) {
        socket.write(body.subarray(i * size, (i + 1) * size));
        await sleep(pauseMs);
      }
      if (stopAfter < pieces) socket.destroy();
    })().catch(reject);
  });
}

const uploadHead = (length: number) => `POST /api/images HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

beforeAll(async () => {
  host = await startTestHost({ BLOB_WATCH_INTERVAL_MS: '3600000' });
  port = Number(new URL(host.apiUrl).port);
});

afterAll(async () => {
  await host?.stop();
});

describe('the request body as the local host reads it', () => {
  it('stores an upload that arrives in 40 slow pieces byte for byte', async () => {
    const image = await sampleImage('jpeg', 640, 480);
    const answer = await sendInPieces(uploadHead(image.length), image, 40, 5);
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    const id = /"id":"([^"]+)"/.exec(answer)?.[1];
    const stored = await host.services.blobs.get(BLOB_CONTAINERS.uploads, id!);
    expect(createHash('sha256').update(stored!.bytes).digest('hex')).toBe(createHash('sha256').update(image).digest('hex'));
  });

  it('stores nothing when the client goes away half-way, and keeps serving', async () => {
    const before: string[] = [];
    for await (const blob of host.services.blobs.list(BLOB_CONTAINERS.uploads)) before.push(blob.name);
    const image = await sampleImage('jpeg', 640, 480);
    await sendInPieces(uploadHead(image.length), image, 10, 5, 4);
    // Served after the abandoned request, which failed as soon as its socket closed.
    const listing = await fetch(`${host.apiUrl}/images`);
    expect(listing.status).toBe(200);
    const after: string[] = [];
    for await (const blob of host.services.blobs.list(BLOB_CONTAINERS.uploads)) after.push(blob.name);
    expect(after).toEqual(before);
  });
});
