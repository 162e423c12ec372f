import { CosmosClient, type Container } from '@azure/cosmos';
import { credentialFor } from '../azure-credential';
import type { Connection } from '../config';
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
    throw new Error('COSMOS_CONNECTION must look like AccountEndpoint=https://...;AccountKey=...;');
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
}

/**
 * Opens the database's containers, creating them when the connection is key-based (local or emulator).
 * With Entra identities data-plane roles cannot create resources: in Azure the Bicep declares them.
 */
export async function openContainers(client: CosmosClient, databaseId: string, create: boolean): Promise<CosmosContainers> {
  if (!create) {
    const database = client.database(databaseId);
    return { images: database.container(COSMOS_CONTAINERS.images.id), batches: database.container(COSMOS_CONTAINERS.batches.id) };
  }
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  const [images, batches] = await Promise.all(
    [COSMOS_CONTAINERS.images, COSMOS_CONTAINERS.batches].map(async ({ id, partitionKeyPath }) => {
      const { container } = await database.containers.createIfNotExists({ id, partitionKey: { paths: [partitionKeyPath] } });
      return container;
    }),
  );
  return { images, batches };
}

/** Drops the properties Cosmos adds (_rid, _etag, ...), which are not part of our documents. */
export function withoutSystemProperties<T extends object>(resource: T): T {
  return Object.fromEntries(Object.entries(resource).filter(([key]) => !key.startsWith('_'))) as T;
}

export const isStatus = (error: unknown, status: number) => (error as { code?: unknown })?.code === status;
