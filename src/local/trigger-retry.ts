import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../lib/logger';
import type { TriggerRetryPolicy } from '../lib/orchestration/trigger-retry';

/** The wait before retry `retry` (1-based), as the Functions host spaces them (without its jitter). */
export function retryInterval(policy: TriggerRetryPolicy, retry: number): number {
  if (policy.strategy === 'fixedDelay') return policy.delayInterval;
  return Math.min(policy.minimumInterval * 2 ** (retry - 1), policy.maximumInterval);
}

/**
 * Invokes a trigger's handler the way the Functions host does for the Event Hubs trigger: a throw is retried per the
 * function's retry policy (none: no retry), then the trigger moves on, whether the handler succeeded or not.
 * Resolves to 'handled' or 'gave up' (either way the position moves on), or 'stopped' when the host shut down in
 * between (the position stays, so the records come again after a restart). Never rejects.
 */
export async function invokeTrigger(
  handler: () => Promise<unknown>,
  options: { policy?: TriggerRetryPolicy; what: string; log: Logger; stopping: () => boolean },
): Promise<'handled' | 'gave up' | 'stopped'> {
  const { policy, what, log, stopping } = options;
  for (let retry = 1; ; retry++) {
    try {
      await handler();
      return 'handled';
    } catch (error) {
      const limit = policy?.maxRetryCount ?? 0;
      if (limit !== -1 && retry > limit) {
        log.error(`${what} failed${retry > 1 ? ` after ${retry - 1} retries` : ''}; moving on, as the Event Hubs trigger does`, error);
        return 'gave up';
      }
      const wait = retryInterval(policy!, retry);
      log.warn(`${what} failed; retry ${retry}${limit === -1 ? '' : ` of ${limit}`} in ${wait} ms`, error);
      await sleep(wait);
      if (stopping()) return 'stopped';
    }
  }
}
