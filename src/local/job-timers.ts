import type { MaintenanceJob } from '../lib/jobs/maintenance';
import type { Logger } from '../lib/logger';

/**
 * The local host's stand-in for the maintenance timer: each job on a timer of its own, every `everyMinutes`, or as
 * often as `intervalMs` says (the batch sweep runs at least four times per receive timeout, so short timeouts in
 * tests are honoured closely). A job's runs never overlap; stop() waits for runs in progress.
 */
export function startJobTimers(jobs: MaintenanceJob[], log: Logger, intervalMs: Partial<Record<string, number>> = {}): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  for (const job of jobs) {
    const every = intervalMs[job.name] ?? job.everyMinutes * 60_000;
    const schedule = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const run = job
          .run(new Date())
          .catch((error: unknown) => log.warn(`maintenance job ${job.name} failed; its next run tries again`, error))
          .finally(() => {
            running.delete(run);
            if (!stopped) schedule();
          });
        running.add(run);
      }, every);
      timers.add(timer);
    };
    schedule();
  }
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...running]);
    },
  };
}
