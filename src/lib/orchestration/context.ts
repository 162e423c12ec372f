/**
 * The part of durable-functions' orchestration context the batch orchestrators use, declared here so src/lib
 * stays free of the Functions runtime. durable-functions' OrchestrationContext satisfies it (checked where
 * src/functions registers the orchestrators; the local host runs them on the same context).
 */
export interface DurableTask {
  isCompleted: boolean;
  isFaulted: boolean;
  result?: unknown;
}

/** Structurally df.RetryOptions (durable-functions checks fields, and src/functions passes a real one). */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient: number;
  maxRetryIntervalInMilliseconds: number;
}

export interface DurableContext {
  readonly instanceId: string;
  readonly isReplaying: boolean;
  readonly currentUtcDateTime: Date;
  getInput<T>(): T;
  callActivity(name: string, input?: unknown): DurableTask;
  callActivityWithRetry(name: string, retryOptions: RetryPolicy, input?: unknown): DurableTask;
  callSubOrchestrator(name: string, input?: unknown, instanceId?: string): DurableTask;
  setCustomStatus(status: unknown): void;
  Task: {
    all(tasks: DurableTask[]): DurableTask;
    any(tasks: DurableTask[]): DurableTask;
  };
}

export interface OrchestrationContextLike {
  df: DurableContext;
}

/** A generator orchestrator: yields tasks, gets their results back. */
export type Orchestrator = (context: OrchestrationContextLike) => Generator<DurableTask, unknown, unknown>;
