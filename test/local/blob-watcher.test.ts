import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { watchBlobs } from '../../src/local/blob-watcher';
import { MemoryBlobStore } from '../../src/lib/storage/memory-blob-store';
import { until } from '../support/until';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const INTERVAL = 20;

/** The watcher over an in-memory store whose listings are counted, told of writes by the test (as the embedded Azurite tells the host). */
async function watched(options: { failFirst?: string } = {}) {
  const store = new MemoryBlobStore();
  await store.ensureContainers(['uploads']);
  let listings = 0;
  const blobs = Object.assign(Object.create(store) as MemoryBlobStore, {
    list: (container: string, prefix?: string) => (listings++, store.list(container, prefix)),
  });
  const handled: string[] = [];
  let notify = () => undefined as void;
  const watcher = watchBlobs({
    blobs,
    container: 'uploads',
    intervalMs: INTERVAL,
    concurrency: 2,
    handler: async (name) => {
      handled.push(name);
      if (name === options.failFirst && handled.filter((n) => n === name).length === 1) throw new Error('once');
    },
    label: (name) => name,
    writes: (listener) => (notify = listener),
    log: silent,
  });
  const write = async (name: string) => {
    await store.put('uploads', name, Buffer.from(name), { contentType: 'text/plain' });
    notify();
  };
  return { store, watcher, handled, write, listings: () => listings };
}

describe('the blob watcher, told of writes', () => {
  it('lists once at start, then only after a write: an idle container costs no requests', async () => {
    const w = await watched();
    await w.store.put('uploads', 'before-start', Buffer.from('x'), { contentType: 'text/plain' });
    try {
      await until(() => w.handled.includes('before-start'));
      expect(w.listings()).toBe(1);
      await sleep(INTERVAL * 10); // ten ticks with nothing written
      expect(w.listings()).toBe(1);
      await w.write('new');
      await until(() => w.handled.includes('new'));
      expect(w.listings()).toBe(2);
      expect(w.handled).toEqual(['before-start', 'new']);
    } finally {
      await w.watcher.stop();
    }
  });

  it('lists again after a handler failed, without a write, so the blob is retried', async () => {
    const w = await watched({ failFirst: 'flaky' });
    try {
      await until(() => w.listings() === 1);
      await w.write('flaky');
      await until(() => w.handled.filter((name) => name === 'flaky').length === 2);
      expect(w.listings()).toBeGreaterThanOrEqual(3);
    } finally {
      await w.watcher.stop();
    }
  });
});
