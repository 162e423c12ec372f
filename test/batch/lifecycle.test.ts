import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src/lib/batch/record';
import { encodeImage, solidRaster } from '../support/images';
import { startBatchHost, waitForBatch, type BatchView } from './host';

/** Seconds without a record before a receiving batch is closed: short, so the test sees the window close. */
const TIMEOUT_SECONDS = 3;

type Host = Awaited<ReturnType<typeof startBatchHost>>;

const image = (i: number) => encodeImage(solidRaster(64, 48, [20 * i, 255 - 20 * i, 90]), i % 2 ? 'png' : 'jpeg');

async function send(host: Host, batchId: string, indexes: number[], count: number): Promise<void> {
  const records = await Promise.all(indexes.map(async (index) => buildRecord({ batchId, index, count, fileName: `img-${index}`, bytes: await image(index) })));
  await host.services.batchStream!.publish(records);
}

const getJson = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, init);
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
};

describe('batch lifecycle on the local host (in-process stream, Azurite, Cosmos stand-in)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startBatchHost({ BATCH_RECEIVE_TIMEOUT: String(TIMEOUT_SECONDS) });
  });
  afterAll(() => host?.stop());

  let incomplete: BatchView;

  it('a 10-item batch that gets 9 records ends incomplete after the receive timeout: the missing index listed, the 9 processed', async () => {
    const batchId = 'nine-of-ten';
    await send(host, batchId, [0, 1, 2, 3, 4, 5, 7, 8, 9], 10);
    incomplete = await waitForBatch(`${host.apiUrl}/batches/${batchId}`, 30_000);
    expect(incomplete).toMatchObject({ status: 'incomplete', itemCount: 10, received: 10, processed: 10, succeeded: 9, failed: 1 });
    expect(incomplete.summary!.counts).toEqual({ succeeded: 9, failed: 1, pending: 0 });
    expect(incomplete.summary!.failures).toEqual([{ index: 6, reason: 'never received' }]);
    // It waited for the window: closed no sooner than the timeout after its last record.
    const { closedAt, createdAt } = incomplete as unknown as { closedAt: string; createdAt: string };
    expect(Date.parse(closedAt) - Date.parse(createdAt)).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000);
    const items = await getJson(`${host.apiUrl}/batches/${batchId}/items?limit=10`);
    expect((items.body.items as Array<{ index: number; status: string; error?: { reason: string } }>).map((i) => [i.index, i.status, i.error?.reason])).toEqual(
      Array.from({ length: 10 }, (_, i) => (i === 6 ? [6, 'failed', 'never received'] : [i, 'succeeded', undefined])),
    );
  });

  it('the missing record arriving late is rejected with "batch already ended" and kept on the batch', async () => {
    await send(host, 'nine-of-ten', [6], 10);
    let batch = await getJson(`${host.apiUrl}/batches/nine-of-ten`);
    for (const until = Date.now() + 10_000; !(batch.body.rejected as unknown[]).length && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      batch = await getJson(`${host.apiUrl}/batches/nine-of-ten`);
    }
    expect(batch.body).toMatchObject({ status: 'incomplete', rejected: [{ index: 6, fileName: 'img-6', reason: 'batch already ended', headers: { 'ip-item-index': '6' } }] });
  });

  it('GET /api/batches lists batches by status and last change, a page at a time', async () => {
    await send(host, 'still-open', [0], 3);
    await send(host, 'tiny', [0], 1);
    await waitForBatch(`${host.apiUrl}/batches/tiny`);
    const completed = await getJson(`${host.apiUrl}/batches?status=completed`);
    expect(completed.status).toBe(200);
    expect((completed.body.items as Array<{ id: string }>).map((b) => b.id)).toEqual(['tiny']);
    const incompleteOnes = await getJson(`${host.apiUrl}/batches?status=incomplete`);
    expect((incompleteOnes.body.items as Array<{ id: string; status: string }>).map((b) => b.id)).toContain('nine-of-ten');

    const ids: string[] = [];
    let next: string | undefined = `${host.apiUrl}/batches?limit=1`;
    while (next) {
      const page = await getJson(next);
      expect((page.body.items as unknown[]).length).toBeLessThanOrEqual(1);
      ids.push(...(page.body.items as Array<{ id: string }>).map((b) => b.id));
      next = (page.body.links as { next?: string }).next;
    }
    expect(ids.sort()).toEqual(['nine-of-ten', 'still-open', 'tiny']);

    const past = await getJson(`${host.apiUrl}/batches?updatedBefore=2000-01-01`);
    expect(past.body.items).toEqual([]);
    for (const query of ['status=stuck', 'updatedBefore=yesterday', 'limit=0', 'limit=101', 'colour=red', 'continuationToken=nope']) {
      const bad = await getJson(`${host.apiUrl}/batches?${query}`);
      expect([bad.status, bad.type], query).toEqual([400, expect.stringContaining('application/problem+json')]);
    }
  });

  it('POST /api/batches/{id}/retry re-runs an ended batch under a new instance id', async () => {
    expect((await getJson(`${host.apiUrl}/batches/unknown-batch/retry`, { method: 'POST' })).status).toBe(404);

    const accepted = await getJson(`${host.apiUrl}/batches/nine-of-ten/retry`, { method: 'POST' });
    expect(accepted).toMatchObject({ status: 202, body: { id: 'nine-of-ten', status: 'processing', retries: 1, instanceId: 'nine-of-ten:retry:1' } });
    const again = await waitForBatch(`${host.apiUrl}/batches/nine-of-ten`, 30_000);
    // The never-received item cannot be processed again: the batch ends as it did, with a new summary.
    expect(again).toMatchObject({ status: 'incomplete', retries: 1, succeeded: 9, failed: 1 });
    expect(again.summary!.failures).toEqual([{ index: 6, reason: 'never received' }]);
    expect(again.summary!.finishedAt).not.toBe(incomplete.summary!.finishedAt);
  });
});
