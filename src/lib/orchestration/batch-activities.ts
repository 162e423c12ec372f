import { recordBatchEnd, recordImagesEnd, recorderOf } from '../analytics/record';
import { allItems } from '../batch/batch-store';
import { hasEnded, NEVER_RECEIVED, type BatchDocument } from '../batch/batch-document';
import { callbackPolicy } from '../callback-address';
import { itemBlobName, itemDocumentId } from '../batch/record';
import { summarise } from '../batch/summary';
import type { Logger } from '../logger';
import { recordBatchEnded } from '../metrics';
import { inSpan, type TraceContext } from '../tracing';
import { completeImage, saveResult } from '../processing/complete-image';
import { failedImage, isTerminal, queuedImage, type ImageDocument } from '../results/image-document';
import { resultOf } from '../results/result-store';
import { BLOB_CONTAINERS } from '../names';
import type { StoredBlob } from '../storage/blob-store';
import { deleteDerivatives } from '../processing/store-derivatives';
import type { Services } from '../services';
import { BATCH_ACTIVITIES, type ItemOutcome } from './batch-orchestrator';
import { postCallback, type CallbackResult } from './callback';

export type ActivityServices = Pick<Services, 'blobs' | 'images' | 'batches' | 'engine' | 'limits' | 'config' | 'analytics'>;
export type Activity = (input: unknown) => Promise<unknown>;

/** Why an item that no chunk finished fails: the summary runs after every chunk, so it will not be processed now. */
const UNFINISHED = 'Processing did not finish: its part of the batch orchestration failed. Retry the batch to process it again.';

/**
 * The batch activities: the only place batch items are processed, through the same processImage and
 * storeDerivatives as single uploads. Each is idempotent (a terminal item is returned as is), since Durable may run
 * an activity again after a crash. They throw only for transient errors, which the orchestrator retries.
 */
