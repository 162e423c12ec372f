/**
 * How often the retention sweep runs (src/lib/jobs/maintenance.ts). The sweep expires everything older than
 * RETENTION_DAYS less this period, so a run every period has removed it before it is RETENTION_DAYS old.
 */
export const RETENTION_SWEEP_EVERY_MINUTES = 60;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Everything created before this time is expired when the sweep runs as of `asOf`. */
export const expiryCutoff = (asOf: Date, retentionDays: number) => new Date(asOf.getTime() - retentionDays * DAY_MS + RETENTION_SWEEP_EVERY_MINUTES * 60_000);
