import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_ACTIVITIES,
  BATCH_CHUNK_ORCHESTRATOR,
  BATCH_ORCHESTRATOR,
  createBatchOrchestrators,
  planChunks,
  type BatchOrchestrationInput,
  type BatchOutcome,
  type ChunkInput,
} from '../../src/lib/orchestration/batch-orchestrator';
import { DurableBackend, type Activity } from '../../src/local/durable-backend';
import { EVENT, orchestrationHandler, replay, type HistoryEvent, type OrchestrationHandler } from '../../src/local/durable-engine';
import { FileHistoryStore, MemoryHistoryStore, type HistoryStore, type InstanceRecord } from '../../src/local/history-store';
import { recordRegistrations } from '../functions/functions-core';

// The orchestrations exactly as src/functions registers them with df.app.orchestration (and its df.RetryOptions).
const registrations = recordRegistrations();
let registered: Record<string, OrchestrationHandler>;
beforeAll(async () => {
  await import('../../src/functions/batch-orchestration.js');
  registered = Object.fromEntries([BATCH_ORCHESTRATOR, BATCH_CHUNK_ORCHESTRATOR].map((name) => [name, registrations.get(name)!.handler as OrchestrationHandler]));
});

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

/** Retry timers wait a thousandth of their recorded backoff: 2 s in the history is 2 ms here. */
const TIMER_SCALE = 0.001;

/** Fake activities: item 4 is a bad image, item 5 fails once (transient), item 6 always throws. */
function fakeActivities(overrides: Partial<Record<string, Activity>> = {}) {
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
    ...overrides,
  } as Record<string, Activity>;
  return { activities, calls, attempts, maxRunning: () => maxRunning };
}

const input: BatchOrchestrationInput = { batchId: 'b1', itemCount: 7, chunkSize: 3, parallelChunks: 2, callback: true };

function backend(activities: Record<string, Activity>, store: HistoryStore = new MemoryHistoryStore(), orchestrations = registered) {
  return new DurableBackend({ orchestrations, activities, store, timerScale: TIMER_SCALE });
}

async function histories(store: HistoryStore): Promise<Map<string, InstanceRecord>> {
  return new Map((await store.loadAll()).map((record) => [record.instanceId, record]));
}

const ofType = (history: HistoryEvent[], type: number) => history.filter((e) => e.EventType === type);
const ms = (value: Date | string | undefined) => new Date(value!).getTime();

