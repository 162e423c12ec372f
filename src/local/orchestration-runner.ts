import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../lib/logger';
import type { DurableContext, DurableTask, Orchestrator, RetryPolicy } from '../lib/orchestration/context';
import type { InstanceState, OrchestrationStarter } from '../lib/orchestration/starter';

export type Activity = (input: unknown) => Promise<unknown>;
type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** One scheduled task in an orchestration's history, in scheduling order: what the orchestrator decided, and what came back. */
export interface HistoryEvent {
  kind: 'activity' | 'subOrchestration';
  name: string;
  input: unknown;
  instanceId?: string;
  retry?: RetryPolicy;
  outcome?: Outcome;
  /** Position in completion order, which decides Task.any winners and Task.all failures on replay. */
  completedOrder?: number;
}

export interface History {
  events: HistoryEvent[];
  /** currentUtcDateTime at the start and after each resume. */
  times: string[];
}

export interface RunResult {
  output?: unknown;
  error?: string;
  history: History;
}

export class NonDeterminismError extends Error {
  override name = 'NonDeterminismError';
}

export type RuntimeStatus = 'Running' | 'Completed' | 'Failed';

interface Instance {
  name: string;
  status: RuntimeStatus;
  customStatus?: unknown;
  done: Promise<RunResult>;
  result?: RunResult;
}

/** A task of the runner: a leaf (activity, sub-orchestration) or a composite (all, any). */
abstract class RunnerTask implements DurableTask {
  isCompleted = false;
  isFaulted = false;
  result?: unknown;
  private settling?: Promise<Outcome>;
  /** Set for leaves completed from history. */
  replayed?: { outcome: Outcome; order: number };
  order = Infinity;

  protected abstract run(): Promise<Outcome>;

  settle(): Promise<Outcome> {
    this.settling ??= this.run().then((outcome) => {
      this.isCompleted = true;
      this.isFaulted = !outcome.ok;
      this.result = outcome.ok ? outcome.value : new Error(outcome.error);
      return outcome;
    });
    return this.settling;
  }
}

class LeafTask extends RunnerTask {
  constructor(private readonly execute: () => Promise<Outcome>) {
    super();
  }
  protected run() {
    return this.execute();
  }
}

class CompositeTask extends RunnerTask {
  constructor(
    private readonly mode: 'all' | 'any',
    private readonly children: RunnerTask[],
  ) {
    super();
  }

  protected async run(): Promise<Outcome> {
    // Children completed from history come first, in their recorded order, exactly as in the run being replayed.
    const replayed = this.children.filter((c) => c.replayed).sort((a, b) => a.order - b.order);
    if (this.mode === 'any') {
      const winner = replayed[0] ?? (await Promise.race(this.children.map((c) => c.settle().then(() => c))));
      await winner.settle();
      return { ok: true, value: winner };
    }
    const failed = replayed.find((c) => !c.replayed!.outcome.ok);
    if (failed) return failed.settle();
    // Fail fast on the first live failure, like Durable's Task.all; else all results in task order.
    const outcomes = await new Promise<Outcome[]>((resolve) => {
      const results: Outcome[] = [];
      let pending = this.children.length;
      if (!pending) resolve([]);
      this.children.forEach((child, i) =>
        child.settle().then((outcome) => {
          if (!outcome.ok) resolve([outcome]);
          results[i] = outcome;
          if (--pending === 0) resolve(results);
        }),
      );
    });
    const failure = outcomes.find((o) => !o.ok);
    return failure ?? { ok: true, value: outcomes.map((o) => (o as { value: unknown }).value) };
  }
}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A counting semaphore: activities share the CPU with everything else in the local host. */
class Semaphore {
  private waiting: Array<() => void> = [];
  private active = 0;
  constructor(private readonly limit: number) {}
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export interface RunnerOptions {
  orchestrations: Record<string, Orchestrator>;
  activities: Record<string, Activity>;
  /** Activities running at once; default: twice the cores (processing is part native, part I/O). */
  activityConcurrency?: number;
  /** Multiplies retry delays; tests shorten them. */
  retryDelayScale?: number;
  log?: Logger;
}

/**
 * Runs Durable Functions orchestrator generators in this process, implementing the context.df calls they use
 * (callActivity[WithRetry], callSubOrchestrator, Task.all/any, currentUtcDateTime, getInput, instanceId,
 * isReplaying, setCustomStatus), so the generator Azure runs is the generator that runs locally.
 * It records a history per instance and can replay one, failing on any decision that differs (as Durable would).
 * Not durable: instances, histories and retry timers live in memory (README: runner limitations).
 */
export class OrchestrationRunner implements OrchestrationStarter {
  private readonly instances = new Map<string, Instance>();
  private readonly semaphore: Semaphore;
  private stopped = false;

