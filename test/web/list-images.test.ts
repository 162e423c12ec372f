import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDocument, ImageStatus } from '../../src/lib/results/image-document';
import { queuedImage } from '../../src/lib/results/image-document';
import { startWebHost, type WebHost } from './browser';

// GET /api/images against the Cosmos stand-in, which lacks OFFSET/LIMIT and multi-field ORDER BY: the listing
// must page with continuation tokens only, newest first, ties included, across partitions.
let host: WebHost;
const docs: ImageDocument[] = [];

const FORMATS = ['jpeg', 'png', 'gif'] as const;
const STATUSES: ImageStatus[] = ['succeeded', 'failed', 'succeeded', 'queued'];

function doc(i: number, createdAt: string, batchId?: string): ImageDocument {
  const id = `list-${String(i).padStart(3, '0')}`;
  const base = queuedImage({
    id,
    partitionKey: batchId ?? id,
    batchId,
    itemIndex: batchId ? i : undefined,
    source: { container: 'uploads', blob: id, fileName: `${id}.img`, bytes: 100 + i, sha256: 'a'.repeat(64), uploadedAt: createdAt },
  });
  const status = STATUSES[i % STATUSES.length];
  return {
    ...base,
    status,
    ...(status === 'succeeded' ? { metadata: { format: FORMATS[i % 3], width: 10, height: 10, bytes: 100 + i, hasAlpha: false } } : {}),
    createdAt,
    updatedAt: createdAt,
  };
}

beforeAll(async () => {
  host = await startWebHost();
  // 30 single uploads a minute apart on 2024-03-01, then a batch of 12 created in the same millisecond (ties).
  for (let i = 0; i < 30; i++) docs.push(doc(i, new Date(Date.UTC(2024, 2, 1, 10, i)).toISOString()));
  for (let i = 30; i < 42; i++) docs.push(doc(i, '2024-03-02T08:00:00.000Z', 'batch-list-1'));
  for (const d of docs) await host.services.images.create(d);
});
afterAll(() => host?.stop());

interface Listing {
  items: Array<{ id: string; status: string; createdAt: string; batchId?: string; metadata?: { format: string }; links: { self: string } }>;
  continuationToken?: string;
  links: { first: string; next?: string };
}

const list = async (query: string) => {
  const response = await fetch(`${host.apiUrl}/images${query}`);
  return { status: response.status, body: (await response.json()) as Listing & { detail?: string } };
};

async function all(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  let next: string | undefined = `${host.apiUrl}/images${query}${query ? '&' : '?'}limit=${limit}`;
  while (next) {
    const response = await fetch(next);
    expect(response.status).toBe(200);
    const page = (await response.json()) as Listing;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((item) => item.id));
    next = page.links.next;
    pages++;
    expect(pages).toBeLessThan(100);
  }
  return { ids, pages };
}

const newestFirst = (selected: ImageDocument[]) =>
  [...selected].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((d) => d.id);

describe('GET /api/images', () => {
  it('pages through every image newest first, ties and batch items included, no repeats', async () => {
    const { ids, pages } = await all('', 7);
    expect(pages).toBeGreaterThanOrEqual(6);
    expect(new Set(ids).size).toBe(docs.length);
    expect(ids.slice(0, 12).sort()).toEqual(docs.filter((d) => d.batchId).map((d) => d.id).sort());
    expect(ids.slice(12)).toEqual(newestFirst(docs.filter((d) => !d.batchId)));
  });

  it('returns image views with links, a default page of 20 and a token for the rest', async () => {
    const { status, body } = await list('');
    expect(status).toBe(200);
    expect(body.items).toHaveLength(20);
    expect(body.items[0].links.self).toBe(`${host.apiUrl}/images/${body.items[0].id}`);
    expect(body.items[0]).not.toHaveProperty('partitionKey');
    // Signed: a base64url payload and its base64url HMAC, URL-safe as they are.
    expect(body.continuationToken).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(body.links.next).toContain(`continuationToken=${body.continuationToken}`);
  });

  it.each([
    ['?status=failed', (d: ImageDocument) => d.status === 'failed'],
    ['?format=png', (d: ImageDocument) => d.metadata?.format === 'png'],
    ['?status=succeeded&format=JPEG', (d: ImageDocument) => d.status === 'succeeded' && d.metadata?.format === 'jpeg'],
    ['?from=2024-03-01T10:10:00Z&to=2024-03-01T10:20:00Z', (d: ImageDocument) => d.createdAt >= '2024-03-01T10:10:00.000Z' && d.createdAt < '2024-03-01T10:20:00.000Z'],
    ['?from=2024-03-02', (d: ImageDocument) => d.createdAt >= '2024-03-02'],
    ['?to=2024-03-02', (d: ImageDocument) => d.createdAt < '2024-03-02'],
    ['?batch=batch-list-1&status=succeeded', (d: ImageDocument) => d.batchId === 'batch-list-1' && d.status === 'succeeded'],
  ])('filters %s', async (query, keep) => {
    const expected = docs.filter(keep);
    expect(expected.length).toBeGreaterThan(0);
    const { ids } = await all(query, 4);
    expect(ids.sort()).toEqual(expected.map((d) => d.id).sort());
  });

  it('keeps the filters in the next link', async () => {
    const { body } = await list('?status=succeeded&limit=3');
    const next = new URL(body.links.next!);
    expect(next.searchParams.get('status')).toBe('succeeded');
    expect(next.searchParams.get('limit')).toBe('3');
  });

  it.each([
    ['?limit=0', /limit must be an integer from 1 to 100/],
    ['?limit=101', /limit must be an integer from 1 to 100/],
    ['?limit=abc', /limit/],
    ['?status=done', /status must be one of queued, processing, succeeded, failed/],
    ['?format=svg', /format must be one of/],
    ['?from=yesterday', /from must be an ISO 8601 date/],
    ['?from=2024-03-02&to=2024-03-01', /must be before/],
    ['?batch=../x', /not a valid batch id/],
    ['?sort=name', /Unknown query parameter "sort"/],
    ['?continuationToken=nonsense', /continuationToken is not one this API issued/],
  ])('refuses %s with a 400 problem', async (query, detail) => {
    const { status, body } = await list(query);
    expect(status).toBe(400);
    expect(body.detail).toMatch(detail);
  });

  it('refuses a token replayed with other filters', async () => {
    const { body } = await list('?status=succeeded&limit=2');
    const { status, body: problem } = await list(`?status=failed&limit=2&continuationToken=${body.continuationToken}`);
    expect(status).toBe(400);
    expect(problem.detail).toMatch(/belongs to a listing with other filters/);
  });
});
