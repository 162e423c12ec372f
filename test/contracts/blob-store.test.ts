import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureBlobStore, blobServiceClient } from '../../src/lib/storage/azure-blob-store';
import type { BlobListing, BlobStore } from '../../src/lib/storage/blob-store';
import { MemoryBlobStore } from '../../src/lib/storage/memory-blob-store';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';

let azurite: EmbeddedAzurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite?.stop());

const adapters: Array<[string, () => BlobStore]> = [
  ['in memory', () => new MemoryBlobStore()],
  ['Azure Blob Storage (Azurite)', () => new AzureBlobStore(blobServiceClient({ kind: 'connectionString', value: azurite.connectionString }))],
];

/** The one BlobStore contract: what the app relies on, held against every adapter. */
describe.each(adapters)('BlobStore contract: %s', (_name, create) => {
  let store: BlobStore;
  let container: string;
  beforeAll(async () => {
    store = create();
    container = `c${randomUUID().replaceAll('-', '')}`.slice(0, 40);
    await store.ensureContainers([container]);
    await store.ensureContainers([container]); // repeatable
  });

  const names = async (prefix?: string) => {
    const listed: BlobListing[] = [];
    for await (const blob of store.list(container, prefix)) listed.push(blob);
    return listed;
  };

  it('stores bytes, content type and metadata, and reads them back', async () => {
    const bytes = Buffer.from('hello blob');
    await store.put(container, 'a/one.txt', bytes, { contentType: 'text/plain', metadata: { filename: 'one.txt' } });
    bytes.fill(0); // the store keeps its own copy
    const blob = await store.get(container, 'a/one.txt');
    expect(blob).toMatchObject({ contentType: 'text/plain', metadata: { filename: 'one.txt' } });
    expect(blob!.bytes.toString()).toBe('hello blob');
    expect(blob!.etag).not.toBe('');
  });

  it('answers undefined or false for blobs and containers that do not exist', async () => {
    expect(await store.get(container, 'missing')).toBeUndefined();
    expect(await store.exists(container, 'missing')).toBe(false);
    expect(await store.get('no-such-container', 'x')).toBeUndefined();
    expect(await store.exists('no-such-container', 'x')).toBe(false);
  });

  it('tells whether a blob exists', async () => {
    await store.put(container, 'here', Buffer.from('x'), { contentType: 'application/octet-stream' });
    expect(await store.exists(container, 'here')).toBe(true);
  });

  it('reads a range of a blob, with the whole blob\'s content type, metadata and ETag', async () => {
    await store.put(container, 'ranged', Buffer.from('0123456789'), { contentType: 'application/octet-stream', metadata: { kind: 'parts' } });
    const whole = await store.get(container, 'ranged');
    const middle = await store.getRange(container, 'ranged', 3, 4);
    expect(middle!.bytes.toString()).toBe('3456');
    expect(middle).toMatchObject({ contentType: 'application/octet-stream', metadata: { kind: 'parts' }, etag: whole!.etag });
    expect((await store.getRange(container, 'ranged', 0, 1))!.bytes.toString()).toBe('0');
    expect((await store.getRange(container, 'ranged', 8, 5))!.bytes.toString()).toBe('89'); // up to the end
    expect(await store.getRange(container, 'missing', 0, 1)).toBeUndefined();
    expect(await store.getRange('no-such-container', 'x', 0, 1)).toBeUndefined();
  });

  it('overwrites a blob with a new ETag', async () => {
    await store.put(container, 'over', Buffer.from('first'), { contentType: 'text/plain' });
    const first = await store.get(container, 'over');
    await store.put(container, 'over', Buffer.from('second'), { contentType: 'image/png' });
    const second = await store.get(container, 'over');
    expect(second!.bytes.toString()).toBe('second');
    expect(second!.contentType).toBe('image/png');
    expect(second!.etag).not.toBe(first!.etag);
  });

  it('lists by prefix in name order, with an ETag that changes when the blob does', async () => {
    for (const name of ['list/b', 'list/a', 'list/c/d', 'other/x']) await store.put(container, name, Buffer.from(name), { contentType: 'text/plain' });
    const listed = await names('list/');
    expect(listed.map((b) => b.name)).toEqual(['list/a', 'list/b', 'list/c/d']);
    expect((await names()).map((b) => b.name)).toContain('other/x');
    await store.put(container, 'list/a', Buffer.from('changed'), { contentType: 'text/plain' });
    const [again] = await names('list/a');
    expect(again.etag).not.toBe(listed[0].etag);
    expect((await names('list/a'))[0].etag).toBe(again.etag);
  });

  it('lists each blob with its creation time, which an overwrite sets anew', async () => {
    const before = Date.now();
    await store.put(container, 'created/one', Buffer.from('1'), { contentType: 'text/plain' });
    const [first] = await names('created/');
    // Azurite and Azure keep creation times to the second.
    expect(first.createdOn.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(first.createdOn.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('deletes a blob (false when there is none), which then is gone from reads and listings', async () => {
    await store.put(container, 'gone/one', Buffer.from('1'), { contentType: 'text/plain' });
    await store.put(container, 'gone/two', Buffer.from('2'), { contentType: 'text/plain' });
    expect(await store.delete(container, 'gone/one')).toBe(true);
    expect(await store.get(container, 'gone/one')).toBeUndefined();
    expect((await names('gone/')).map((b) => b.name)).toEqual(['gone/two']);
    expect(await store.delete(container, 'gone/one')).toBe(false);
    expect(await store.delete('no-such-container', 'x')).toBe(false);
  });

  it('refuses a write to a container that does not exist, with status 404', async () => {
    await expect(store.put('no-such-container', 'x', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('stores a stream, small or of several blocks, and a stream that fails leaves no blob', async () => {
    const small = Buffer.from('a small stream');
    await store.putStream(container, 'streamed/small', Readable.from([small.subarray(0, 5), small.subarray(5)]), { contentType: 'text/plain' });
    expect((await store.get(container, 'streamed/small'))!.bytes.toString()).toBe('a small stream');
    // 9 MiB in 64 KiB chunks: more than two of the Azure adapter's 4 MiB blocks.
    const large = randomBytes(9 * 1024 * 1024);
    const chunks = Array.from({ length: large.length / 65536 }, (_, i) => large.subarray(i * 65536, (i + 1) * 65536));
    await store.putStream(container, 'streamed/large', Readable.from(chunks), { contentType: 'image/jpeg' });
    const stored = await store.get(container, 'streamed/large');
    expect(stored!.contentType).toBe('image/jpeg');
    expect(stored!.bytes.equals(large)).toBe(true);

    const failing = Readable.from((async function* () {
      yield* chunks.slice(0, 80); // past the first block
      throw new Error('the client went away');
    })());
    await expect(store.putStream(container, 'streamed/failed', failing, { contentType: 'image/jpeg' })).rejects.toThrow('the client went away');
    expect(await store.exists(container, 'streamed/failed')).toBe(false);
    await expect(store.putStream('no-such-container', 'x', Readable.from([small]), { contentType: 'text/plain' })).rejects.toMatchObject({ statusCode: 404 });
  });
});
