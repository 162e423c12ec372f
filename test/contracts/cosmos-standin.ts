import { randomUUID } from 'node:crypto';
import { cosmosClient, openContainers, type CosmosContainers } from '../../src/lib/results/cosmos';
import type { CosmosStandIn } from '../../src/local/cosmos-standin';

/** A fresh database on the Cosmos stand-in, so each contract test starts empty. */
export const freshContainers = (standIn: CosmosStandIn): Promise<CosmosContainers> =>
  openContainers(cosmosClient({ kind: 'connectionString', value: standIn.connectionString }), `contract-${randomUUID()}`, true);
