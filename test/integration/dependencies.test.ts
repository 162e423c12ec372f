import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { describeStartupError } from '../../src/local/startup-error';
import { startLocalHost } from '../../src/local/host';
import { memoryLogger, startTestHost } from './local-host';

const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback server that accepts connections and never answers: a store that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const startupError = (env: Record<string, string>) =>
  startLocalHost({ PORT: '0', ...env }, memoryLogger()).then(
    async (host) => {
      await host.stop();
      throw new Error('the host started');
    },
    (error: unknown) => describeStartupError(error),
  );

describe('start-up against stores that are not there', () => {
  it('names COSMOS_CONNECTION in one line when Cosmos DB refuses the connection', { timeout: 20_000 }, async () => {
    const port = await closedPort();
    const message = await startupError({ COSMOS_CONNECTION: `AccountEndpoint=http://127.0.0.1:${port}/;AccountKey=a2V5;` });
    expect(message).toBe(`Cannot start: Cosmos DB at http://127.0.0.1:${port}/ (COSMOS_CONNECTION) cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('gives up on a Cosmos DB that never answers after 5 s, not the SDK retries', { timeout: 20_000 }, async () => {
    const silent = await silentServer();
    try {
      const message = await startupError({ COSMOS_CONNECTION: `AccountEndpoint=http://127.0.0.1:${silent.port}/;AccountKey=a2V5;` });
      expect(message).toBe(`Cannot start: Cosmos DB at http://127.0.0.1:${silent.port}/ (COSMOS_CONNECTION) cannot be reached: no answer within 5 s`);
    } finally {
      await silent.close();
    }
  });

  it('names AzureWebJobsStorage when blob storage refuses the connection', { timeout: 20_000 }, async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}/devstoreaccount1`;
    const message = await startupError({ AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};` });
    expect(message).toBe(`Cannot start: Blob storage at ${endpoint} (AzureWebJobsStorage) cannot be reached: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it.each([
    ['nonsense', 'Configuration error: COSMOS_CONNECTION must look like AccountEndpoint=https://...;AccountKey=...; (it has no AccountEndpoint or AccountKey)'],
    ['AccountEndpoint=https://x.documents.azure.com:443/;', 'Configuration error: COSMOS_CONNECTION must look like AccountEndpoint=https://...;AccountKey=...; (it has no AccountKey)'],
    ['AccountEndpoint=not a url;AccountKey=a2V5;', 'Configuration error: COSMOS_CONNECTION has an endpoint that is not an http(s) URL: "not a url"'],
  ])('a malformed COSMOS_CONNECTION (%s) is a configuration error, not a stack trace', async (value, expected) => {
    expect(await startupError({ COSMOS_CONNECTION: value })).toBe(expected);
  });
});

describe('Cosmos DB going away while the host runs', () => {
  let cosmos: CosmosStandIn;
  let port: number;
  let host: Awaited<ReturnType<typeof startTestHost>>;
  const png = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } }).png().toBuffer();
  const upload = async () => fetch(`${host.apiUrl}/images?wait=20`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await png() });

  beforeAll(async () => {
    cosmos = await startCosmosStandIn();
    port = Number(/127\.0\.0\.1:(\d+)/.exec(cosmos.connectionString)![1]);
    host = await startTestHost({ COSMOS_CONNECTION: cosmos.connectionString });
  });
  afterAll(async () => {
    await host?.stop();
    await cosmos?.stop();
  });

  it('answers 503 with Retry-After while Cosmos DB is down, recreates the containers when it comes back empty, and serves again', async () => {
    const first = await upload();
    expect(first.status).toBe(200);
    const { id } = (await first.json()) as { id: string };

    await cosmos.stop();
    for (const request of [() => fetch(`${host.apiUrl}/images/${id}`), () => fetch(`${host.apiUrl}/images?limit=5`), upload]) {
      const response = await request();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ type: 'urn:image-pipeline:problem:dependency-unavailable', status: 503 });
    }
    // The host itself still serves what needs no store.
    expect((await fetch(`${host.apiUrl}/web/index.html`)).status).toBe(200);

    // The stand-in comes back on the same port with nothing in it, as after a restart.
    cosmos = await startCosmosStandIn(port);
    const recreated = await fetch(`${host.apiUrl}/images?limit=5`);
    expect(recreated.status).toBe(503);
    expect(recreated.headers.get('retry-after')).toBe('1');
    expect(host.log.lines).toContainEqual(expect.stringContaining('were missing and have been created again'));

    const listed = await fetch(`${host.apiUrl}/images?limit=5`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({ items: [] });
    const again = await upload();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'succeeded' });
  });
});
