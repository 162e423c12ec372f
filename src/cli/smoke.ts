import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { apiClient, type ApiAuth } from './api-client';
import { waitForSummary } from './wait';

/**
 * `image-pipeline smoke`: proves a deployment works end to end through its public API. It makes its own images,
 * uploads one with `?wait` and sends a batch of three through POST /api/batches, then checks what comes back against
 * what it sent (dimensions, formats, byte counts, sha256, derivatives). The first wrong answer ends it with a
 * SmokeFailure that names the step.
 */

export interface SmokeOptions {
  /** API base, e.g. https://<app>.azurewebsites.net/api */
  api: string;
  /** How each call authenticates: an Entra ID token for the app in Azure (--api-scope), nothing for the local host. */
  auth: ApiAuth;
  /** How long each step may take, in seconds. */
  timeoutSeconds: number;
  log: (line: string) => void;
}

export class SmokeFailure extends Error {
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`${step}: ${detail}`);
  }
}

interface SmokeImage {
  name: string;
  type: string;
  format: string;
  width: number;
  height: number;
  bytes: Buffer;
}

/** The longest ?wait the API accepts (README, POST /api/images). */
const MAX_WAIT_SECONDS = 60;

/** A gradient with a few bands, so that every image has its own content, hash and size. */
async function makeImage(name: string, format: 'jpeg' | 'png' | 'webp', width: number, height: number, seed: number): Promise<SmokeImage> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = Math.floor((x + y * seed) / 16) % 2 ? 200 : 40;
    }
  }
  const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
  return { name, type: `image/${format}`, format, width, height, bytes };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** JSON with object keys sorted, so that equal values compare equal whatever order the API wrote them in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export async function runSmoke(options: SmokeOptions): Promise<void> {
  const client = apiClient(options.api, options.auth);
  const api = client.base;
  const timeout = () => AbortSignal.timeout(options.timeoutSeconds * 1000);

  async function call(step: string, url: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, headers: { ...(await options.auth()), ...(init.headers as Record<string, string>) }, signal: timeout() });
    } catch (error) {
      throw new SmokeFailure(step, `${init.method ?? 'GET'} ${url} failed: ${(error as Error).message}`);
    }
    return response;
  }

  async function json(step: string, response: Response, expected: number): Promise<Json> {
    const text = await response.text();
    if (response.status !== expected) {
      let detail = text.slice(0, 300);
      try {
        const problem = JSON.parse(text) as Json;
        detail = [problem.title, problem.detail].filter(Boolean).join(': ') || detail;
      } catch {
        // not JSON: keep the text
      }
      throw new SmokeFailure(step, `${response.url} answered ${response.status}, expected ${expected}${detail ? ` (${detail})` : ''}`);
    }
    try {
      return JSON.parse(text) as Json;
    } catch {
      throw new SmokeFailure(step, `${response.url} answered ${response.status} with a body that is not JSON`);
    }
  }

  function expectEqual(step: string, what: string, actual: unknown, expected: unknown): void {
    if (canonical(actual) !== canonical(expected)) {
      throw new SmokeFailure(step, `${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
  }

  /** The result of one image, as GET /api/images/{id} shows it, compared with what was sent. */
  async function checkResult(step: string, result: Json, sent: SmokeImage): Promise<void> {
    expectEqual(step, `status of ${sent.name}`, result.status, 'succeeded');
    expectEqual(step, `format of ${sent.name}`, result.metadata?.format, sent.format);
    expectEqual(step, `size of ${sent.name}`, [result.metadata?.width, result.metadata?.height], [sent.width, sent.height]);
    expectEqual(step, `bytes of ${sent.name}`, result.source?.bytes, sent.bytes.length);
    expectEqual(step, `sha256 of ${sent.name}`, result.source?.sha256, createHash('sha256').update(sent.bytes).digest('hex'));
    if (typeof result.analysis?.perceptualHash !== 'string') throw new SmokeFailure(step, `${sent.name} has no analysis.perceptualHash`);
    const thumbnail = result.derivatives?.thumbnail;
    if (!thumbnail?.url) throw new SmokeFailure(step, `${sent.name} has no thumbnail`);
    const response = await call(step, thumbnail.url);
    if (response.status !== 200) throw new SmokeFailure(step, `GET ${thumbnail.url} answered ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const decoded = await sharp(bytes)
      .metadata()
      .catch(() => undefined);
    if (decoded?.format !== 'jpeg') throw new SmokeFailure(step, `the thumbnail of ${sent.name} is not a JPEG`);
    expectEqual(step, `thumbnail size of ${sent.name}`, [decoded.width, decoded.height], [thumbnail.width, thumbnail.height]);
  }

  // 1. One image, processed while the request waits.
  let step = 'single upload';
  const single = await makeImage('smoke-single.jpg', 'jpeg', 640, 480, 3);
  const uploaded = await json(
    step,
    await call(step, `${api}/images?wait=${Math.min(MAX_WAIT_SECONDS, options.timeoutSeconds)}`, { method: 'POST', headers: { 'content-type': single.type }, body: new Uint8Array(single.bytes) }),
    200,
  );
  await checkResult(step, uploaded, single);
  const again = await json(step, await call(step, `${api}/images/${encodeURIComponent(String(uploaded.id))}`), 200);
  expectEqual(step, 'GET /images/{id} id', again.id, uploaded.id);
  options.log(`ok  single upload: ${uploaded.id} processed (${single.width}x${single.height} ${single.format}, thumbnail checked)`);

  // 2. A batch of three, through POST /api/batches and the stream.
  step = 'batch upload';
  const batch = [
    await makeImage('smoke-batch-0.png', 'png', 300, 200, 5),
    await makeImage('smoke-batch-1.jpg', 'jpeg', 400, 300, 7),
    await makeImage('smoke-batch-2.webp', 'webp', 250, 250, 11),
  ];
  const form = new FormData();
  for (const image of batch) form.append('files', new Blob([new Uint8Array(image.bytes)], { type: image.type }), image.name);
  const accepted = await json(step, await call(step, `${api}/batches`, { method: 'POST', body: form }), 202);
  expectEqual(step, 'itemCount', accepted.itemCount, batch.length);
  options.log(`ok  batch accepted: ${accepted.id} (${batch.length} images)`);

  step = 'batch summary';
  let completed: Json;
  try {
    completed = (await waitForSummary({ api: client, batchId: String(accepted.id), itemCount: batch.length, timeoutSeconds: options.timeoutSeconds })) as Json;
  } catch (error) {
    throw new SmokeFailure(step, (error as Error).message);
  }
  expectEqual(step, 'succeeded/failed', [completed.succeeded, completed.failed], [batch.length, 0]);
  const summary = completed.summary as Json | undefined;
  if (!summary) throw new SmokeFailure(step, 'the completed batch has no summary');
  expectEqual(step, 'summary.counts', summary.counts, { succeeded: batch.length, failed: 0, pending: 0 });
  expectEqual(step, 'summary.formats', summary.formats, { jpeg: 1, png: 1, webp: 1 });
  expectEqual(step, 'summary.sizes.totalBytes', summary.sizes?.totalBytes, batch.reduce((sum, image) => sum + image.bytes.length, 0));
  expectEqual(step, 'summary.failures', summary.failures, []);

  step = 'batch results';
  const page = await json(step, await call(step, `${api}/batches/${encodeURIComponent(String(accepted.id))}/items?limit=10`), 200);
  const items = (page.items ?? []) as Json[];
  expectEqual(step, 'item indexes', items.map((item) => item.index), [0, 1, 2]);
  for (const [index, item] of items.entries()) await checkResult(step, item, batch[index]!);
  options.log(`ok  batch completed: 3 succeeded, summary and every result checked`);
}
