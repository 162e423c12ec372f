import { DummyOrchestrationContext } from 'durable-functions';
import type { Orchestrator } from '../lib/orchestration/context';

/**
 * durable-functions' own replay engine, as the Functions host drives it: `createOrchestrator` (the package's testing
 * utilities) wraps a generator exactly as `df.app.orchestration` registers it, and each call replays the whole
 * history through TaskOrchestrationExecutor and answers what the orchestrator wants next. Nothing here decides what an
 * orchestrator does; it only reads the engine's answer. The package ships no types for these modules.
 */
const { createOrchestrator } = require('durable-functions/lib/src/util/testingUtils') as { createOrchestrator(fn: Orchestrator): OrchestrationHandler };
const { HistoryEventType } = require('durable-functions/lib/src/history/HistoryEventType') as { HistoryEventType: Record<HistoryEventName, number> };
const { ActionType } = require('durable-functions/lib/src/actions/ActionType') as { ActionType: Record<string, number> };
const { LatestReplaySchema } = require('durable-functions/lib/src/orchestrations/ReplaySchema') as { LatestReplaySchema: number };

type HistoryEventName =
  | 'ExecutionStarted'
  | 'TaskScheduled'
  | 'TaskCompleted'
  | 'TaskFailed'
  | 'SubOrchestrationInstanceCreated'
  | 'SubOrchestrationInstanceCompleted'
  | 'SubOrchestrationInstanceFailed'
  | 'TimerCreated'
  | 'TimerFired'
  | 'OrchestratorStarted';

export const EVENT = HistoryEventType;
export const ACTION = ActionType;

/** A history event in the shape the engine reads (the Durable extension's wire format). */
export interface HistoryEvent {
  EventType: number;
  /** The task id for TaskScheduled, SubOrchestrationInstanceCreated and TimerCreated; -1 otherwise. */
  EventId: number;
  Timestamp: Date | string;
  IsPlayed: boolean;
  Name?: string;
  /** JSON text. */
  Input?: string;
  /** JSON text. */
  Result?: string;
  InstanceId?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: Date | string;
  FailureDetails?: { ErrorType: string; ErrorMessage: string; StackTrace?: string };
}

/** An action as the engine returns it: what the orchestrator asked for. */
export interface EngineAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: Date;
  retryOptions?: { firstRetryIntervalInMilliseconds: number; maxNumberOfAttempts: number; backoffCoefficient?: number; maxRetryIntervalInMilliseconds?: number };
  compoundActions?: EngineAction[];
}

interface EngineState {
  isDone: boolean;
  actions: EngineAction[][];
  output?: unknown;
  customStatus?: unknown;
}

export type EpisodeResult =
  | { kind: 'running'; actions: EngineAction[]; customStatus?: unknown }
  | { kind: 'completed'; output: unknown; customStatus?: unknown }
  | { kind: 'failed'; error: string; customStatus?: unknown };

/** The part of the extension's error message that carries the orchestrator's state (OrchestrationFailureError). */
const OUT_OF_PROC_DATA = '$OutOfProcData$:';

/** Task.all / Task.any come back as compound actions; the tasks in them are what the host executes, in order. */
const flatten = (actions: EngineAction[]): EngineAction[] =>
  actions.flatMap((action) => (action.compoundActions ? flatten(action.compoundActions) : [action]));

/** An orchestration function as the Functions host invokes it: (orchestration trigger, invocation context) => state. */
export type OrchestrationHandler = (trigger: object, context: object) => Promise<unknown>;

/** A generator wrapped exactly as `df.app.orchestration` wraps it before registering it with the host. */
export const orchestrationHandler = (generator: Orchestrator): OrchestrationHandler => createOrchestrator(generator);

/**
 * Replays `history` through the engine once (one episode). Returns every action the orchestrator has asked for
 * since it started, in the engine's order, or its output or failure.
 */
export async function replay(handler: OrchestrationHandler, instance: { instanceId: string; parentInstanceId?: string; history: HistoryEvent[] }): Promise<EpisodeResult> {
  const started = instance.history.find((event) => event.EventType === EVENT.ExecutionStarted);
  const trigger = {
    history: instance.history,
    input: started?.Input === undefined ? undefined : JSON.parse(started.Input),
    instanceId: instance.instanceId,
    parentInstanceId: instance.parentInstanceId,
    isReplaying: false,
    upperSchemaVersion: LatestReplaySchema,
    // The extension's defaults; they matter only for timers longer than six days.
    maximumShortTimerDuration: '6.00:00:00',
    longRunningTimerIntervalDuration: '3.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
  const context = new DummyOrchestrationContext(instance.instanceId, undefined, () => undefined);
  try {
    const state = (await handler(trigger, context)) as EngineState;
    if (state.isDone) return { kind: 'completed', output: state.output, customStatus: state.customStatus };
    return { kind: 'running', actions: flatten(state.actions.flat()), customStatus: state.customStatus };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = message.indexOf(OUT_OF_PROC_DATA);
    if (at < 0) return { kind: 'failed', error: message };
    const state = JSON.parse(message.slice(at + OUT_OF_PROC_DATA.length)) as { error?: string; customStatus?: unknown };
    return { kind: 'failed', error: state.error ?? 'The orchestrator failed.', customStatus: state.customStatus };
  }
}
