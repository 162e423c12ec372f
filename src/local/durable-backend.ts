import { availableParallelism } from 'node:os';
import type { Logger } from '../lib/logger';
import type { RetryPolicy } from '../lib/orchestration/context';
import type { InstanceState, OrchestrationStarter } from '../lib/orchestration/starter';
import { ACTION, EVENT, replay, type EngineAction, type EpisodeResult, type HistoryEvent, type OrchestrationHandler } from './durable-engine';
import { MemoryHistoryStore, type HistoryStore, type InstanceRecord, type RuntimeStatus } from './history-store';

/** Durable's view of an instance: its runtime status, and the output or failure it ended with. */
export interface OrchestrationStatus {
  runtimeStatus: RuntimeStatus;
  output?: unknown;
  failure?: string;
  customStatus?: unknown;
}

export type Activity = (input: unknown) => Promise<unknown>;

export interface DurableBackendOptions {
  /** Orchestration functions by name, as registered (see orchestrationHandler). */
  orchestrations: Record<string, OrchestrationHandler>;
  activities: Record<string, Activity>;
  /** Where histories are kept; in memory by default. */
  store?: HistoryStore;
  /** Activities running at once; default: twice the cores. */
  activityConcurrency?: number;
  /** Multiplies how long timers wait (the fireAt in the history is unchanged); tests shorten retry backoff with it. */
  timerScale?: number;
  log?: Logger;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

const CREATED = new Set([EVENT.TaskScheduled, EVENT.SubOrchestrationInstanceCreated, EVENT.TimerCreated]);
const COMPLETED = new Set([EVENT.TaskCompleted, EVENT.TaskFailed, EVENT.SubOrchestrationInstanceCompleted, EVENT.SubOrchestrationInstanceFailed]);

const event = (EventType: number, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({ EventType, EventId: -1, Timestamp: new Date(), IsPlayed: false, ...fields });
const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
const parse = (text: string | undefined) => (text === undefined ? undefined : JSON.parse(text));
const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
const failure = (error: Error) => ({ ErrorType: error.name, ErrorMessage: error.message, StackTrace: error.stack });

/** Task ids created in `history` and not completed yet: what is in flight. */
function pendingTasks(history: HistoryEvent[]): number[] {
  const open = new Set<number>();
  for (const e of history) {
    if (CREATED.has(e.EventType)) open.add(e.EventId);
    else if (COMPLETED.has(e.EventType)) open.delete(e.TaskScheduledId!);
    else if (e.EventType === EVENT.TimerFired) open.delete(e.TimerId!);
  }
  return [...open];
}

/** Durable's backoff: the first retry waits firstRetryInterval, each next one backoffCoefficient times longer, up to the maximum. */
function retryDelay(policy: RetryPolicy, failedAttempts: number): number {
  const delay = policy.firstRetryIntervalInMilliseconds * (policy.backoffCoefficient || 1) ** (failedAttempts - 1);
  return Math.min(delay, policy.maxRetryIntervalInMilliseconds || Infinity);
}

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

class Instance {
  /** Every action the orchestrator has asked for, as of its last episode; `record.actionOf` indexes into it. */
  actions: EngineAction[] = [];
  /** The event that created each task id. */
  readonly created: HistoryEvent[] = [];
  /** Episodes run one at a time, in the order their events arrived. */
  queue: Promise<void> = Promise.resolve();
  /** Events delivered and not yet in the history: the next episode takes them all. */
  readonly inbox: HistoryEvent[] = [];
  readonly done: Promise<InstanceRecord>;
  finish!: (record: InstanceRecord) => void;

  constructor(public record: InstanceRecord) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    for (const e of record.history) if (CREATED.has(e.EventType)) this.created[e.EventId] = e;
  }
}

/**
 * A small Durable Functions backend for the local host. durable-functions' replay engine (./durable-engine) decides
 * everything; this only keeps each instance's history, executes what the engine asks for (activities,
 * sub-orchestrations, timers, and an activity's retries with their backoff timers, which the Durable extension
 * executes in Azure), appends each result as an event and replays the full history again: one episode for the events
 * that arrived since the last one began, as the Durable extension processes an instance's queued messages together.
 * With a file store, a restarted host resumes every running instance from its history.
 */
export class DurableBackend implements OrchestrationStarter {
  private readonly instances = new Map<string, Instance>();
  private readonly store: HistoryStore;
  private readonly semaphore: Semaphore;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: DurableBackendOptions) {
    this.store = options.store ?? new MemoryHistoryStore();
    this.semaphore = new Semaphore(options.activityConcurrency ?? availableParallelism() * 2);
  }

