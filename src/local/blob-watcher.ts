import type { Logger } from '../lib/logger';
import { errorMessage } from '../lib/retry';
import type { BlobStore } from '../lib/storage/blob-store';

const MAX_ATTEMPTS = 5;

export interface BlobWatcher {
  stop(): Promise<void>;
}

/**
 * Stands in for the blob trigger locally (Azurite emits no Event Grid events): lists the container, and calls the
 * handler once for each new blob or new version of a blob, whoever wrote it. Like the Functions host, it keeps
 * receipts (name + ETag), retries a throwing handler up to 5 times and then gives the blob up as poison.
 */
export function watchBlobs(options: {
  blobs: BlobStore;
  container: string;
  intervalMs: number;
  concurrency: number;
  handler: (name: string) => Promise<unknown>;
  /** How a blob is named in logs: by the id it stands for, never by its name (another client's name can be a file name). */
  label: (name: string) => string;
  /**
   * Subscribes to every write to the container, where the store tells of them (the embedded Azurite does, as Event
   * Grid does in Azure): a tick then lists only when something was written since the last listing, or a handler or
   * the listing failed. Without it, every tick lists.
   */
  writes?: (listener: () => void) => void;
  log: Logger;
}): BlobWatcher {
  const { blobs, container, intervalMs, concurrency, handler, label, writes, log } = options;
  // The message's first line only: storage errors carry the request (and so the blob's URL) further down.
  const reason = (error: unknown) => errorMessage(error).split('\n')[0];
  const receipts = new Map<string, string>();
  const attempts = new Map<string, number>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let scanning: Promise<void> = Promise.resolve();
  // Whether a tick must list: always without `writes`; with it, at first and after a write or a failure.
  let changed = true;
  writes?.(() => (changed = true));

  async function run(name: string, etag: string): Promise<void> {
    try {
      await handler(name);
      attempts.delete(name);
    } catch (error) {
      const attempt = (attempts.get(name) ?? 0) + 1;
      attempts.set(name, attempt);
      if (attempt < MAX_ATTEMPTS) {
        receipts.delete(name); // picked up again on the next scan
        changed = true;
        log.warn(`${label(name)} failed (attempt ${attempt} of ${MAX_ATTEMPTS}); will retry: ${reason(error)}`);
      } else {
        log.error(`${label(name)} failed ${MAX_ATTEMPTS} times; giving it up as poison (etag ${etag}): ${reason(error)}`);
      }
    }
  }

  async function scan(): Promise<void> {
    if (!changed) return;
    // Cleared before listing, so a write during the listing is listed on the next tick.
    changed = !writes;
    const listed = new Set<string>();
    for await (const blob of blobs.list(container)) {
      if (stopped) return;
      listed.add(blob.name);
      if (receipts.get(blob.name) === blob.etag) continue;
      receipts.set(blob.name, blob.etag);
      while (running.size >= concurrency) await Promise.race(running);
      const task = run(blob.name, blob.etag).finally(() => running.delete(task));
      running.add(task);
    }
    // Receipts of deleted blobs go: the names (file names, for other clients' blobs) are not kept beyond the blobs.
    for (const name of receipts.keys()) if (!listed.has(name)) receipts.delete(name);
    for (const name of attempts.keys()) if (!listed.has(name)) attempts.delete(name);
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      scanning = scan()
        .catch((error) => {
          changed = true;
          log.warn(`listing ${container} failed; retrying: ${reason(error)}`);
        })
        .finally(() => {
          if (!stopped) schedule(intervalMs);
        });
    }, delayMs);
  }

  // The first listing at once: blobs written while no host watched (before a restart) are processed from the start.
  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await scanning;
      await Promise.allSettled(running);
    },
  };
}
