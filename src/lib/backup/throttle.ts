import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isTransient } from '../retry';

export interface Backoff {
  sleep: (ms: number) => Promise<unknown>;
  /** Tries in all, the first included. */
  attempts: number;
  /** Told before every wait: how long, and why. */
  onWait?: (ms: number, error: unknown) => void;
}

export const DEFAULT_BACKOFF: Backoff = { sleep, attempts: 12 };

const MAX_WAIT_MS = 30_000;

/** How long the store asked to be left alone: `retryAfterInMs` (@azure/cosmos) or the `x-ms-retry-after-ms` header. */
function retryAfterMs(error: unknown): number | undefined {
  const e = error as { retryAfterInMs?: unknown; headers?: Record<string, unknown> };
  const given = typeof e?.retryAfterInMs === 'number' ? e.retryAfterInMs : Number(e?.headers?.['x-ms-retry-after-ms']);
  return Number.isFinite(given) && given > 0 ? given : undefined;
}

/**
 * Runs a store call until it succeeds, waiting out throttling (429, after the SDK's own retries) and other transient
 * answers: as long as the store's retry-after says, else 1 s doubling to 30 s. A permanent error, or the last
 * transient one, is thrown; the backup saved what it had, so running it again resumes.
 */
export async function patiently<T>(fn: () => Promise<T>, backoff: Backoff = DEFAULT_BACKOFF): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (attempt >= backoff.attempts) throw new Error(`Cosmos DB still answers "${errorMessage(error).split('\n')[0]}" after ${attempt} tries`, { cause: error });
      const wait = retryAfterMs(error) ?? Math.min(1000 * 2 ** (attempt - 1), MAX_WAIT_MS);
      backoff.onWait?.(wait, error);
      await backoff.sleep(wait);
    }
  }
}
