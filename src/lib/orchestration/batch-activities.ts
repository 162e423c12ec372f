import { batchStore } from '../batch/batch-store';
import { callbackPolicy } from '../callback-address';
import { itemDocumentId } from '../batch/record';
import { summarise } from '../batch/summary';
import type { Logger } from '../logger';
import { completeImage } from '../processing/complete-image';
import { failedImage, isTerminal } from '../results/image-document';
import type { Services } from '../services';
import { BATCH_ACTIVITIES, type ItemOutcome } from './batch-orchestrator';
import { postCallback } from './callback';

export type ActivityServices = Pick<Services, 'blobs' | 'images' | 'cosmos' | 'engine' | 'limits' | 'config'>;
export type Activity = (input: unknown) => Promise<unknown>;

/**
 * The batch activities: the only place batch items are processed, through the same processImage and
 * storeDerivatives as single uploads. Each is idempotent (a terminal item is returned as is), since Durable may run
 * an activity again after a crash. They throw only for transient errors, which the orchestrator retries.
 */
export function batchActivities(services: ActivityServices, log: Logger): Record<string, Activity> {
  const store = batchStore(services.cosmos);

  async function processItem(input: unknown): Promise<ItemOutcome> {
    const { batchId, index } = input as { batchId: string; index: number };
    const id = itemDocumentId(batchId, index);
    const doc = await services.images.get(id, batchId);
    if (!doc) throw new Error(`item ${id} has no document yet`);
    if (isTerminal(doc.status)) return { index, status: doc.status as ItemOutcome['status'] };
    const blob = await services.blobs.get(doc.source.container, doc.source.blob);
    const final = blob
      ? await completeImage(services, doc, blob.bytes, log)
      : failedImage(doc, `The image blob ${doc.source.container}/${doc.source.blob} is gone.`, services.engine.name);
    await services.images.upsert(final);
    return { index, status: final.status as ItemOutcome['status'] };
  }

  async function failItem(input: unknown): Promise<void> {
    const { batchId, index, reason } = input as { batchId: string; index: number; reason: string };
    const doc = await services.images.get(itemDocumentId(batchId, index), batchId);
    if (doc && !isTerminal(doc.status)) await services.images.upsert(failedImage(doc, reason, services.engine.name));
  }

  async function summariseBatch(input: unknown): Promise<{ counts: unknown }> {
    const { batchId, itemCount, startedAt, finishedAt } = input as { batchId: string; itemCount: number; startedAt: string; finishedAt: string };
    const summary = summarise(await store.allItems(batchId), itemCount, { startedAt, finishedAt });
    await store.complete(batchId, summary, finishedAt);
    log.info(`batch ${batchId} completed: ${summary.counts.succeeded} succeeded, ${summary.counts.failed} failed`);
    return { counts: summary.counts };
  }

  async function callback(input: unknown): Promise<unknown> {
    const { batchId, url } = input as { batchId: string; url: string };
    const batch = await store.get(batchId);
    const result = await postCallback(url, { batchId, status: batch?.status, summary: batch?.summary }, callbackPolicy(services.config.callbackAllowedHosts));
    if (!result.delivered) log.warn(`batch ${batchId}: callback to ${url} not delivered: ${result.error ?? result.status}`);
    await store.recordCallback(batchId, result).catch(() => undefined);
    return result;
  }

  return {
    [BATCH_ACTIVITIES.processItem]: processItem,
    [BATCH_ACTIVITIES.failItem]: failItem,
    [BATCH_ACTIVITIES.summarise]: summariseBatch,
    [BATCH_ACTIVITIES.callback]: callback,
  };
}
