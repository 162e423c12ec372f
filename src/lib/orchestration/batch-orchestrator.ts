import type { BatchDocument } from '../batch/batch-document';
import { errorMessage as message } from '../retry';
import type { TraceContext } from '../tracing';
import type { DurableTask, Orchestrator, OrchestrationContextLike, RetryPolicy } from './context';

export const BATCH_ORCHESTRATOR = 'batchOrchestrator';
export const BATCH_CHUNK_ORCHESTRATOR = 'batchChunkOrchestrator';
export const BATCH_ACTIVITIES = {
  processItem: 'batchProcessItem',
  failItem: 'batchFailItem',
  summarise: 'batchSummarise',
  failBatch: 'batchFail',
  callback: 'batchCallback',
} as const;

/** Items per sub-orchestration: keeps each history to a few hundred events, whatever the batch size. */
export const DEFAULT_CHUNK_SIZE = 50;
/** Sub-orchestrations in flight at once: bounds the fan-out width at chunkSize x this many activities. */
export const DEFAULT_PARALLEL_CHUNKS = 8;

/** Transient failures (storage, Cosmos throttling) back off 2 s, 4 s, 8 s; a bad image never throws, so never retries. */
export const ITEM_RETRY: RetryPolicy = {
  firstRetryIntervalInMilliseconds: 2000,
  maxNumberOfAttempts: 4,
  backoffCoefficient: 2,
  maxRetryIntervalInMilliseconds: 30_000,
};

export interface BatchOrchestrationInput {
  batchId: string;
  itemCount: number;
  /**
   * The batch has a callback. Only the flag: the URL stays in the batch document, where the callback activity reads
   * it, because Durable keeps every input in the instance's history (README "Privacy").
   */
  callback?: boolean;
  /** A retry of an ended batch (POST /api/batches/{id}/retry): failed items with an image are processed again. */
  rerun?: boolean;
  /** The batch's trace: every activity continues it (tracing happens in activities, never in replayed orchestrator code). */
  trace?: TraceContext;
  chunkSize?: number;
  parallelChunks?: number;
}

/** The orchestration input for a batch: its id and size, and whether it has a callback (never the URL). */
export function batchInput(batch: Pick<BatchDocument, 'id' | 'itemCount' | 'callbackUrl'>, rerun: boolean, trace?: TraceContext): BatchOrchestrationInput {
  return { batchId: batch.id, itemCount: batch.itemCount, ...(batch.callbackUrl ? { callback: true } : {}), ...(rerun ? { rerun } : {}), ...(trace ? { trace } : {}) };
}

export interface ChunkInput {
  batchId: string;
  start: number;
  end: number;
  rerun?: boolean;
  trace?: TraceContext;
}

export interface ItemOutcome {
  index: number;
  status: 'succeeded' | 'failed';
}

export interface ChunkResult {
  succeeded: number;
  failed: number;
  /** Items whose activity still failed after every retry, marked failed by the chunk. */
  gaveUp: number;
}

export interface BatchOutcome {
  batchId: string;
  itemCount: number;
  chunks: number;
  succeeded: number;
  failed: number;
  gaveUp: number;
  /** Set when the batch ended failed: why. */
  failure?: string;
  callback?: unknown;
}

export function planChunks(itemCount: number, chunkSize: number): Array<{ start: number; end: number }> {
  const size = Math.max(1, Math.trunc(chunkSize));
  return Array.from({ length: Math.ceil(itemCount / size) }, (_, i) => ({ start: i * size, end: Math.min(itemCount, (i + 1) * size) }));
}


/**
 * Waits for every task, never failing on one: Task.all fails fast, so after a failure each task is yielded on its
 * own (a completed task answers at once). Returns results, or errors for faulted tasks.
 */
function* settleAll(context: OrchestrationContextLike, tasks: DurableTask[]): Generator<DurableTask, Array<{ ok: true; value: unknown } | { ok: false; error: string }>, unknown> {
  if (!tasks.length) return [];
  try {
    const values = (yield context.df.Task.all(tasks)) as unknown[];
    return values.map((value) => ({ ok: true as const, value }));
  } catch {
    const settled: Array<{ ok: true; value: unknown } | { ok: false; error: string }> = [];
    for (const task of tasks) {
      try {
        settled.push({ ok: true, value: yield task });
      } catch (error) {
        settled.push({ ok: false, error: message(error) });
      }
    }
    return settled;
  }
}

/**
 * The batch orchestrators, for Durable Functions in Azure and locally alike. Deterministic: no clock but
 * currentUtcDateTime, no I/O, no randomness; every decision follows from the input and the task results.
 */
