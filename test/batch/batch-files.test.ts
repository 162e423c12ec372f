// A web batch's large files go to storage at most FILES_IN_FLIGHT at a time: the next part is not read (so the form
// parser and the request wait) until a store finishes, and a failed store still lets the waiting parts go on.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batchFiles, FILES_IN_FLIGHT } from '../../src/lib/api/batch-files';
import { MAX_INLINE_BYTES } from '../../src/lib/batch/record';
import type { Logger } from '../../src/lib/logger';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { MemoryBlobStore } from '../../src/lib/storage/memory-blob-store';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A store whose streamed uploads each wait for the test to finish them (or fail them). */
class GatedStore extends MemoryBlobStore {
  readonly waiting: Array<{ name: string; finish: () => void; fail: (error: Error) => void }> = [];

  override async putStream(container: string, name: string, stream: Readable, options: { contentType: string }): Promise<void> {
    const bytes: Buffer[] = [];
    for await (const chunk of stream) bytes.push(chunk as Buffer);
    await new Promise<void>((finish, fail) => this.waiting.push({ name, finish, fail }));
    await super.putStream(container, name, Readable.from(bytes), options);
  }
}

/** A file part whose content records whether anyone has started reading it. */
function part(index: number, bytes: Buffer) {
  const state = { read: false };
  const content = Readable.from(
    (async function* () {
      state.read = true;
      yield* [bytes.subarray(0, 65536), bytes.subarray(65536)];
    })(),
  );
  return { state, file: { index, fileName: `photo-${index}.jpg`, contentType: 'image/jpeg', content } };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('web batch files: stores in flight', () => {
  it(`reads a part only while fewer than ${FILES_IN_FLIGHT} earlier ones are being stored`, async () => {
    expect(FILES_IN_FLIGHT).toBe(2);
    const store = new GatedStore();
    await store.ensureContainers([BLOB_CONTAINERS.batches]);
    const files = batchFiles(store, 'batch-1', quiet);
    const contents = [0, 1, 2, 3].map((i) => randomBytes(MAX_INLINE_BYTES + 1000 + i));
    const parts = contents.map((bytes, i) => part(i, bytes));
    // As readBatchForm does: each part handed over as it comes, none awaited before the next.
    const takes = parts.map(({ file }) => files.take(file));
    await settle();
    expect(store.waiting.map((w) => w.name)).toEqual(['batch-1/0', 'batch-1/1']);
    expect(parts.map((p) => p.state.read)).toEqual([true, true, false, false]);

    store.waiting.shift()!.finish();
    await settle();
    expect(parts.map((p) => p.state.read)).toEqual([true, true, true, false]);
    expect(store.waiting.map((w) => w.name)).toEqual(['batch-1/1', 'batch-1/2']);

    // A failed store frees its place too; its own take reports the failure.
    store.waiting.shift()!.fail(new Error('storage said no'));
    await expect(takes[1]).rejects.toThrow('storage said no');
    await settle();
    expect(parts[3].state.read).toBe(true);
    while (store.waiting.length) store.waiting.shift()!.finish();
    await Promise.all([takes[0], takes[2], takes[3]]);

    expect(files.arrived.map((file) => file?.blobName)).toEqual(['batch-1/0', undefined, 'batch-1/2', 'batch-1/3']);
    for (const i of [0, 2, 3]) expect((await store.get(BLOB_CONTAINERS.batches, `batch-1/${i}`))!.bytes.equals(contents[i])).toBe(true);
  });
});
