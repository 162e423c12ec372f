import type { AddressInfo } from 'node:net';
import { captureAccounts, persistAccount, takeAccount } from './cosmos-journal';
import { checkPatchConditionsOnTheirDocument } from './cosmos-patch-conditions';
import { cacheStandInQueryPlans } from './cosmos-query-plans';

// The Cosmos stand-in accepts any key; this one only has to be well-formed base64.
const KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface CosmosStandIn {
  connectionString: string;
  /** Kept in a folder: rewrites its journal as a snapshot, leaving out every replaced or deleted version. */
  compact?: () => void;
  stop(): Promise<void>;
}

/**
 * @vercel/cosmosdb-server in this process, over plain HTTP on loopback (a free port by default): in memory, or
 * kept in `folder` (a journal of every change, written before each answer).
 */
export async function startCosmosStandIn(port = 0, folder?: string): Promise<CosmosStandIn> {
  const { createHttpServer } = await import('@vercel/cosmosdb-server');
  captureAccounts();
  cacheStandInQueryPlans();
  checkPatchConditionsOnTheirDocument();
  // Connections kept open, as the Cosmos gateway keeps them: a new loopback connection per request cost about a third
  // of a document write's CPU. The stand-in never closes an idle one (no keep-alive timeout), so a client can never
  // reuse a connection the server is closing at that moment, which would fail a write the SDK does not retry.
  const server = createHttpServer({ keepAlive: true });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const account = takeAccount(address.port);
  const journal = folder ? persistAccount(account, folder) : undefined;
  return {
    connectionString: `AccountEndpoint=http://127.0.0.1:${address.port}/;AccountKey=${KEY};`,
    compact: journal?.compact,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          journal?.close();
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}