describe('batch orchestrators on durable-functions\' replay engine (the local Durable backend)', () => {
  it('plans chunks covering every index once', () => {
    expect(planChunks(7, 3)).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 7 }]);
    expect(planChunks(0, 50)).toEqual([]);
  });

  it('fans out per item, retries with Durable backoff timers, gives up after 4 attempts, fans in, and survives a failing callback', async () => {
    const fake = fakeActivities();
    const store = new MemoryHistoryStore();
    const host = backend(fake.activities, store);
    const [first, second] = await Promise.all([host.startOnce(BATCH_ORCHESTRATOR, 'b1', input), host.startOnce(BATCH_ORCHESTRATOR, 'b1', input)]);
    expect([first, second]).toEqual([true, false]);
    const done = await host.waitFor('b1');
    expect(done.runtimeStatus).toBe('Completed');
    const outcome = done.output as BatchOutcome;
    expect(outcome).toMatchObject({ batchId: 'b1', itemCount: 7, chunks: 3, succeeded: 5, failed: 2, gaveUp: 1 });
    expect(outcome.callback).toMatchObject({ delivered: false, error: expect.stringContaining('callback endpoint down') });
    // The callback activity reads the URL from the batch document: no URL in any input Durable keeps.
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.callback).map((c) => c.input)).toEqual([{ batchId: 'b1' }]);
    // ITEM_RETRY: 4 attempts; the transient failure succeeds on its second.
    expect(fake.attempts.get(5)).toBe(2);
    expect(fake.attempts.get(6)).toBe(4);
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.failItem).map((c) => c.input)).toEqual([
      { batchId: 'b1', index: 6, reason: 'Processing kept failing after 4 attempts: Error: storage unavailable' },
    ]);
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.summarise)).toEqual([{ name: BATCH_ACTIVITIES.summarise, input: expect.objectContaining({ batchId: 'b1', itemCount: 7 }) }]);
    // Two chunks of three at most: the fan-out width is bounded.
    expect(fake.maxRunning()).toBeLessThanOrEqual(6);
    expect(await host.getStatus('b1')).toMatchObject({ runtimeStatus: 'Completed', customStatus: { chunksDone: 3, chunks: 3 } });
    expect(await host.getStatus('b1:chunk:2')).toMatchObject({ runtimeStatus: 'Completed', output: { succeeded: 0, failed: 1, gaveUp: 1 } });
    expect(await host.getStatus('nope')).toBeUndefined();

    const records = await histories(store);
    const parent = records.get('b1')!.history;
    expect(parent.slice(0, 2).map((e) => e.EventType)).toEqual([EVENT.OrchestratorStarted, EVENT.ExecutionStarted]);
    expect(JSON.parse(parent[1].Input!)).toEqual(input);
    expect(ofType(parent, EVENT.SubOrchestrationInstanceCreated).map((e) => e.InstanceId)).toEqual(['b1:chunk:0', 'b1:chunk:1', 'b1:chunk:2']);
    expect(ofType(parent, EVENT.SubOrchestrationInstanceCompleted)).toHaveLength(3);
    // Item 6's chunk: four attempts, a timer after each failure at 2 s, 4 s, 8 s (the README's schedule), then none.
    const chunk = records.get('b1:chunk:2')!.history;
    expect(ofType(chunk, EVENT.TaskScheduled).filter((e) => e.Name === BATCH_ACTIVITIES.processItem)).toHaveLength(4);
    expect(ofType(chunk, EVENT.TaskFailed)).toHaveLength(4);
    const timers = ofType(chunk, EVENT.TimerCreated);
    expect(timers.map((e) => ms(e.FireAt) - ms(e.Timestamp)).slice(0, 3)).toEqual([2000, 4000, 8000]);
    expect(ofType(chunk, EVENT.TimerFired).map((e) => e.TimerId)).toEqual(timers.map((e) => e.EventId));
    await host.stop();
  });

  it('replays a finished history to the same output without running an activity', async () => {
    const fake = fakeActivities();
    const store = new MemoryHistoryStore();
    const host = backend(fake.activities, store);
    await host.startOnce(BATCH_ORCHESTRATOR, 'b1', input);
    const done = await host.waitFor('b1');
    await host.stop();
    const calls = fake.calls.length;
    for (const record of (await histories(store)).values()) {
      const again = await replay(registered[record.name], record);
      expect(again).toMatchObject({ kind: 'completed', output: record.output });
    }
    expect(fake.calls).toHaveLength(calls);
    expect((done.output as BatchOutcome).succeeded).toBe(5);
  });

  it('takes completions that arrive together in one episode, as Durable dequeues them, and replays that history to the same outcome', async () => {
    // Every attempt answers at once: a chunk's completions (and failures, with their retry timers) arrive together.
    const fake = fakeActivities({
      [BATCH_ACTIVITIES.processItem]: async (input) => {
        const { index } = input as { index: number };
        fake.calls.push({ name: BATCH_ACTIVITIES.processItem, input });
        fake.attempts.set(index, (fake.attempts.get(index) ?? 0) + 1);
        if (index === 6) throw new Error('storage unavailable');
        if (index === 5 && fake.attempts.get(5) === 1) throw new Error('throttled');
        return { index, status: index === 4 ? 'failed' : 'succeeded' };
      },
    });
    const store = new MemoryHistoryStore();
    const host = backend(fake.activities, store);
    await host.startOnce(BATCH_ORCHESTRATOR, 'b1', { ...input, chunkSize: 4 });
    const done = await host.waitFor('b1');
    await host.stop();
    // The same outcome as when each result arrives on its own (the first test): 4 and 6 failed, 6 given up after 4 attempts.
    expect(done.output).toMatchObject({ batchId: 'b1', itemCount: 7, chunks: 2, succeeded: 5, failed: 2, gaveUp: 1 });
    expect([fake.attempts.get(5), fake.attempts.get(6)]).toEqual([2, 4]);

    const records = await histories(store);
    const first = records.get('b1:chunk:0')!.history;
    // Episodes: each OrchestratorStarted and the events up to the next one. One of them holds several completions.
    const episodes = first.reduce<HistoryEvent[][]>((all, e) => (e.EventType === EVENT.OrchestratorStarted ? [...all, [e]] : (all.at(-1)!.push(e), all)), []);
    const completions = ofType(first, EVENT.TaskCompleted).length;
    expect(completions).toBe(4);
    expect(Math.max(...episodes.map((episode) => ofType(episode, EVENT.TaskCompleted).length))).toBeGreaterThan(1);
    expect(episodes.length).toBeLessThan(completions + 1);
    // Retries in a batched history: item 5 waits 2 s once; item 6 2 s, 4 s, 8 s, then the timer after its last attempt.
    const second = records.get('b1:chunk:1')!.history;
    expect(ofType(second, EVENT.TimerCreated).map((e) => ms(e.FireAt) - ms(e.Timestamp)).sort((a, b) => a - b)).toEqual([0, 2000, 2000, 4000, 8000]);
    expect(ofType(second, EVENT.TimerFired).map((e) => e.TimerId).sort()).toEqual(ofType(second, EVENT.TimerCreated).map((e) => e.EventId).sort());
    // durable-functions' replay engine, given each saved history from scratch, decides the same: same output, no new task.
    const calls = fake.calls.length;
    for (const record of records.values()) {
      expect(await replay(registered[record.name], record)).toMatchObject({ kind: 'completed', output: record.output });
    }
    expect(fake.calls).toHaveLength(calls);
  });

  it('resumes a history cut short as after a crash: recorded results are not redone, in-flight ones are', async () => {
    const fake = fakeActivities();
    const store = new MemoryHistoryStore();
    const first = backend(fake.activities, store);
    await first.startOnce(BATCH_ORCHESTRATOR, 'b1', input);
    const expected = (await first.waitFor('b1')).output;
    await first.stop();

    // Cut chunk 1 (items 3-5) back to its first successful item's result (results that arrived together share an
    // episode, so the cut is at that event: the history as it was saved had that result come alone), and the parent to
    // before chunk 1 ended.
    const records = await histories(store);
    const cut = (record: InstanceRecord, keep: number) => {
      const history = record.history.slice(0, keep);
      const ids = history.filter((e) => [EVENT.TaskScheduled, EVENT.SubOrchestrationInstanceCreated, EVENT.TimerCreated].includes(e.EventType)).length;
      return { ...record, runtimeStatus: 'Running' as const, output: undefined, history, actionOf: record.actionOf.slice(0, ids) };
    };
    const fullChunk = records.get('b1:chunk:1')!.history;
    const chunk = cut(records.get('b1:chunk:1')!, fullChunk.findIndex((e) => e.EventType === EVENT.TaskCompleted) + 1);
    const fullParent = records.get('b1')!.history;
    const chunk1Ended = fullParent.findIndex((e) => e.EventType === EVENT.SubOrchestrationInstanceCompleted && e.TaskScheduledId === 1);
    const parent = cut(records.get('b1')!, fullParent.slice(0, chunk1Ended).findLastIndex((e) => e.EventType === EVENT.OrchestratorStarted));
    const crashed = new MemoryHistoryStore();
    for (const record of [...records.values()].map((r) => (r.instanceId === 'b1' ? parent : r.instanceId === 'b1:chunk:1' ? chunk : r))) await crashed.save(record);
    const index = (e: HistoryEvent) => (JSON.parse(e.Input!) as { index: number }).index;
    const item = (id: number) => index(chunk.history.find((e) => e.EventType === EVENT.TaskScheduled && e.EventId === id)!);
    const done = ofType(chunk.history, EVENT.TaskCompleted).map((e) => item(e.TaskScheduledId!));
    expect(done).toHaveLength(1);

    const again = fakeActivities();
    const second = backend(again.activities, crashed);
    expect(await second.resume()).toBe(2);
    const resumed = await second.waitFor('b1');
    await second.stop();
    expect(resumed).toMatchObject({ runtimeStatus: 'Completed', output: expected });
    // Only chunk 1's two unfinished items ran again (item 5, transient, twice); chunks 0 and 2 and the done item did not.
    const rerun = new Set(again.calls.filter((c) => c.name === BATCH_ACTIVITIES.processItem).map((c) => (c.input as { index: number }).index));
    expect([...rerun].sort()).toEqual([3, 4, 5].filter((i) => !done.includes(i)));
    expect(again.calls.filter((c) => c.name === BATCH_ACTIVITIES.summarise)).toHaveLength(1);
  });

  it('fails an instance whose orchestrator no longer makes the decisions its history records', async () => {
    const fake = fakeActivities();
    const store = new MemoryHistoryStore();
    const first = backend(fake.activities, store);
    await first.startOnce(BATCH_ORCHESTRATOR, 'b1', input);
    await first.waitFor('b1');
    await first.stop();
    const record = (await histories(store)).get('b1')!;
    // The same history with another chunk size: the fourth task would now be a fourth chunk, where the summary was.
    const started = record.history.findIndex((e) => e.EventType === EVENT.ExecutionStarted);
    const changed = { ...record, runtimeStatus: 'Running' as const, history: record.history.map((e, i) => (i === started ? { ...e, Input: JSON.stringify({ ...input, chunkSize: 2 }) } : e)) };
    const crashed = new MemoryHistoryStore();
    await crashed.save(changed);
    const second = backend(fakeActivities().activities, crashed);
    await second.resume();
    expect(await second.waitFor('b1')).toMatchObject({ runtimeStatus: 'Failed', failure: expect.stringContaining('Non-deterministic workflow detected') });
    await second.stop();
  });

  it('counts a failing sub-orchestration\'s items as pending, and finishes the batch', async () => {
    const fake = fakeActivities();
    const chunkGenerator = createBatchOrchestrators()[BATCH_CHUNK_ORCHESTRATOR];
    const host = backend(fake.activities, new MemoryHistoryStore(), {
      ...registered,
      // Chunk 1 fails after its items ran (say its host lost the history store); the others run unchanged.
      [BATCH_CHUNK_ORCHESTRATOR]: orchestrationHandler(function* (context) {
        const result = yield* chunkGenerator(context);
        if (context.df.getInput<ChunkInput>().start === 3) throw new Error('chunk lost');
        return result;
      }),
    });
    await host.startOnce(BATCH_ORCHESTRATOR, 'b1', input);
    const done = await host.waitFor('b1');
    await host.stop();
    expect(done.runtimeStatus).toBe('Completed');
    // Items 0-2 and 6 are counted; 3-5 are not (the summary, built from the item documents, shows them as pending).
    expect(done.output).toMatchObject({ chunks: 3, succeeded: 3, failed: 1, gaveUp: 1 });
    expect(await host.getStatus('b1:chunk:1')).toMatchObject({ runtimeStatus: 'Failed', failure: 'chunk lost' });
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.summarise)).toHaveLength(1);
  });

  it('ends the batch failed, with the reason, when the summary keeps failing; the orchestration fails only if that fails too', async () => {
    const failedBatches: unknown[] = [];
    const fake = fakeActivities({
      [BATCH_ACTIVITIES.summarise]: async () => Promise.reject(new Error('Cosmos DB unavailable')),
      [BATCH_ACTIVITIES.failBatch]: async (failure) => void failedBatches.push(failure),
    });
    const store = new MemoryHistoryStore();
    const host = backend(fake.activities, store);
    await host.startOnce(BATCH_ORCHESTRATOR, 'b1', input);
    const done = await host.waitFor('b1');
    expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { failure: expect.stringContaining('Cosmos DB unavailable') } });
    expect(failedBatches).toEqual([{ batchId: 'b1', reason: expect.stringContaining('Cosmos DB unavailable'), at: expect.any(String) }]);
    const history = (await histories(store)).get('b1')!.history;
    const summaries = ofType(history, EVENT.TaskScheduled).filter((e) => e.Name === BATCH_ACTIVITIES.summarise);
    expect(summaries).toHaveLength(4);
    // The callback still tells the receiver how the batch ended.
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.callback)).toHaveLength(1);

    const broken = fakeActivities({
      [BATCH_ACTIVITIES.summarise]: async () => Promise.reject(new Error('Cosmos DB unavailable')),
      [BATCH_ACTIVITIES.failBatch]: async () => Promise.reject(new Error('Cosmos DB still unavailable')),
    });
    const second = backend(broken.activities);
    await second.startOnce(BATCH_ORCHESTRATOR, 'b2', { ...input, batchId: 'b2' });
    const failed = await second.waitFor('b2');
    await Promise.all([host.stop(), second.stop()]);
    expect(failed).toMatchObject({ runtimeStatus: 'Failed', failure: expect.stringContaining('Cosmos DB still unavailable') });
    expect(await second.state('b2')).toEqual({ status: 'failed', error: expect.stringContaining('Cosmos DB still unavailable') });
    expect(broken.calls.filter((c) => c.name === BATCH_ACTIVITIES.callback)).toEqual([]);
  });

  it('takes startedAt and finishedAt from the orchestration clock (the episodes\' OrchestratorStarted times)', async () => {
    const store = new MemoryHistoryStore();
    const host = backend(fakeActivities().activities, store);
    await host.startOnce(BATCH_ORCHESTRATOR, 'b2', { batchId: 'b2', itemCount: 2 });
    await host.waitFor('b2');
    await host.stop();
    const history = (await histories(store)).get('b2')!.history;
    const summary = history.findIndex((e) => e.Name === BATCH_ACTIVITIES.summarise);
    const lastStart = history.slice(0, summary).findLast((e) => e.EventType === EVENT.OrchestratorStarted)!;
    expect(JSON.parse(history[summary].Input!)).toMatchObject({ startedAt: new Date(history[0].Timestamp).toISOString(), finishedAt: new Date(lastStart.Timestamp).toISOString() });
  });

  it('keeps histories on disk: a new backend on the same folder finishes what a stopped one left in flight', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'histories-'));
    folders.push(folder);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake = fakeActivities();
    const slow = fakeActivities({
      // Items 0 and 1 finish; item 2 is still running when the host stops.
      [BATCH_ACTIVITIES.processItem]: async (item) => ((item as { index: number }).index === 2 ? gate.then(() => fake.activities[BATCH_ACTIVITIES.processItem](item)) : fake.activities[BATCH_ACTIVITIES.processItem](item)),
    });
    const first = backend(slow.activities, new FileHistoryStore(folder));
    await first.startOnce(BATCH_ORCHESTRATOR, 'b3', { batchId: 'b3', itemCount: 3 });
    while (fake.calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = first.stop();
    release();
    await stopping;

    const again = fakeActivities();
    const second = backend(again.activities, new FileHistoryStore(folder));
    expect(await second.resume()).toBe(2);
    const done = await second.waitFor('b3');
    await second.stop();
    expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { itemCount: 3, succeeded: 3, failed: 0 } });
    expect(again.calls.filter((c) => c.name === BATCH_ACTIVITIES.processItem).map((c) => c.input)).toEqual([{ batchId: 'b3', index: 2 }]);
  });

  it('purges the histories of ended instances created before the cutoff, in memory and on disk, and keeps running ones', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'histories-'));
    folders.push(folder);
    for (const store of [new MemoryHistoryStore(), new FileHistoryStore(folder)]) {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const fake = fakeActivities();
      const held = fakeActivities({
        [BATCH_ACTIVITIES.processItem]: async (item) => ((item as { batchId: string }).batchId === 'running' ? gate.then(() => fake.activities[BATCH_ACTIVITIES.processItem](item)) : fake.activities[BATCH_ACTIVITIES.processItem](item)),
      });
      const host = backend(held.activities, store);
      await host.startOnce(BATCH_ORCHESTRATOR, 'ended', { batchId: 'ended', itemCount: 2 });
      await host.waitFor('ended');
      await host.startOnce(BATCH_ORCHESTRATOR, 'running', { batchId: 'running', itemCount: 1 });
      const created = new Date();
      expect(await host.purgeEnded(new Date(created.getTime() - 60_000)), 'nothing created before the cutoff').toBe(0);
      expect(await host.state('ended')).toEqual({ status: 'completed' });

      // The parent and its chunk, each its own instance; the running one stays.
      expect(await host.purgeEnded(new Date(created.getTime() + 1000))).toBe(2);
      expect(await host.state('ended')).toBeUndefined();
      expect(await host.getStatus('ended:chunk:0')).toBeUndefined();
      expect(await host.state('running')).toEqual({ status: 'running' });
      expect((await store.loadAll()).map((r) => r.instanceId).sort()).toEqual(['running', 'running:chunk:0']);
      release();
      await host.waitFor('running');
      await host.stop();
      // A new backend on the same store knows nothing of the purged ones.
      const after = backend(fakeActivities().activities, store);
      await after.resume();
      expect(await after.state('ended')).toBeUndefined();
      expect(await after.state('running')).toEqual({ status: 'completed' });
      await after.stop();
    }
  });

  it('still calls back for an instance started when the URL was in the input (histories from before it left)', async () => {
    const fake = fakeActivities({ [BATCH_ACTIVITIES.callback]: async (input) => void fake.calls.push({ name: BATCH_ACTIVITIES.callback, input }) });
    const host = backend(fake.activities);
    await host.startOnce(BATCH_ORCHESTRATOR, 'legacy', { batchId: 'legacy', itemCount: 1, callbackUrl: 'https://example.test/hook' });
    await host.waitFor('legacy');
    await host.stop();
    expect(fake.calls.filter((c) => c.name === BATCH_ACTIVITIES.callback).map((c) => c.input)).toEqual([{ batchId: 'legacy' }]);
  });
});