  get description(): string {
    return `durable-functions replay engine, histories ${this.store.description}`;
  }

  /** Loads every instance from the store and carries on with the running ones. Resolves to how many were running. */
  async resume(): Promise<number> {
    const running: Instance[] = [];
    for (const record of await this.store.loadAll()) {
      const instance = new Instance(record);
      this.instances.set(record.instanceId, instance);
      if (record.runtimeStatus === 'Running') running.push(instance);
      else this.finished(instance, false);
    }
    for (const instance of running) this.enqueue(instance);
    if (running.length) this.options.log?.info(`resuming ${running.length} orchestrations from their histories`);
    return running.length;
  }

  async startOnce(name: string, instanceId: string, input: unknown): Promise<boolean> {
    if (this.stopped) throw new Error('The local orchestration host is stopping.');
    if (this.instances.has(instanceId)) return false;
    await this.create(name, instanceId, input);
    return true;
  }

  /** Durable's view of an instance: its runtime status, and the output or failure it ended with. */
  async getStatus(instanceId: string): Promise<OrchestrationStatus | undefined> {
    const record = this.instances.get(instanceId)?.record;
    return record && { runtimeStatus: record.runtimeStatus, output: record.output, failure: record.failure, customStatus: record.customStatus };
  }

  async state(instanceId: string): Promise<InstanceState | undefined> {
    const status = await this.getStatus(instanceId);
    if (!status) return undefined;
    if (status.runtimeStatus === 'Completed') return { status: 'completed' };
    if (status.runtimeStatus === 'Failed') return { status: 'failed', error: `Failed: ${status.failure ?? 'unknown'}` };
    return { status: 'running' };
  }

  /**
   * Forgets ended instances created before `createdBefore`, in memory and in the store, as Durable's purge does:
   * afterwards they are unknown (no state, and the id could be started again).
   */
  async purgeEnded(createdBefore: Date): Promise<number> {
    const cutoff = createdBefore.toISOString();
    const ended = [...this.instances.values()].filter(({ record }) => record.runtimeStatus !== 'Running' && record.createdTime < cutoff);
    for (const { record } of ended) {
      this.instances.delete(record.instanceId);
      await this.store.delete(record.instanceId);
    }
    return ended.length;
  }

