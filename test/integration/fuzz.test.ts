import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleImage, TEST_FORMATS } from '../support/images';
import { startTestHost } from './local-host';

/**
 * Mutated images through both ways in, with a fixed seed so a failure can be replayed: every answer is a 202 or a
 * 4xx problem (never a 5xx), every accepted image ends succeeded or failed (nothing stays queued or processing), and
 * the host keeps serving. Bounded: a fixed number of images, small ones, and a deadline for the processing.
 */
const SEED = 0x5eed10;
const SINGLE_UPLOADS = 150;
const BATCH_ITEMS = 40;

/** mulberry32: small, fast and the same sequence everywhere for a seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (bytes: Buffer, next: () => number) => Buffer;
const int = (next: () => number, n: number) => Math.floor(next() * n);

const MUTATIONS: Record<string, Mutation> = {
  'flip bits': (bytes, next) => {
    const out = Buffer.from(bytes);
    for (let i = 0, n = 1 + int(next, 8); i < n; i++) out[int(next, out.length)] ^= 1 << int(next, 8);
    return out;
  },
  'overwrite bytes': (bytes, next) => {
    const out = Buffer.from(bytes);
    const at = int(next, out.length);
    out.fill([0x00, 0xff, 0x7f][int(next, 3)], at, at + 1 + int(next, 16));
    return out;
  },
  'flip header bits': (bytes, next) => {
    const out = Buffer.from(bytes);
    for (let i = 0, n = 1 + int(next, 3); i < n; i++) out[int(next, Math.min(64, out.length))] ^= 1 << int(next, 8);
    return out;
  },
  truncate: (bytes, next) => bytes.subarray(0, 1 + int(next, bytes.length - 1)),
  'insert bytes': (bytes, next) => {
    const at = int(next, bytes.length);
    const junk = Buffer.from(Array.from({ length: 1 + int(next, 32) }, () => int(next, 256)));
    return Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
  },
  'repeat a slice': (bytes, next) => {
    const from = int(next, bytes.length);
    const slice = bytes.subarray(from, from + 1 + int(next, 256));
    const at = int(next, bytes.length);
    return Buffer.concat([bytes.subarray(0, at), slice, bytes.subarray(at)]);
  },
  'cut the tail': (bytes, next) => bytes.subarray(0, bytes.length - 1 - int(next, 16)),
};

let host: Awaited<ReturnType<typeof startTestHost>>;

async function mutatedImages(count: number, next: () => number): Promise<Array<{ name: string; bytes: Buffer }>> {
  const originals = await Promise.all(TEST_FORMATS.map(async (format) => ({ format, bytes: await sampleImage(format, 64, 48) })));
  const names = Object.keys(MUTATIONS);
  return Array.from({ length: count }, (_, i) => {
    const { format, bytes } = originals[int(next, originals.length)];
    const mutation = names[int(next, names.length)];
    return { name: `${i}-${format}-${mutation.replace(/ /g, '-')}`, bytes: MUTATIONS[mutation](bytes, next) };
  });
}

/** Polls until no image is queued or processing; the names of those still pending when the deadline passes. */
async function pendingAfter(deadlineMs: number): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const pending: string[] = [];
    for (const status of ['queued', 'processing']) {
      const page = (await (await fetch(`${host.apiUrl}/images?status=${status}&limit=100`)).json()) as { items: Array<{ id: string; source: { fileName?: string } }> };
      pending.push(...page.items.map((item) => `${status}: ${item.source.fileName ?? item.id}`));
    }
    if (!pending.length || Date.now() > deadline) return pending;
    await sleep(250);
  }
}

describe(`fuzzing with mutated images (seed ${SEED.toString(16)})`, () => {
  beforeAll(async () => {
    // A smaller pixel limit keeps a mutated header from asking for a huge (if legal) decode.
    host = await startTestHost({ MAX_IMAGE_PIXELS: '4000000' });
  });
  afterAll(() => host?.stop());

  it(`${SINGLE_UPLOADS} single uploads and a batch of ${BATCH_ITEMS}: no 5xx, nothing left queued or processing`, { timeout: 180_000 }, async () => {
    const next = random(SEED);
    const uploads = await mutatedImages(SINGLE_UPLOADS, next);
    const answers: Record<string, number> = {};
    for (const { name, bytes } of uploads) {
      const body = new FormData();
      body.append('file', new Blob([new Uint8Array(bytes)]), name);
      const response = await fetch(`${host.apiUrl}/images`, { method: 'POST', body });
      const text = await response.text();
      expect(response.status, `${name}: ${text}`).toBeLessThan(500);
      if (response.status !== 202) expect(response.headers.get('content-type'), name).toMatch(/^application\/problem\+json/);
      answers[response.status] = (answers[response.status] ?? 0) + 1;
    }
    // Most mutations still look like images and are accepted; the rest are refused up front.
    expect(answers[202]).toBeGreaterThan(SINGLE_UPLOADS / 4);

    const items = await mutatedImages(BATCH_ITEMS, next);
    const form = new FormData();
    for (const { name, bytes } of items) form.append('files', new Blob([new Uint8Array(bytes)]), name);
    const accepted = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };

    expect(await pendingAfter(90_000)).toEqual([]);
    let batch: { status: string; succeeded: number; failed: number } | undefined;
    for (let i = 0; i < 300 && batch?.status !== 'completed'; i++) {
      batch = (await (await fetch(`${host.apiUrl}/batches/${id}`)).json()) as typeof batch;
      if (batch?.status !== 'completed') await sleep(200);
    }
    expect(batch).toMatchObject({ status: 'completed' });
    expect(batch!.succeeded + batch!.failed).toBe(BATCH_ITEMS);

    const failed = (await (await fetch(`${host.apiUrl}/images?status=failed&limit=100`)).json()) as { items: Array<{ error?: { reason: string } }> };
    for (const item of failed.items) expect(item.error?.reason).toMatch(/\S/);
    expect(host.log.lines.filter((line) => /failed \d+ times|giving it up as poison|uploadImage failed/.test(line))).toEqual([]);
  });
});
