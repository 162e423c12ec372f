import { CosmosClient, type Container } from '@azure/cosmos';
import { credentialFor } from '../azure-credential';
import { ConfigError, type Connection } from '../config';
import { COSMOS_CONTAINERS } from '../names';

function parseConnectionString(value: string): { endpoint: string; key: string } {
  const parts = Object.fromEntries(
    value
      .split(';')
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
      }),
  );
  if (!parts.accountendpoint || !parts.accountkey) {
    throw new ConfigError('COSMOS_CONNECTION must look like AccountEndpoint=https://...;AccountKey=...;');
  }
  return { endpoint: parts.accountendpoint, key: parts.accountkey };
}

/** A loopback endpoint is a local emulator: it cannot answer the region discovery the SDK does for failover. */
const isLoopback = (endpoint: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(endpoint);

export function cosmosClient(connection: Connection): CosmosClient {
  const endpoint = connection.kind === 'connectionString' ? parseConnectionString(connection.value).endpoint : connection.endpoint;
  const connectionPolicy = isLoopback(endpoint) ? { enableEndpointDiscovery: false } : undefined;
  return connection.kind === 'connectionString'
    ? new CosmosClient({ endpoint, key: parseConnectionString(connection.value).key, connectionPolicy })
    : new CosmosClient({ endpoint, aadCredentials: credentialFor(connection), connectionPolicy });
}

export interface CosmosContainers {
  images: Container;
  batches: Container;
  usage: Container;
}

/**
 * Opens the database's containers, creating them when the connection is key-based (local or emulator).
 * With Entra identities data-plane roles cannot create resources: in Azure the Bicep declares them.
 */
export async function openContainers(client: CosmosClient, databaseId: string, create: boolean, abortSignal?: AbortSignal): Promise<CosmosContainers> {
  if (create) await createMissingContainers(client, databaseId, abortSignal);
  const database = client.database(databaseId);
  return {
    images: database.container(COSMOS_CONTAINERS.images.id),
    batches: database.container(COSMOS_CONTAINERS.batches.id),
    usage: database.container(COSMOS_CONTAINERS.usage.id),
  };
}

/** Creates the database and containers where missing (key-based connections only); true when any was missing. */
export async function createMissingContainers(client: CosmosClient, databaseId: string, abortSignal?: AbortSignal): Promise<boolean> {
  const { database, statusCode } = await client.databases.createIfNotExists({ id: databaseId }, { abortSignal });
  const created = await Promise.all(
    Object.values(COSMOS_CONTAINERS).map(
      async ({ id, partitionKeyPath }) => (await database.containers.createIfNotExists({ id, partitionKey: { paths: [partitionKeyPath] } }, { abortSignal })).statusCode === 201,
    ),
  );
  return statusCode === 201 || created.includes(true);
}

/** Drops the properties Cosmos adds (_rid, _etag, ...), which are not part of our documents. */
export function withoutSystemProperties<T extends object>(resource: T): T {
  return Object.fromEntries(Object.entries(resource).filter(([key]) => !key.startsWith('_'))) as T;
}

export const isStatus = (error: unknown, status: number) => (error as { code?: unknown })?.code === status;
