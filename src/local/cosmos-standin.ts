import type { AddressInfo } from 'node:net';

// The Cosmos stand-in accepts any key; this one only has to be well-formed base64.
const KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface CosmosStandIn {
  connectionString: string;
  stop(): Promise<void>;
}

/** @vercel/cosmosdb-server in this process, over plain HTTP on loopback (a free port by default). */
export async function startCosmosStandIn(port = 0): Promise<CosmosStandIn> {
  const { createHttpServer } = await import('@vercel/cosmosdb-server');
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    connectionString: `AccountEndpoint=http://127.0.0.1:${address.port}/;AccountKey=${KEY};`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
