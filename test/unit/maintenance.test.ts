import { describe, expect, it } from 'vitest';
import { isDue, maintenanceJobs, RETENTION_SWEEP_JOB, runDueJobs, type MaintenanceJob } from '../../src/lib/jobs/maintenance';
import type { OrchestrationStarter } from '../../src/lib/orchestration/starter';
import { memoryServices } from '../support/memory-services';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const job = (name: string, everyMinutes: number, run: () => Promise<unknown> = async () => undefined): MaintenanceJob => ({ name, everyMinutes, run });

describe('the maintenance timer', () => {
  it('runs a job when the minute is a multiple of its period: every minute, on the hour, at midnight UTC', () => {
    const at = (iso: string) => new Date(iso);
    expect(isDue(job('minute', 1), at('2026-11-25T10:17:00.400Z'))).toBe(true);
    expect(isDue(job('hourly', 60), at('2026-11-25T10:00:00.000Z'))).toBe(true);
    expect(isDue(job('hourly', 60), at('2026-11-25T10:00:59.999Z'))).toBe(true);
    expect(isDue(job('hourly', 60), at('2026-11-25T10:01:00.000Z'))).toBe(false);
    expect(isDue(job('daily', 1440), at('2026-11-26T00:00:03.000Z'))).toBe(true);
    expect(isDue(job('daily', 1440), at('2026-11-26T01:00:00.000Z'))).toBe(false);
  });

  it('runs every due job even when one fails, then fails the invocation', async () => {
    const ran: string[] = [];
    const jobs = [
      job('first', 1, async () => ran.push('first')),
      job('broken', 1, async () => Promise.reject(new Error('Cosmos DB unavailable'))),
      job('hourly', 60, async () => ran.push('hourly')),
      job('last', 1, async () => ran.push('last')),
    ];
    await expect(runDueJobs(jobs, new Date('2026-11-25T10:17:00Z'), silent)).rejects.toThrow('1 maintenance job(s) failed');
    expect(ran).toEqual(['first', 'last']);
    await expect(runDueJobs(jobs.filter((j) => j.name !== 'broken'), new Date('2026-11-25T11:00:00Z'), silent)).resolves.toEqual(['first', 'hourly', 'last']);
  });

  it('runs the retention sweep on the hour, as of the timer\'s time, purging through the engine it is given', async () => {
    const { services } = await memoryServices();
    const purged: Date[] = [];
    const starter = { purgeEnded: async (before: Date) => (purged.push(before), 0) } as unknown as OrchestrationStarter;
    const jobs = maintenanceJobs({ services, starter, log: silent });
    expect(jobs.map((j) => [j.name, j.everyMinutes])).toEqual([['batch-sweep', 1], [RETENTION_SWEEP_JOB, 60], ['analytics-export', 1440]]);
    const now = new Date('2026-11-25T11:00:00.000Z');
    expect(await runDueJobs(jobs.filter((j) => j.name === RETENTION_SWEEP_JOB), now, silent)).toEqual([RETENTION_SWEEP_JOB]);
    expect(purged).toEqual([new Date('2026-11-18T12:00:00.000Z')]);
    expect(await runDueJobs(jobs.filter((j) => j.name === RETENTION_SWEEP_JOB), new Date('2026-11-25T11:01:00.000Z'), silent)).toEqual([]);
  });
});