  /** Resolves when the instance completes or fails. */
  waitFor(instanceId: string): Promise<InstanceRecord> {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`No orchestration instance ${instanceId}.`);
    return instance.done;
  }

  /** Stops starting work and waits for what is running; results that arrive meanwhile are dropped (a restart redoes them). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  /** Registers the instance at once (so a second start sees it), then runs and saves its first episode. */
  private async create(name: string, instanceId: string, input: unknown, parentInstanceId?: string): Promise<Instance> {
    const now = new Date().toISOString();
    const instance = new Instance({ name, instanceId, parentInstanceId, runtimeStatus: 'Running', createdTime: now, lastUpdatedTime: now, history: [], actionOf: [] });
    this.instances.set(instanceId, instance);
    const first = this.track(this.episode(instance, [event(EVENT.ExecutionStarted, { Name: name, Input: json(input) })]));
    instance.queue = first.catch((error) => this.options.log?.error(`orchestration ${instanceId} could not start`, error));
    try {
      await first;
    } catch (error) {
      this.instances.delete(instanceId);
      throw error;
    }
    return instance;
  }

  /**
   * Delivers `added` to the instance's next episode (or, without an event, picks the instance up after a restart).
   * As the Durable extension dequeues an instance's messages in batches, one episode takes every event delivered
   * before it starts: a fan-out's completions are replayed together instead of the whole history once per completion.
   * The episode waits for the rest of the event loop's current turn, whose other I/O may deliver more.
   */
  private enqueue(instance: Instance, added?: HistoryEvent): void {
    if (this.stopped) return;
    if (added && instance.inbox.push(added) > 1) return; // the episode already waiting takes it
    instance.queue = this.track(
      instance.queue
        .then(() => new Promise((resolve) => setImmediate(resolve)))
        .then(() => this.episode(instance, instance.inbox.splice(0)))
        .catch((error) => this.options.log?.error(`orchestration ${instance.record.instanceId}: episode failed`, error)),
    );
  }

  private async episode(instance: Instance, added: HistoryEvent[]): Promise<void> {
    const { record } = instance;
    if (this.stopped || record.runtimeStatus !== 'Running') return;
    const before = record.actionOf.length;
    if (added.length) {
      record.history.push(event(EVENT.OrchestratorStarted));
      // Each event as if delivered alone: an activity's retry timer or next attempt follows the event that asks for it.
      for (const e of added) {
        record.history.push(e);
        this.scheduleRetry(instance, e);
      }
    }
    const orchestrator = this.options.orchestrations[record.name];
    let result: EpisodeResult = orchestrator ? await replay(orchestrator, record) : { kind: 'failed', error: `No orchestration named ${record.name}.` };
    if (result.kind === 'running') {
      instance.actions = result.actions;
      const refused = this.schedule(instance, result.actions);
      if (refused) result = { kind: 'failed', error: refused, customStatus: result.customStatus };
    }
    record.customStatus = result.customStatus;
    if (result.kind === 'completed') Object.assign(record, { runtimeStatus: 'Completed', output: result.output });
    if (result.kind === 'failed') Object.assign(record, { runtimeStatus: 'Failed', failure: result.error });
    if (added.length || record.actionOf.length > before || result.kind !== 'running') {
      record.lastUpdatedTime = new Date().toISOString();
      await this.store.save(record);
    }
    if (result.kind !== 'running') return this.finished(instance, true);
    // After a restart everything in flight starts again (activities run at least once, as in Durable).
    const ids = added.length ? record.actionOf.slice(before).map((_, i) => before + i) : pendingTasks(record.history);
    for (const id of ids) this.dispatch(instance, id);
  }

  /** Gives task ids to the actions the orchestrator asked for since the last episode; returns why it cannot, if so. */
  private schedule(instance: Instance, actions: EngineAction[]): string | undefined {
    const { record } = instance;
    const firstTask = new Map<number, number>();
    record.actionOf.forEach((action, id) => firstTask.has(action) || firstTask.set(action, id));
    if (actions.length < firstTask.size) return `Non-deterministic workflow detected: the orchestrator asked for ${actions.length} tasks, its history has ${firstTask.size}.`;
    for (const [index, action] of actions.entries()) {
      const id = firstTask.get(index) ?? record.actionOf.length;
      const wanted = this.creation(record.instanceId, action, id);
      if (!wanted) return `The local orchestration host does not support action type ${action.actionType} (${action.functionName ?? 'unnamed'}).`;
      const recorded = instance.created[id];
      if (recorded) {
        if (recorded.EventType !== wanted.EventType || recorded.Name !== wanted.Name || recorded.InstanceId !== wanted.InstanceId) {
          return `Non-deterministic workflow detected: task ${index} is now ${wanted.Name ?? 'a timer'}, its history has ${recorded.Name ?? 'a timer'}.`;
        }
        continue;
      }
      this.allocate(instance, index, wanted);
    }
    return undefined;
  }

  /** The event that records an action being scheduled, as the Durable extension writes it. */
  private creation(instanceId: string, action: EngineAction, id: number): HistoryEvent | undefined {
    switch (action.actionType) {
      case ACTION.CallActivity:
      case ACTION.CallActivityWithRetry:
        // durable-functions sends activity string inputs already as JSON text.
        return event(EVENT.TaskScheduled, { Name: action.functionName, Input: typeof action.input === 'string' ? action.input : json(action.input) });
      case ACTION.CallSubOrchestrator:
        return event(EVENT.SubOrchestrationInstanceCreated, { Name: action.functionName, InstanceId: action.instanceId ?? `${instanceId}:${id}`, Input: json(action.input) });
      case ACTION.CreateTimer:
        return event(EVENT.TimerCreated, { FireAt: action.fireAt });
      default:
        return undefined;
    }
  }

  private allocate(instance: Instance, action: number, created: HistoryEvent): void {
    created.EventId = instance.record.actionOf.length;
    instance.record.actionOf.push(action);
    instance.created[created.EventId] = created;
    instance.record.history.push(created);
  }

  /**
   * An activity called with retry options: after each failed attempt a timer (durable-functions waits for one even
   * after the last attempt, then gives up), and when a retry timer fires, the next attempt.
   */
  private scheduleRetry(instance: Instance, added: HistoryEvent): void {
    const failed = added.EventType === EVENT.TaskFailed;
    if (!failed && added.EventType !== EVENT.TimerFired) return;
    const { record } = instance;
    const index = record.actionOf[failed ? added.TaskScheduledId! : added.TimerId!];
    const action = instance.actions[index];
    if (action?.actionType !== ACTION.CallActivityWithRetry || !action.retryOptions) return;
    const policy = action.retryOptions as RetryPolicy;
    const attempts = record.actionOf.filter((a, id) => a === index && instance.created[id].EventType === EVENT.TaskScheduled).length;
    if (failed) {
      const delay = attempts < policy.maxNumberOfAttempts ? retryDelay(policy, attempts) : 0;
      this.allocate(instance, index, event(EVENT.TimerCreated, { FireAt: new Date(Date.now() + delay) }));
    } else if (attempts < policy.maxNumberOfAttempts) {
      const first = instance.created[record.actionOf.indexOf(index)];
      this.allocate(instance, index, event(EVENT.TaskScheduled, { Name: first.Name, Input: first.Input }));
    }
  }

  private dispatch(instance: Instance, id: number): void {
    const created = instance.created[id];
    const deliver = (type: number, fields: Partial<HistoryEvent>) => this.enqueue(instance, event(type, fields));
    if (created.EventType === EVENT.TaskScheduled) {
      void this.track(this.runActivity(created.Name!, parse(created.Input))).then((outcome) =>
        outcome.ok
          ? deliver(EVENT.TaskCompleted, { TaskScheduledId: id, Result: JSON.stringify(outcome.value ?? null) })
          : deliver(EVENT.TaskFailed, { TaskScheduledId: id, FailureDetails: failure(outcome.error) }),
      );
    } else if (created.EventType === EVENT.SubOrchestrationInstanceCreated) {
      // Not tracked: stop() waits for a child's start, never for the whole child.
      void this.child(created.Name!, created.InstanceId!, parse(created.Input), instance.record.instanceId).then(
        (child) =>
          child.runtimeStatus === 'Completed'
            ? deliver(EVENT.SubOrchestrationInstanceCompleted, { TaskScheduledId: id, Result: JSON.stringify(child.output ?? null) })
            : deliver(EVENT.SubOrchestrationInstanceFailed, { TaskScheduledId: id, FailureDetails: { ErrorType: 'OrchestrationFailure', ErrorMessage: child.failure ?? '' } }),
        (error) => this.options.log?.error(`sub-orchestration ${created.InstanceId} could not start`, error),
      );
    } else {
      const wait = Math.max(0, new Date(created.FireAt!).getTime() - Date.now()) * (this.options.timerScale ?? 1);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        deliver(EVENT.TimerFired, { TimerId: id, FireAt: created.FireAt });
      }, wait);
      this.timers.add(timer);
    }
  }

  private runActivity(name: string, input: unknown): Promise<Outcome> {
    return this.semaphore.use(async () => {
      const activity = this.options.activities[name];
      if (this.stopped) return { ok: false, error: new Error('The local orchestration host is stopping.') };
      if (!activity) return { ok: false, error: new Error(`No activity named ${name}.`) };
      try {
        return { ok: true, value: await activity(input) };
      } catch (error) {
        return { ok: false, error: asError(error) };
      }
    });
  }

  private async child(name: string, instanceId: string, input: unknown, parentInstanceId: string): Promise<InstanceRecord> {
    const existing = this.instances.get(instanceId);
    return (existing ?? (await this.create(name, instanceId, input, parentInstanceId))).done;
  }

  /** A finished instance keeps only its outcome in memory; its history stays in the store. */
  private finished(instance: Instance, justNow: boolean): void {
    const { record } = instance;
    if (justNow && record.runtimeStatus === 'Failed') this.options.log?.error(`orchestration ${record.name} ${record.instanceId} failed: ${record.failure}`);
    instance.record = { ...record, history: [], actionOf: [] };
    instance.actions = [];
    instance.created.length = 0;
    instance.finish(instance.record);
  }
}
