import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config';
import { cosmosClient, createMissingContainers } from '../../src/lib/results/cosmos';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';

const KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';
const endpointOf = (standIn: CosmosStandIn) => /AccountEndpoint=([^;]+)/.exec(standIn.connectionString)![1];

/**
 * A multi-region account as the SDK sees it: a global endpoint whose account document lists a write region
 * (North Europe, stand-in A) and two read regions (North Europe A, West Europe B); every other request goes to A.
 * It listens on 127.0.0.2 (loopback, but not the emulator address the app treats as single-region), so the client
 * discovers the regions as it does in Azure.
 */
function globalEndpoint(a: string, b: string): Promise<Server> {
  const north = { name: 'North Europe', databaseAccountEndpoint: a };
  const west = { name: 'West Europe', databaseAccountEndpoint: b };
  const target = new URL(a);
  const server = createServer((req, res) => {
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      if (req.method !== 'GET' || req.url !== '/') {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const account = { ...JSON.parse(Buffer.concat(chunks).toString('utf8')), writableLocations: [north], readableLocations: [north, west], enableMultipleWriteLocations: false };
        const body = JSON.stringify(account);
        res.writeHead(200, { ...answer.headers, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.2', () => resolve(server)));
}

describe('COSMOS_PREFERRED_REGIONS: the client reads from the preferred region of a multi-region account', () => {
  let north: CosmosStandIn;
  let west: CosmosStandIn;
  let global: Server;
  let globalConnection: string;

  beforeAll(async () => {
    [north, west] = await Promise.all([startCosmosStandIn(), startCosmosStandIn()]);
    for (const standIn of [north, west]) await createMissingContainers(cosmosClient({ kind: 'connectionString', value: standIn.connectionString }), 'image-pipeline');
    global = await globalEndpoint(endpointOf(north), endpointOf(west));
    globalConnection = `AccountEndpoint=http://127.0.0.2:${(global.address() as AddressInfo).port}/;AccountKey=${KEY};`;
    // A document only the West Europe replica has: whoever finds it read from West Europe.
    await cosmosClient({ kind: 'connectionString', value: west.connectionString }).database('image-pipeline').container('batches').items.create({ id: 'only-west' });
  });
  afterAll(async () => {
    global?.closeAllConnections();
    global?.close();
    await Promise.all([north?.stop(), west?.stop()]);
  });

  const clientFor = (regions: string | undefined) => {
    const config = loadConfig({ COSMOS_CONNECTION: globalConnection, COSMOS_PREFERRED_REGIONS: regions });
    return cosmosClient(config.cosmos!, config.cosmosPreferredRegions).database('image-pipeline').container('batches');
  };

  it('reads from the first preferred region (programmatic or display names), writes to the write region', async () => {
    const standby = clientFor('westeurope,northeurope');
    expect((await standby.item('only-west', 'only-west').read()).resource?.id).toBe('only-west');
    expect((await clientFor('West Europe, North Europe').item('only-west', 'only-west').read()).resource?.id).toBe('only-west');

    await standby.items.create({ id: 'written' });
    const inNorth = await cosmosClient({ kind: 'connectionString', value: north.connectionString }).database('image-pipeline').container('batches').item('written', 'written').read();
    expect(inNorth.resource?.id).toBe('written');
  });

  it('reads from the write region when it is preferred first, or when no preference is set', async () => {
    expect((await clientFor('northeurope,westeurope').item('only-west', 'only-west').read()).statusCode).toBe(404);
    expect((await clientFor(undefined).item('only-west', 'only-west').read()).statusCode).toBe(404);
  });
});