export function createBatchOrchestrators(retry: RetryPolicy = ITEM_RETRY): Record<string, Orchestrator> {
  /** One chunk: an activity per item through the shared processing code, in parallel, retried on transient errors. */
  function* batchChunkOrchestrator(context: OrchestrationContextLike): Generator<DurableTask, ChunkResult, unknown> {
    const { batchId, start, end, rerun, trace } = context.df.getInput<ChunkInput>();
    const indexes = Array.from({ length: end - start }, (_, i) => start + i);
    const tasks = indexes.map((index) => context.df.callActivityWithRetry(BATCH_ACTIVITIES.processItem, retry, { batchId, index, ...(rerun ? { rerun } : {}), trace }));
    const settled = yield* settleAll(context, tasks);
    const result: ChunkResult = { succeeded: 0, failed: 0, gaveUp: 0 };
    const giveUps: DurableTask[] = [];
    settled.forEach((outcome, i) => {
      if (outcome.ok) {
        result[(outcome.value as ItemOutcome).status]++;
        return;
      }
      result.failed++;
      result.gaveUp++;
      const reason = `Processing kept failing after ${retry.maxNumberOfAttempts} attempts: ${outcome.error}`;
      giveUps.push(context.df.callActivityWithRetry(BATCH_ACTIVITIES.failItem, retry, { batchId, index: indexes[i], reason, trace }));
    });
    // Best effort: an item left queued shows up as pending in the summary, which is still the truth.
    yield* settleAll(context, giveUps);
    return result;
  }

  /**
   * The batch: chunks as sub-orchestrations in waves of bounded width, then the summary, then the callback. Whatever
   * fails (in practice the summary, after its retries), the batch ends: as failed, with the reason.
   */
  function* batchOrchestrator(context: OrchestrationContextLike): Generator<DurableTask, BatchOutcome, unknown> {
    const input = context.df.getInput<BatchOrchestrationInput>();
    const outcome: BatchOutcome = { batchId: input.batchId, itemCount: input.itemCount, chunks: 0, succeeded: 0, failed: 0, gaveUp: 0 };
    try {
      const startedAt = context.df.currentUtcDateTime.toISOString();
      const chunks = planChunks(input.itemCount, input.chunkSize ?? DEFAULT_CHUNK_SIZE);
      const width = Math.max(1, input.parallelChunks ?? DEFAULT_PARALLEL_CHUNKS);
      outcome.chunks = chunks.length;
      for (let wave = 0; wave < chunks.length; wave += width) {
        const tasks = chunks.slice(wave, wave + width).map((chunk, i) =>
          // Deterministic child ids: a replay or restart finds the same sub-orchestrations instead of starting new ones.
          context.df.callSubOrchestrator(
            BATCH_CHUNK_ORCHESTRATOR,
            { batchId: input.batchId, ...chunk, ...(input.rerun ? { rerun: true } : {}), trace: input.trace },
            `${context.df.instanceId}:chunk:${wave + i}`,
          ),
        );
        for (const settled of yield* settleAll(context, tasks)) {
          if (!settled.ok) continue; // its items are failed by the summary, which finds them unfinished
          const chunk = settled.value as ChunkResult;
          outcome.succeeded += chunk.succeeded;
          outcome.failed += chunk.failed;
          outcome.gaveUp += chunk.gaveUp;
        }
        context.df.setCustomStatus({ chunksDone: Math.min(chunks.length, wave + width), chunks: chunks.length });
      }
      const finishedAt = context.df.currentUtcDateTime.toISOString();
      // The summary is built from the item documents by an activity, so history holds counts, not thousands of results.
      yield context.df.callActivityWithRetry(BATCH_ACTIVITIES.summarise, retry, { batchId: input.batchId, itemCount: input.itemCount, startedAt, finishedAt, trace: input.trace });
    } catch (error) {
      outcome.failure = `The batch orchestration failed: ${message(error)}`;
      // If this fails too, the orchestration fails and the receive-timeout sweep marks the batch failed from its state.
      yield context.df.callActivityWithRetry(BATCH_ACTIVITIES.failBatch, retry, {
        batchId: input.batchId,
        reason: outcome.failure,
        at: context.df.currentUtcDateTime.toISOString(),
        trace: input.trace,
      });
    }
    // `callbackUrl`: instances started before the URL left the input replay with it and must decide as they did then.
    if (input.callback || (input as { callbackUrl?: string }).callbackUrl) {
      try {
        outcome.callback = yield context.df.callActivity(BATCH_ACTIVITIES.callback, { batchId: input.batchId, trace: input.trace });
      } catch (error) {
        outcome.callback = { delivered: false, error: message(error) }; // a callback never fails the batch
      }
    }
    return outcome;
  }

  return { [BATCH_ORCHESTRATOR]: batchOrchestrator, [BATCH_CHUNK_ORCHESTRATOR]: batchChunkOrchestrator };
}
