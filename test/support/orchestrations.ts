import type { Logger } from '../../src/lib/logger';
import { batchActivities, type ActivityServices } from '../../src/lib/orchestration/batch-activities';
import { createBatchOrchestrators } from '../../src/lib/orchestration/batch-orchestrator';
import type { OrchestrationStarter } from '../../src/lib/orchestration/starter';
import { DurableBackend } from '../../src/local/durable-backend';
import { orchestrationHandler } from '../../src/local/durable-engine';

/** Retry timers wait a thousandth of the backoff Durable records (2 s, 4 s, 8 s): the same schedule, run fast. */
const TIMER_SCALE = 0.001;

export interface TestEngine {
  starter: OrchestrationStarter;
  /** Resolves once the instance has ended, completed or failed. */
  ended(instanceId: string): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The project's batch orchestrators and activities on the local Durable backend: durable-functions' own replay
 * engine, in memory, with the production retry policy and scaled-down timers. The one place tests choose the engine.
 */
export function orchestrationEngine(services: ActivityServices, log: Logger): TestEngine {
  const orchestrations = Object.fromEntries(Object.entries(createBatchOrchestrators()).map(([name, generator]) => [name, orchestrationHandler(generator)]));
  const backend = new DurableBackend({ orchestrations, activities: batchActivities(services, log), timerScale: TIMER_SCALE, log });
  return { starter: backend, ended: (instanceId) => backend.waitFor(instanceId), stop: () => backend.stop() };
}