export function batchActivities(services: ActivityServices, log: Logger): Record<string, Activity> {
  const store = services.batches;
  const recorder = recorderOf(services);
  /**
   * A batch's items are recorded for analytics as it ends, all at once (a few requests per hundred items rather than
   * several per item), before its status says it ended; exactly once however often an activity runs again.
   */
  const itemsEnded = (items: ImageDocument[]) => recordImagesEnd(recorder, items);
  /** The ended batch itself, recorded once its status is written: from the document as written, else as stored. */
  const batchEnded = async (batchId: string, written: BatchDocument | undefined) => {
    const batch = written ?? (await store.get(batchId));
    if (batch && hasEnded(batch.status)) await recordBatchEnd(recorder, batch);
  };

  /**
   * The item from the blob ingest wrote for it (its name follows from the batch and index, its metadata holds its
   * sha256), its result written by one conditional write that needs no read of the document first: one Cosmos request
   * per item instead of two. Undefined when the document must decide (no such blob: a reference or a refused record;
   * or the write's condition failed: the item ended already, or holds other content), with the blob if it was read
   * and what processing made of it (so it is not processed a second time).
   */
  async function processStaged(batchId: string, index: number): Promise<{ outcome?: ItemOutcome; blob?: StoredBlob; processed?: ImageDocument }> {
    const name = itemBlobName(batchId, index);
    const blob = await services.blobs.get(BLOB_CONTAINERS.batches, name);
    const sha = blob?.metadata.sha256;
    if (!blob || !sha) return { blob };
    const id = itemDocumentId(batchId, index);
    const stub = queuedImage({ id, partitionKey: batchId, batchId, itemIndex: index, source: { container: BLOB_CONTAINERS.batches, blob: name, bytes: blob.bytes.length, sha256: sha, uploadedAt: '' } });
    const final = await completeImage(services, stub, blob.bytes, log);
    const written = await inSpan('image.result', { attributes: { 'image.id': id, 'image.status': final.status } }, () => services.images.finishQueued(id, batchId, sha, resultOf(final)));
    if (!written) return { blob, processed: final };
    return { outcome: { index, status: written.status as ItemOutcome['status'] } };
  }

  async function processItem(input: unknown): Promise<ItemOutcome> {
    const { batchId, index, rerun } = input as { batchId: string; index: number; rerun?: boolean };
    const id = itemDocumentId(batchId, index);
    const staged = rerun ? {} : await processStaged(batchId, index);
    if (staged.outcome) return staged.outcome;
    const doc = await services.images.get(id, batchId);
    if (!doc) throw new Error(`item ${id} has no document yet`);
    // Derivatives the staged attempt wrote for an item that ended without them (failed meanwhile) belong to nothing.
    if (staged.processed?.derivatives && doc.status === 'failed') await deleteDerivatives(services.blobs, id);
    const again = rerun && doc.status === 'failed';
    if (isTerminal(doc.status) && !again) return { index, status: doc.status as ItemOutcome['status'] };
    const readAlready = staged.blob && doc.source.container === BLOB_CONTAINERS.batches && doc.source.blob === itemBlobName(batchId, index);
    const blob = readAlready ? staged.blob : doc.source.blob ? await services.blobs.get(doc.source.container, doc.source.blob) : undefined;
    // A failed item with no stored image (never received, not stored, refused before storing) keeps its reason.
    if (!blob && again) return { index, status: doc.status as ItemOutcome['status'] };
    // The staged attempt processed these very bytes (its write found other content's sha256 on the document): its
    // result, derivatives stored, is written here rather than made again.
    const final = readAlready && staged.processed
      ? { ...doc, ...resultOf(staged.processed) }
      : blob
        ? await completeImage(services, doc, blob.bytes, log)
        : failedImage(doc, 'The image blob of the item is gone.', services.engine.name);
    await saveResult(services, final);
    return { index, status: final.status as ItemOutcome['status'] };
  }

  async function failItem(input: unknown): Promise<void> {
    const { batchId, index, reason } = input as { batchId: string; index: number; reason: string };
    const doc = await services.images.get(itemDocumentId(batchId, index), batchId);
    if (!doc) return;
    if (!isTerminal(doc.status)) await services.images.upsert(failedImage(doc, reason, services.engine.name));
  }

  /** Ends the batch: completed, or incomplete when items never arrived; every item is then succeeded or failed. */
  async function summariseBatch(input: unknown): Promise<{ counts: unknown }> {
    const { batchId, itemCount, startedAt, finishedAt } = input as { batchId: string; itemCount: number; startedAt: string; finishedAt: string };
    const items = await Promise.all(
      (await allItems(store, batchId)).map(async (doc) => {
        if (isTerminal(doc.status)) return doc;
        const failed = failedImage(doc, UNFINISHED, services.engine.name);
        await services.images.upsert(failed);
        return failed;
      }),
    );
    const summary = summarise(items, itemCount, { startedAt, finishedAt }, services.config.duplicateHashDistance);
    const status = summary.failures.some((f) => f.reason === NEVER_RECEIVED) ? 'incomplete' : 'completed';
    await itemsEnded(items);
    const ended = await store.updateAndRead(batchId, { status, summary, completedAt: finishedAt, updatedAt: finishedAt }, ['processing']);
    if (ended) recordBatchEnded({ status, itemCount, durationSeconds: summary.wallClockMs === undefined ? undefined : summary.wallClockMs / 1000 });
    await batchEnded(batchId, ended);
    log.info(`batch ${batchId} ${status}: ${summary.counts.succeeded} succeeded, ${summary.counts.failed} failed`, { batchId });
    return { counts: summary.counts };
  }

  async function failBatch(input: unknown): Promise<void> {
    const { batchId, reason, at } = input as { batchId: string; reason: string; at: string };
    await itemsEnded(await allItems(store, batchId));
    await batchEnded(batchId, await store.updateAndRead(batchId, { status: 'failed', failure: { reason, at }, completedAt: at, updatedAt: at }, ['processing']));
    log.error(`batch ${batchId} failed: ${reason}`);
  }

  /** The URL is read from the batch document, never passed in: activity inputs are kept in Durable's history. */
  async function callback(input: unknown): Promise<unknown> {
    const { batchId } = input as { batchId: string };
    const batch = await store.get(batchId);
    const url = batch?.callbackUrl;
    // Gone when the retention sweep de-identified the batch before it ended.
    const result: CallbackResult = url
      ? await postCallback(url, { batchId, status: batch.status, summary: batch.summary, ...(batch.failure ? { failure: batch.failure } : {}) }, callbackPolicy(services.config.callbackAllowedHosts))
      : { delivered: false, error: 'the batch has no callback URL (any more)', at: new Date().toISOString() };
    // Ids and outcomes only: the URL may carry a secret token, so it is never logged.
    if (!result.delivered) log.warn(`batch ${batchId}: callback not delivered: ${result.error ?? `HTTP ${result.status}`}`, { batchId });
    await store.update(batchId, { callback: result }).catch(() => undefined);
    return result;
  }

  /** Each activity is a span of the batch's trace, which its input carries (src/lib/orchestration/batch-orchestrator.ts). */
  const traced = <T>(name: string, activity: (input: unknown) => Promise<T>): Activity => (input) => {
    const { batchId, index, trace } = input as { batchId?: string; index?: number; trace?: TraceContext };
    const attributes = { ...(batchId ? { 'batch.id': batchId } : {}), ...(index === undefined ? {} : { 'batch.item.index': index }) };
    return inSpan(name, { continues: trace, attributes }, () => activity(input));
  };

  return {
    [BATCH_ACTIVITIES.processItem]: traced(BATCH_ACTIVITIES.processItem, processItem),
    [BATCH_ACTIVITIES.failItem]: traced(BATCH_ACTIVITIES.failItem, failItem),
    [BATCH_ACTIVITIES.summarise]: traced(BATCH_ACTIVITIES.summarise, summariseBatch),
    [BATCH_ACTIVITIES.failBatch]: traced(BATCH_ACTIVITIES.failBatch, failBatch),
    [BATCH_ACTIVITIES.callback]: traced(BATCH_ACTIVITIES.callback, callback),
  };
}
