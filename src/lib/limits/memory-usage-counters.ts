import type { UsageCounters } from './usage-counters';

/** UsageCounters in memory, for tests (test/contracts/usage-counters.test.ts holds it and the Cosmos adapter to one suite). */
export class MemoryUsageCounters implements UsageCounters {
  private readonly counts = new Map<string, number>();

  async add(id: string, amount: number): Promise<number> {
    const total = (this.counts.get(id) ?? 0) + amount;
    this.counts.set(id, total);
    return total;
  }
}
