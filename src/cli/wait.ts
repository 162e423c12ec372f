import { setTimeout as sleep } from 'node:timers/promises';
import { hasEnded, type BatchStatus } from '../lib/batch/batch-document';
import { progressBar } from './progress';

export interface BatchStatusView {
  id: string;
  status: string;
  itemCount: number;
  processed: number;
  summary?: unknown;
}

/**
 * Polls GET /api/batches/{id} until the batch has ended (completed, incomplete or failed). A 404 means no record has been ingested yet (a Kafka batch
 * has no document until its first record arrives), so it is waited out like any other progress.
 */
export async function waitForSummary(options: { api: string; batchId: string; itemCount: number; code?: string; timeoutSeconds: number; intervalMs?: number }): Promise<BatchStatusView> {
  const url = `${options.api.replace(/\/$/, '')}/batches/${options.batchId}`;
  const headers: Record<string, string> = options.code ? { 'x-functions-key': options.code } : {};
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const bar = progressBar('processed', options.itemCount);
  for (;;) {
    const response = await fetch(url, { headers });
    if (response.status === 200) {
      const batch = (await response.json()) as BatchStatusView;
      bar.update(batch.processed, batch.status);
      if (hasEnded(batch.status as BatchStatus)) {
        bar.done(batch.status);
        return batch;
      }
    } else if (response.status !== 404) {
      throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
    }
    if (Date.now() > deadline) throw new Error(`The batch did not end within ${options.timeoutSeconds} s.`);
    await sleep(options.intervalMs ?? 1000);
  }
}
