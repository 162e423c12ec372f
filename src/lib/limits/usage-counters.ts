/**
 * Port for per-user usage counters: the Cosmos `usage` container in Azure and on the local host, memory in tests.
 * Every instance of a scaled-out app adds to the same counter, so a limit holds across instances.
 */
export interface UsageCounters {
  /** Adds `amount` (negative to give some back) to the counter, creating it at 0, and returns the new total; atomic per counter. */
  add(id: string, amount: number): Promise<number>;
}
