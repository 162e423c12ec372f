import { CosmosDocumentStore } from '../lib/backup/cosmos-document-store';
import type { ContainerSpec } from '../lib/backup/document-store';
import type { Env } from '../lib/config';
import { COSMOS_CONTAINERS } from '../lib/names';
import { cosmosClient } from '../lib/results/cosmos';
import { resolveConfig } from './connections';

/** Every Cosmos container of the app, whatever other features added to src/lib/names.ts. */
export const APP_CONTAINERS: ContainerSpec[] = Object.values(COSMOS_CONTAINERS).map(({ id, partitionKeyPath }) => ({ id, partitionKeyPath }));

export function localPortOf(value: string | undefined): number {
  const port = Number(value ?? '7071');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--local-port must be a port number; got "${value}".`);
  return port;
}

/**
 * The Cosmos DB account backup and restore work on (resolveConfig: the app settings, else the local host), read from
 * its write region: the account's own region order, not COSMOS_PREFERRED_REGIONS, since a read replica may lag behind
 * and a backup must not pass over versions it has not received yet.
 */
export function documentStoreFor(env: Env, localPort: number) {
  const { config, source } = resolveConfig(env, localPort);
  const cosmos = config.cosmos!;
  const endpoint = cosmos.kind === 'identity' ? cosmos.endpoint : (/AccountEndpoint=([^;]+)/i.exec(cosmos.value)?.[1] ?? 'Cosmos DB');
  const store = new CosmosDocumentStore(cosmosClient(cosmos), config.cosmosDatabase, cosmos.kind === 'connectionString');
  return { store, config, source, endpoint };
}
