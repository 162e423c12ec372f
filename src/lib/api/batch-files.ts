import { Readable } from 'node:stream';
import type { FormFile } from './read-form';
import { itemBlobName, MAX_INLINE_BYTES } from '../batch/record';
import type { Logger } from '../logger';
import { BLOB_CONTAINERS } from '../names';
import { errorMessage } from '../retry';
import type { BlobStore } from '../storage/blob-store';

/** A file of a web batch once it has arrived: its bytes, to travel in its record, or the blob they were streamed to. */
export interface ArrivedFile {
  index: number;
  fileName?: string;
  contentType?: string;
  size: number;
  bytes?: Buffer;
  blobName?: string;
}

/**
 * The most bytes of small files a batch keeps in memory to send inline (one record each, as today); the small files
 * after them go to storage like large ones, so a batch of many small files holds no more than this.
 */
export const INLINE_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Files stored at a time: one going to storage while the next arrives. The form parser hands over the next part as
 * soon as one has been read, not stored; without this bound, when storage is slower than the client, every file read
 * meanwhile is held at once (up to about 20 of 1.8 MB measured during a 200 MB upload).
 */
export const FILES_IN_FLIGHT = 2;

/**
 * Takes a web batch's files as they stream in: a file up to MAX_INLINE_BYTES is kept (within the inline budget), a
 * larger one is streamed to `batches/<batch id>/<index>` while it arrives, holding only the first MAX_INLINE_BYTES
 * and the blob store's blocks in flight. A part is not read while FILES_IN_FLIGHT earlier ones are still being stored, so
 * the parser, and the request, wait for storage (back-pressure) rather than the host holding what arrives. `discard`
 * removes every blob written, for an upload that is refused after its files began to arrive; a blob it cannot remove
 * is left to the retention sweep, which removes everything in the batches container once it is older than
 * RETENTION_DAYS.
 */
export function batchFiles(blobs: BlobStore, batchId: string, log: Logger) {
  const arrived: ArrivedFile[] = [];
  const written: string[] = [];
  let inlineBytes = 0;

  async function toBlob(index: number, contentType: string | undefined, content: Readable): Promise<string> {
    const blobName = itemBlobName(batchId, index);
    // Named before the upload starts: a refused upload removes it whether or not the upload got as far as committing it.
    written.push(blobName);
    await blobs.putStream(BLOB_CONTAINERS.batches, blobName, content, { contentType: contentType ?? 'application/octet-stream' });
    return blobName;
  }

  async function take({ index, fileName, contentType, content }: FormFile): Promise<void> {
    const chunks = content[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head: Buffer[] = [];
    let size = 0;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      head.push(next.value);
      size += next.value.length;
      if (size > MAX_INLINE_BYTES) break;
    }
    const file: ArrivedFile = { index, fileName, contentType, size };
    if (size <= MAX_INLINE_BYTES) {
      const bytes = Buffer.concat(head);
      if (inlineBytes + size <= INLINE_BUDGET_BYTES) {
        inlineBytes += size;
        file.bytes = bytes;
      } else {
        file.blobName = await toBlob(index, contentType, Readable.from([bytes]));
      }
    } else {
      // What was read already, then the rest as it arrives.
      const rest = async function* () {
        yield* head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
          file.size += next.value.length;
          yield next.value;
        }
      };
      file.blobName = await toBlob(index, contentType, Readable.from(rest()));
    }
    arrived[index] = file;
  }

  // Places for takes: a finished take hands its place to the first one waiting, in the order the parts arrived.
  let taking = 0;
  const waiting: Array<() => void> = [];

  return {
    arrived,

    async take(part: FormFile): Promise<void> {
      if (taking < FILES_IN_FLIGHT) taking++;
      else await new Promise<void>((start) => waiting.push(start));
      try {
        await take(part);
      } finally {
        const next = waiting.shift();
        if (next) next();
        else taking--;
      }
    },

    async discard(): Promise<void> {
      await Promise.all(
        written.map((name) =>
          blobs.delete(BLOB_CONTAINERS.batches, name).catch((error: unknown) => {
            log.warn(`a refused batch upload left ${BLOB_CONTAINERS.batches}/${name}; the retention sweep removes it: ${errorMessage(error).split('\n')[0]}`);
          }),
        ),
      );
    },
  };
}
