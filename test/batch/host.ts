import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../src/lib/logger';
import { startLocalHost, type LocalHost } from '../../src/local/host';
import { recordResponses } from '../support/openapi-recorder';

export function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, ...args: unknown[]) => lines.push(`${level}: ${message} ${args.map(String).join(' ')}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

export async function startBatchHost(env: Record<string, string> = {}): Promise<LocalHost & { log: ReturnType<typeof quietLogger> }> {
  const log = quietLogger();
  const host = await startLocalHost({ PORT: '0', BLOB_WATCH_INTERVAL_MS: '1000', ...env }, log);
  // Every response is checked against the OpenAPI document; stop() fails the suite when one did not match.
  const contract = recordResponses(host.server);
  const stop = host.stop;
  return Object.assign(host, {
    log,
    async stop() {
      await stop();
      contract.assertValid();
    },
  });
}

export interface BatchView {
  id: string;
  status: string;
  itemCount: number;
  received: number;
  processed: number;
  succeeded: number;
  failed: number;
  summary?: {
    counts: { succeeded: number; failed: number; pending: number };
    durationsMs: { p50: number; p95: number };
    formats: Record<string, number>;
    sizes: { totalBytes: number; buckets: Record<string, number> };
    duplicateGroups: Array<{ perceptualHash: string; items: number[] }>;
    failures: Array<{ index: number; fileName?: string; reason: string }>;
    finishedAt?: string;
  };
  callback?: { delivered: boolean; status?: number };
  retries?: number;
  failure?: { reason: string; at: string } | null;
  rejected?: Array<{ index?: number; fileName?: string; reason: string; headers: Record<string, string> }>;
}

/** Polls GET /api/batches/{id} until the batch has ended (completed, incomplete or failed). */
export async function waitForBatch(url: string, timeoutMs = 60_000): Promise<BatchView> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const response = await fetch(url);
    last = response.status === 200 ? await response.json() : `${response.status} ${await response.text()}`;
    if (['completed', 'incomplete', 'failed'].includes((last as BatchView).status)) return last as BatchView;
    await sleep(200);
  }
  throw new Error(`batch not ended in time; last: ${JSON.stringify(last)}`);
}
