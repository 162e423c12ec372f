import { setTimeout as sleep } from 'node:timers/promises';

/** Statuses Azure Storage and Cosmos DB answer when the same request may succeed later (449: Cosmos "retry with"). */
const TRANSIENT_STATUSES = new Set([408, 429, 449, 500, 502, 503, 504]);

/**
 * Whether an error from a storage or Cosmos call is worth retrying: an HTTP status that says "try again", or a
 * network failure (a system error code such as ECONNRESET, or the SDKs' REQUEST_SEND_ERROR, with no status).
 * Anything else (400, 403, 404, 409, a bug) fails the same way every time.
 */
export function isTransient(error: unknown): boolean {
  const { statusCode, code, name } = (error ?? {}) as { statusCode?: unknown; code?: unknown; name?: unknown };
  const status = typeof statusCode === 'number' ? statusCode : typeof code === 'number' ? code : undefined;
  if (status !== undefined) return TRANSIENT_STATUSES.has(status);
  return typeof code === 'string' || name === 'AbortError' || name === 'TimeoutError';
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  firstDelayMs: number;
  factor: number;
}

/** Short, for work done inside a trigger invocation: 3 tries over about 1.3 s. */
export const IN_HANDLER_RETRY: RetryPolicy = { attempts: 3, firstDelayMs: 250, factor: 4 };

/** Runs `fn`, retrying transient errors with exponential backoff; the last error (or a permanent one) is thrown. */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy = IN_HANDLER_RETRY): Promise<T> {
  for (let attempt = 1, delay = policy.firstDelayMs; ; attempt++, delay *= policy.factor) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.attempts || !isTransient(error)) throw error;
      await sleep(delay);
    }
  }
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
