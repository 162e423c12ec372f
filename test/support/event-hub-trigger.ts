import type { Logger } from '../../src/lib/logger';

export interface Delivery<T> {
  /** Invocations of the handler: the first, and each the retry policy made. */
  invocations: number;
  /** What each failed invocation threw. */
  errors: unknown[];
  /** The last invocation's result, when it returned. */
  result?: T;
}

/**
 * Delivers one batch of events as Azure's Event Hubs trigger does: one invocation, and another only when it threw
 * and the function's retry policy allows one (`retries`; ingestBatchRecords' policy retries for ever, a test stops
 * somewhere). After the last invocation the checkpoint moves on, returned or thrown: these events never come again.
 * `beforeRetry(n)` runs before retry n (1-based): a test heals a store there.
 */
export async function deliverAsEventHubs<T>(handler: () => Promise<T>, options: { retries?: number; beforeRetry?: (retry: number) => void | Promise<void> } = {}): Promise<Delivery<T>> {
  const delivery: Delivery<T> = { invocations: 0, errors: [] };
  for (let retry = 0; retry <= (options.retries ?? 0); retry++) {
    if (retry > 0) await options.beforeRetry?.(retry);
    delivery.invocations++;
    try {
      delivery.result = await handler();
      return delivery;
    } catch (error) {
      delivery.errors.push(error);
    }
  }
  return delivery;
}

/** Collects log lines, so tests can read them and the run stays quiet. */
export function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, ...args: unknown[]) => lines.push(`${level}: ${message}${args.map((a) => ` ${a instanceof Error ? a.message : String(a)}`).join('')}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}
