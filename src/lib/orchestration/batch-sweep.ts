import { recordBatchEnd, recordImagesEnd, recorderOf } from '../analytics/record';
import { UNATTRIBUTED_OWNER } from '../auth/principal';
import type { Logger } from '../logger';
import { BLOB_CONTAINERS } from '../names';
import { withRetries, type RetryPolicy } from '../retry';
import { failedImage, queuedImage } from '../results/image-document';
import type { Services } from '../services';
import { currentTraceContext, inSpan } from '../tracing';
import { NEVER_RECEIVED, type BatchDocument } from '../batch/batch-document';
import { allBatches, allItems } from '../batch/batch-store';
import { itemDocumentId } from '../batch/record';
import { BATCH_ORCHESTRATOR, batchInput } from './batch-orchestrator';
import type { OrchestrationStarter } from './starter';

export interface SweepDeps {
  services: Pick<Services, 'images' | 'batches' | 'engine' | 'analytics' | 'config'>;
  starter: OrchestrationStarter;
  log: Logger;
  /** BATCH_RECEIVE_TIMEOUT. */
  timeoutSeconds: number;
  retry?: RetryPolicy;
}

export interface SweepResult {
  /** Receiving batches whose receive window closed: processed with what arrived. */
  closed: string[];
  /** Processing batches whose orchestration had not started (a crash between the status change and the start). */
  resumed: string[];
  /** Processing batches whose orchestration failed without recording it. */
  failed: string[];
}

/**
 * Starts processing a batch that is `processing`: for a batch whose receive window closed, first every item that has
 * no document fails as "never received" (every record ingest took has a document: ingest throws, for its trigger to
 * retry, rather than leave one without); then the orchestration, once. Repeatable.
 */
function startProcessing(deps: SweepDeps, batch: BatchDocument, now: Date): Promise<void> {
  // Part of the batch's own trace: closing it and starting what it needs.
  return inSpan('batch.sweep.start', { continues: batch.trace, attributes: { 'batch.id': batch.id } }, () => startTraced(deps, batch, now));
}

async function startTraced(deps: SweepDeps, batch: BatchDocument, now: Date): Promise<void> {
  const { images, batches, engine } = deps.services;
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, deps.retry);
  if (batch.closedAt) {
    const present = new Set((await retry(() => allItems(batches, batch.id))).map((doc) => doc.itemIndex));
    const missing = Array.from({ length: batch.itemCount }, (_, index) => index).filter((index) => !present.has(index));
    for (const index of missing) {
      const source = { container: BLOB_CONTAINERS.batches, blob: '', bytes: 0, sha256: '', uploadedAt: now.toISOString() };
      const queued = queuedImage({ id: itemDocumentId(batch.id, index), partitionKey: batch.id, batchId: batch.id, itemIndex: index, owner: batch.owner ?? UNATTRIBUTED_OWNER, source }, now);
      // create, not upsert: a record that arrived meanwhile keeps its item.
      await retry(() => images.create(failedImage(queued, NEVER_RECEIVED, engine.name, now)));
    }
    if (missing.length) deps.log.warn(`batch ${batch.id}: receive window closed with ${missing.length} of ${batch.itemCount} items missing`);
  }
  await retry(() => deps.starter.startOnce(BATCH_ORCHESTRATOR, batch.instanceId ?? batch.id, batchInput(batch, Boolean(batch.retries), currentTraceContext())));
}

/**
 * The receive timeout and the backstop that every batch ends, run every minute by a timer in Azure and by the local
 * host: a batch still receiving with no record for BATCH_RECEIVE_TIMEOUT seconds is closed and what arrived is
 * processed; a batch processing for that long whose orchestration never started is started, and one whose
 * orchestration failed without ending the batch (Cosmos down at the time) is marked failed with the reason.
 * Idempotent and safe to run concurrently with ingest: every change is conditional on the status it saw.
 */
export async function sweepBatches(deps: SweepDeps, now = new Date()): Promise<SweepResult> {
  const { batches } = deps.services;
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, deps.retry);
  const updatedBefore = new Date(now.getTime() - deps.timeoutSeconds * 1000).toISOString();
  const at = now.toISOString();
  const result: SweepResult = { closed: [], resumed: [], failed: [] };
  const each = async (batch: BatchDocument, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      deps.log.error(`batch ${batch.id}: sweep failed; the next sweep tries again`, error);
    }
  };
  for await (const batch of allBatches(batches, { status: 'receiving', updatedBefore })) {
    await each(batch, async () => {
      const changes = { status: 'processing', closedAt: at, startedAt: at, updatedAt: at, instanceId: batch.id } as const;
      if (!(await retry(() => batches.update(batch.id, changes, ['receiving'])))) return; // its last record started it meanwhile
      await startProcessing(deps, { ...batch, ...changes }, now);
      result.closed.push(batch.id);
    });
  }
  for await (const batch of allBatches(batches, { status: 'processing', updatedBefore })) {
    await each(batch, async () => {
      const state = await retry(() => deps.starter.state(batch.instanceId ?? batch.id));
      if (!state) {
        await startProcessing(deps, batch, now);
        result.resumed.push(batch.id);
      } else if (state.status === 'failed') {
        const failure = { reason: `The batch orchestration failed: ${state.error ?? 'no reason given'}`, at };
        // Its items are recorded as it ends, before its status says so, as the batch activities record them.
        const items = await retry(() => allItems(batches, batch.id));
        await retry(() => recordImagesEnd(recorderOf(deps.services), items));
        const ended = await retry(() => batches.updateAndRead(batch.id, { status: 'failed', failure, completedAt: at, updatedAt: at }, ['processing']));
        if (ended) {
          await retry(() => recordBatchEnd(recorderOf(deps.services), ended));
          deps.log.error(`batch ${batch.id} failed: ${failure.reason}`);
          result.failed.push(batch.id);
        }
      }
    });
  }
  if (result.closed.length + result.resumed.length + result.failed.length) {
    deps.log.info(`batch sweep: closed ${result.closed.length}, resumed ${result.resumed.length}, marked failed ${result.failed.length}`);
  }
  return result;
}
