import { describe, expect, it } from 'vitest';
import {
  BATCH_ACTIVITIES,
  BATCH_ORCHESTRATOR,
  createBatchOrchestrators,
  planChunks,
  type BatchOrchestrationInput,
  type BatchOutcome,
} from '../../src/lib/orchestration/batch-orchestrator';
import { NonDeterminismError, OrchestrationRunner, type Activity } from '../../src/local/orchestration-runner';

const FAST_RETRY = { firstRetryIntervalInMilliseconds: 5, maxNumberOfAttempts: 3, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 20 };

/** Fake activities: item 4 is a bad image, item 5 fails once (transient), item 6 always throws. */
function fakeActivities() {
  const calls: Array<{ name: string; input: unknown }> = [];
  const attempts = new Map<number, number>();
  let running = 0;
  let maxRunning = 0;
  const activities: Record<string, Activity> = {
    [BATCH_ACTIVITIES.processItem]: async (input) => {
      const { index } = input as { index: number };
      calls.push({ name: BATCH_ACTIVITIES.processItem, input });
      attempts.set(index, (attempts.get(index) ?? 0) + 1);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + ((index * 7) % 11)));
      running--;
      if (index === 6) throw new Error('storage unavailable');
      if (index === 5 && attempts.get(5) === 1) throw new Error('throttled');
      return { index, status: index === 4 ? 'failed' : 'succeeded' };
    },
    [BATCH_ACTIVITIES.failItem]: async (input) => void calls.push({ name: BATCH_ACTIVITIES.failItem, input }),
    [BATCH_ACTIVITIES.summarise]: async (input) => {
      calls.push({ name: BATCH_ACTIVITIES.summarise, input });
      return { counts: { succeeded: 5, failed: 2, pending: 0 } };
    },
    [BATCH_ACTIVITIES.callback]: async (input) => {
      calls.push({ name: BATCH_ACTIVITIES.callback, input });
      throw new Error('callback endpoint down');
    },
  };
  return { activities, calls, attempts, maxRunning: () => maxRunning };
}

const input: BatchOrchestrationInput = { batchId: 'b1', itemCount: 7, chunkSize: 3, parallelChunks: 2, callbackUrl: 'https://example.test/done' };

describe('batch orchestrator through the local runner', () => {
  it('plans chunks covering every index once', () => {
    expect(planChunks(7, 3)).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 7 }]);
    expect(planChunks(0, 50)).toEqual([]);
  });

  it('fans out per item, retries transient errors, gives up after the retries, fans in, and survives a failing callback', async () => {
    const fake = fakeActivities();
    const runner = new OrchestrationRunner({ orchestrations: createBatchOrchestrators(FAST_RETRY), activities: fake.activities });
    expect(await runner.startOnce(BATCH_ORCHESTRATOR, 'b1', input)).toBe(true);
    expect(await runner.startOnce(BATCH_ORCHESTRATOR, 'b1', input)).toBe(false);
    const result = await runner.waitFor('b1');
    expect(result.error).toBeUndefined();
    const outcome = result.output as BatchOutcome;
    expect(outcome).toMatchObject({ batchId: 'b1', itemCount: 7, chunks: 3, succeeded: 5, failed: 2, gaveUp: 1 });
    expect(outcome.callback).toMatchObject({ delivered: false, error: 'callback endpoint down' });
    expect(fake.attempts.get(5)).toBe(2);
    expect(fake.attempts.get(6)).toBe(3);
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.failItem).map((c) => c.input)).toEqual([
      { batchId: 'b1', index: 6, reason: 'Processing kept failing after 3 attempts: storage unavailable' },
    ]);
    const summarise = fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.summarise);
    expect(summarise).toHaveLength(1);
    expect(summarise[0].input).toMatchObject({ batchId: 'b1', itemCount: 7 });
    // Two chunks of three at most: the fan-out width is bounded.
    expect(fake.maxRunning()).toBeLessThanOrEqual(6);
    expect(runner.getStatus('b1')).toMatchObject({ runtimeStatus: 'Completed', customStatus: { chunksDone: 3, chunks: 3 } });
    expect(runner.getStatus('b1:chunk:2')).toMatchObject({ runtimeStatus: 'Completed' });
  });

  it('replays from its history to the same decisions without running an activity', async () => {
    const fake = fakeActivities();
    const orchestrations = createBatchOrchestrators(FAST_RETRY);
    const runner = new OrchestrationRunner({ orchestrations, activities: fake.activities });
    const first = await runner.start(BATCH_ORCHESTRATOR, 'b1', input);
    const chunk = await runner.waitFor('b1:chunk:2');

    const never: Record<string, Activity> = Object.fromEntries(
      Object.values(BATCH_ACTIVITIES).map((name) => [name, async () => expect.unreachable(`${name} ran during replay`)]),
    );
    const replayer = new OrchestrationRunner({ orchestrations, activities: never });
    const again = await replayer.replay(BATCH_ORCHESTRATOR, 'b1', input, first.history);
    expect(again.output).toEqual(first.output);
    expect(again.history).toEqual(first.history);
    // The chunk with the exhausted retries goes through Task.all's failure path: replayed the same way.
    const chunkInput = { batchId: 'b1', start: 6, end: 7 };
    const chunkAgain = await replayer.replay('batchChunkOrchestrator', 'b1:chunk:2', chunkInput, chunk.history);
    expect(chunkAgain.output).toEqual(chunk.output);

    // A different decision (another chunk size) is caught, as Durable would refuse it.
    await expect(replayer.replay(BATCH_ORCHESTRATOR, 'b1', { ...input, chunkSize: 2 }, first.history)).rejects.toThrow(NonDeterminismError);
  });

  it('uses only the orchestration clock: startedAt/finishedAt come from currentUtcDateTime', async () => {
    const fake = fakeActivities();
    const runner = new OrchestrationRunner({ orchestrations: createBatchOrchestrators(FAST_RETRY), activities: fake.activities });
    const { history } = await runner.start(BATCH_ORCHESTRATOR, 'b2', { batchId: 'b2', itemCount: 2 });
    const summarise = history.events.find((e) => e.name === BATCH_ACTIVITIES.summarise)!;
    expect(summarise.input).toMatchObject({ startedAt: history.times[0], finishedAt: history.times[1] });
  });
});
