import { exportChanged } from '../analytics/export';
import type { Logger } from '../logger';
import { sweepBatches } from '../orchestration/batch-sweep';
import { RETENTION_SWEEP_EVERY_MINUTES } from '../privacy/retention';
import { sweepRetention } from './retention-sweep';
import type { OrchestrationStarter } from '../orchestration/starter';
import type { Services } from '../services';

/** A scheduled job: due when the minutes since the Unix epoch are a multiple of `everyMinutes` (60: on the hour). */
export interface MaintenanceJob {
  name: string;
  everyMinutes: number;
  run(now: Date): Promise<unknown>;
}

export const RETENTION_SWEEP_JOB = 'retention-sweep';

export interface MaintenanceDeps {
  services: Services;
  starter: OrchestrationStarter;
  log: Logger;
}

/**
 * Every scheduled job of the app, in one table. Azure runs them from ONE timer function (src/functions/maintenance.ts)
 * rather than a timer each: on Flex Consumption every function that is not HTTP, blob or Durable is a scaling group
 * of its own, and with zone redundancy every group bills two always-ready instances around the clock.
 * The local host runs the same table on its own timers (src/local/job-timers.ts).
 */
export function maintenanceJobs({ services, starter, log }: MaintenanceDeps): MaintenanceJob[] {
  return [
    // Closes batches whose receive window ran out; ends batches whose orchestration failed without ending them.
    {
      name: 'batch-sweep',
      everyMinutes: 1,
      run: (now) => sweepBatches({ services, starter, log, timeoutSeconds: services.config.batchReceiveTimeoutSeconds }, now),
    },
    // The privacy policy: every blob of an image older than RETENTION_DAYS deleted, its documents de-identified,
    // ended orchestrations' histories purged (README "Privacy").
    {
      name: RETENTION_SWEEP_JOB,
      everyMinutes: RETENTION_SWEEP_EVERY_MINUTES,
      run: (now) => sweepRetention({ services, orchestrations: starter, log }, { asOf: now }),
    },
    // Once a day at 00:00 UTC: the Parquet exports of every day whose facts changed since the last run.
    {
      name: 'analytics-export',
      everyMinutes: 1440,
      run: async (now) => {
        const days = await exportChanged(services.analytics, services.exports, now);
        if (days.length) log.info(`analytics export: ${days.map((d) => `${d.day} (${d.facts} images, ${d.batches} batches)`).join(', ')} to ${services.exports.describe}`);
        return days;
      },
    },
  ];
}

export const isDue = (job: MaintenanceJob, now: Date) => Math.floor(now.getTime() / 60_000) % job.everyMinutes === 0;

/**
 * Runs the jobs due at `now`, one after another. A failing job is logged and does not keep the others from running;
 * the call then fails, so the timer invocation shows as failed. Every job is idempotent and catches up on its next
 * run, so a missed minute (a late or skipped timer) loses nothing.
 */
export async function runDueJobs(jobs: MaintenanceJob[], now: Date, log: Logger): Promise<string[]> {
  const ran: string[] = [];
  const failures: unknown[] = [];
  for (const job of jobs.filter((j) => isDue(j, now))) {
    try {
      await job.run(now);
      ran.push(job.name);
    } catch (error) {
      log.error(`maintenance job ${job.name} failed; its next run tries again`, error);
      failures.push(error);
    }
  }
  if (failures.length) throw new AggregateError(failures, `${failures.length} maintenance job(s) failed`);
  return ran;
}
