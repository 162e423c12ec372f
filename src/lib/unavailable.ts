/** Connection failures as Node, undici and the Azure SDKs report them (`code` on the error or its cause). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'REQUEST_SEND_ERROR', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT',
]);

/** Statuses of a store that is there but cannot serve now: throttled (after the SDK's own retries), busy, timed out. */
const BUSY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface Unavailable {
  /** unreachable: no connection at all; busy: the store answered that it cannot serve now. */
  kind: 'unreachable' | 'busy';
  retryAfterSeconds: number;
}

/**
 * Whether an error from Cosmos DB or blob storage means the store cannot be reached or cannot serve right now, so
 * the same request can succeed later, and how many seconds to wait (the store's own retry-after when it gave one).
 * Undefined for everything else.
 */
export function unavailable(error: unknown, depth = 0): Unavailable | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown; name?: unknown; retryAfterInMs?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return { kind: 'unreachable', retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'unreachable', retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && BUSY_STATUSES.has(status)) {
    const given = typeof e.retryAfterInMs === 'number' && e.retryAfterInMs > 0 ? Math.ceil(e.retryAfterInMs / 1000) : undefined;
    return { kind: 'busy', retryAfterSeconds: given ?? DEFAULT_RETRY_AFTER_SECONDS };
  }
  return unavailable(e.cause, depth + 1);
}
