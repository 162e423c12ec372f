import type { Container } from '@azure/cosmos';
import { isStatus } from '../results/cosmos';
import type { UsageCounters } from './usage-counters';

interface Counter {
  id: string;
  count: number;
}

/**
 * Counters in the Cosmos `usage` container (partition key /id, one document per counter). A patch `incr` is atomic
 * on one document, on Cosmos DB and on the stand-in, so concurrent requests on any number of instances never lose a
 * count. In Azure the container's default TTL (two days) deletes old counters; the local stand-in has no TTL and
 * keeps them, which changes nothing but the space they take (a counter's id names its minute or day).
 */
export class CosmosUsageCounters implements UsageCounters {
  constructor(private readonly container: Container) {}

  async add(id: string, amount: number): Promise<number> {
    // A missing counter is created; when another request created it first (409), the patch is tried again.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const { resource } = await this.container.item(id, id).patch<Counter>([{ op: 'incr', path: '/count', value: amount }]);
        return resource!.count;
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
      try {
        await this.container.items.create<Counter>({ id, count: amount });
        return amount;
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
    }
    throw new Error(`usage counter ${id} could be neither created nor incremented`);
  }
}