  constructor(private readonly options: RunnerOptions) {
    this.semaphore = new Semaphore(options.activityConcurrency ?? availableParallelism() * 2);
  }

  async startOnce(name: string, instanceId: string, input: unknown): Promise<boolean> {
    if (this.instances.has(instanceId)) return false;
    this.start(name, instanceId, input);
    return true;
  }

  /** Starts an instance in the background; throws if the id is taken. */
  start(name: string, instanceId: string, input: unknown): Promise<RunResult> {
    if (this.instances.has(instanceId)) throw new Error(`An instance with id ${instanceId} already exists.`);
    const instance: Instance = { name, status: 'Running', done: Promise.resolve({ history: { events: [], times: [] } }) };
    this.instances.set(instanceId, instance);
    instance.done = this.execute(name, instanceId, input, undefined, instance).then((result) => {
      instance.result = result;
      instance.status = result.error === undefined ? 'Completed' : 'Failed';
      if (result.error !== undefined) this.options.log?.error(`orchestration ${name} ${instanceId} failed: ${result.error}`);
      return result;
    });
    return instance.done;
  }

  async state(instanceId: string): Promise<InstanceState | undefined> {
    const instance = this.instances.get(instanceId);
    if (!instance) return undefined;
    if (instance.status === 'Running') return { status: 'running' };
    return instance.status === 'Completed' ? { status: 'completed' } : { status: 'failed', error: instance.result?.error };
  }

  getStatus(instanceId: string): { name: string; runtimeStatus: RuntimeStatus; customStatus?: unknown; output?: unknown } | undefined {
    const instance = this.instances.get(instanceId);
    return instance && { name: instance.name, runtimeStatus: instance.status, customStatus: instance.customStatus, output: instance.result?.output };
  }

  waitFor(instanceId: string): Promise<RunResult> {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`No instance ${instanceId}.`);
    return instance.done;
  }

  /**
   * Runs the orchestrator again against a recorded history: recorded tasks complete from the history (no activity
   * runs) and every scheduled task must match the recorded one, else NonDeterminismError.
   */
  replay(name: string, instanceId: string, input: unknown, history: History): Promise<RunResult> {
    return this.execute(name, instanceId, input, history);
  }

