import { setTimeout as sleep } from 'node:timers/promises';
import { hasEnded, type BatchStatus } from '../lib/batch/batch-document';
import { answerText, type ApiClient } from './api-client';
import { progressBar } from './progress';

export interface BatchStatusView {
  id: string;
  status: string;
  itemCount: number;
  processed: number;
  summary?: unknown;
}

/**
 * Polls GET /api/batches/{id} until the batch has ended (completed, incomplete or failed). A 404 is waited out like any
 * other progress: a batch sent without registering it has no document until its first record arrives.
 */
export async function waitForSummary(options: { api: ApiClient; batchId: string; itemCount: number; timeoutSeconds: number; intervalMs?: number }): Promise<BatchStatusView> {
  const path = `/batches/${encodeURIComponent(options.batchId)}`;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const bar = progressBar('processed', options.itemCount);
  for (;;) {
    const response = await options.api.fetch(path);
    if (response.status === 200) {
      const batch = (await response.json()) as BatchStatusView;
      bar.update(batch.processed, batch.status);
      if (hasEnded(batch.status as BatchStatus)) {
        bar.done(batch.status);
        return batch;
      }
    } else if (response.status !== 404) {
      throw new Error(`GET ${options.api.base}${path} answered ${response.status}: ${await answerText(response)}`);
    }
    if (Date.now() > deadline) throw new Error(`The batch did not end within ${options.timeoutSeconds} s.`);
    await sleep(options.intervalMs ?? 1000);
  }
}
