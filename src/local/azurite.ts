import { join } from 'node:path';

// Azurite ships no type declarations; these are the two classes used, as its dist defines them.
interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type BlobServerClass = new (config: unknown) => AzuriteBlobServer;
type BlobConfigurationClass = new (...args: unknown[]) => unknown;

const ACCOUNT = 'devstoreaccount1';
// Azurite's well-known development key: public, and only ever accepted by an emulator.
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedAzurite {
  connectionString: string;
  stop(): Promise<void>;
}

/** Azurite's blob service in this process: in memory, or persisted under `folder`. */
export async function startAzurite(folder?: string): Promise<EmbeddedAzurite> {
  // Loaded here so Azure deployments never load the emulator (a dev dependency).
  const BlobServer: BlobServerClass = require('azurite/dist/src/blob/BlobServer').default;
  const BlobConfiguration: BlobConfigurationClass = require('azurite/dist/src/blob/BlobConfiguration').default;
  const persisted = folder
    ? [join(folder, '__azurite_db_blob__.json'), join(folder, '__azurite_db_blob_extent__.json'), [{ locationId: 'Default', locationPath: join(folder, '__blobstorage__'), maxConcurrency: 10 }]]
    : [undefined, undefined, undefined];
  const config = new BlobConfiguration(
    '127.0.0.1',
    0,
    undefined,
    ...persisted,
    false, // access log
    undefined,
    false, // debug log
    undefined,
    false, // loose
    true, // skip API version check: the storage SDK speaks a newer version than Azurite knows
    undefined,
    undefined,
    undefined,
    undefined,
    false, // product-style URLs
    !folder, // in-memory persistence
  );
  const server = new BlobServer(config);
  await server.start();
  const endpoint = `http://${server.getHttpServerAddress().replace(/^http:\/\//, '')}/${ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${endpoint};`,
    stop: () => server.close(),
  };
}