  /** Stops starting activities; waits for running instances to finish or fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.instances.values()].map((i) => i.done));
  }

  private async runActivity(name: string, input: unknown, retry?: RetryPolicy): Promise<Outcome> {
    const activity = this.options.activities[name];
    if (!activity) return { ok: false, error: `No activity named ${name}.` };
    const attempts = retry?.maxNumberOfAttempts ?? 1;
    let delay = retry?.firstRetryIntervalInMilliseconds ?? 0;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return { ok: false, error: 'The local orchestration runner is stopping.' };
      try {
        return { ok: true, value: clone(await this.semaphore.use(() => activity(clone(input)))) };
      } catch (error) {
        if (attempt >= attempts) return { ok: false, error: errorMessage(error) };
        this.options.log?.warn(`activity ${name} failed (attempt ${attempt} of ${attempts}); retrying`, errorMessage(error));
        await sleep(delay * (this.options.retryDelayScale ?? 1));
        delay = Math.min(delay * (retry!.backoffCoefficient || 1), retry!.maxRetryIntervalInMilliseconds || Infinity);
      }
    }
  }

  private async runSubOrchestration(name: string, instanceId: string, input: unknown): Promise<Outcome> {
    const existing = this.instances.get(instanceId);
    const result = existing ? await existing.done : await this.start(name, instanceId, input);
    return result.error === undefined ? { ok: true, value: result.output } : { ok: false, error: result.error };
  }

  private async execute(name: string, instanceId: string, input: unknown, replay: History | undefined, instance?: Instance): Promise<RunResult> {
    const orchestrator = this.options.orchestrations[name];
    const history: History = { events: [], times: [] };
    if (!orchestrator) return { error: `No orchestration named ${name}.`, history };
    let completions = 0;
    // Kept outside the generator's reach: an orchestrator's own try/catch must not swallow a replay mismatch.
    let violation: NonDeterminismError | undefined;
    const tick = () => {
      const recorded = replay?.times[history.times.length];
      history.times.push(recorded ?? new Date().toISOString());
      return new Date(history.times.at(-1)!);
    };
    let now = tick();
    const schedule = (event: HistoryEvent, execute: () => Promise<Outcome>): RunnerTask => {
      const seq = history.events.length;
      history.events.push(event);
      const recorded = replay?.events[seq];
      if (recorded) {
        const { outcome, completedOrder, ...decision } = recorded;
        const { outcome: _o, completedOrder: _c, ...made } = event;
        if (!isDeepStrictEqual(clone(made), clone(decision))) {
          violation ??= new NonDeterminismError(`Task ${seq} differs from history: ran ${JSON.stringify(made)}, history has ${JSON.stringify(decision)}.`);
          throw violation;
        }
        if (outcome) {
          Object.assign(event, { outcome, completedOrder });
          const task = new LeafTask(async () => outcome);
          task.replayed = { outcome, order: completedOrder ?? Infinity };
          task.order = completedOrder ?? Infinity;
          return task;
        }
      }
      const task: RunnerTask = new LeafTask(async () => {
        const outcome = await execute();
        event.outcome = outcome;
        event.completedOrder = task.order = completions++;
        return outcome;
      });
      void task.settle(); // scheduled now, as Durable schedules on the next yield; results wait for the orchestrator
      return task;
    };
    const df: DurableContext = {
      instanceId,
      get isReplaying() {
        return replay !== undefined && history.times.length < replay.times.length;
      },
      get currentUtcDateTime() {
        return now;
      },
      getInput: <T>() => clone(input) as T,
      callActivity: (activity, activityInput) =>
        schedule({ kind: 'activity', name: activity, input: clone(activityInput) }, () => this.runActivity(activity, activityInput)),
      callActivityWithRetry: (activity, retry, activityInput) =>
        schedule({ kind: 'activity', name: activity, input: clone(activityInput), retry: { ...retry } }, () => this.runActivity(activity, activityInput, retry)),
      callSubOrchestrator: (child, childInput, childId) => {
        const id = childId ?? `${instanceId}:${history.events.length}`;
        return schedule({ kind: 'subOrchestration', name: child, input: clone(childInput), instanceId: id }, () => this.runSubOrchestration(child, id, childInput));
      },
      setCustomStatus: (status) => {
        if (instance) instance.customStatus = clone(status);
      },
      Task: {
        all: (tasks) => new CompositeTask('all', tasks as RunnerTask[]),
        any: (tasks) => new CompositeTask('any', tasks as RunnerTask[]),
      },
    };
    try {
      const generator = orchestrator({ df });
      let step = generator.next();
      while (!step.done) {
        if (!(step.value instanceof RunnerTask)) throw new Error('An orchestrator may only yield tasks from context.df.');
        const outcome = await step.value.settle();
        now = tick();
        step = outcome.ok ? generator.next(outcome.value) : generator.throw(new Error(outcome.error));
      }
      if (violation) throw violation;
      if (replay && history.events.length < replay.events.length) {
        throw new NonDeterminismError(`The orchestrator finished after ${history.events.length} tasks; history has ${replay.events.length}.`);
      }
      return { output: clone(step.value), history };
    } catch (error) {
      if (violation) throw violation;
      if (error instanceof NonDeterminismError) throw error;
      return { error: errorMessage(error), history };
    }
  }
}
