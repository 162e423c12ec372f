import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// Azurite ships no type declarations; these are the two classes used, as its dist defines them.
interface LokiDatabase {
  saveDatabase(callback: (error?: Error) => void): void;
}
interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
  httpServer: Server;
  metadataStore: { db: LokiDatabase };
  extentMetadataStore: { db: LokiDatabase };
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

/**
 * Azurite's blob service in this process: in memory, or persisted under `folder`. `onWrite` is told the container of
 * every write it answered with success (whoever sent it), as Event Grid is told of blobs created in Azure.
 */
export async function startAzurite(folder?: string, onWrite?: (container: string) => void): Promise<EmbeddedAzurite> {
  // Loaded here so Azure deployments never load the emulator (a dev dependency).
  const BlobServer: BlobServerClass = require('azurite/dist/src/blob/BlobServer').default;
  const BlobConfiguration: BlobConfigurationClass = require('azurite/dist/src/blob/BlobConfiguration').default;
  cacheUriTemplates();
  // Azurite saves its metadata into the folder without creating it.
  if (folder) await mkdir(folder, { recursive: true });
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
  if (folder) answerWritesOnceSaved(server);
  if (onWrite) reportWrites(server, onWrite);
  await server.start();
  const endpoint = `http://${server.getHttpServerAddress().replace(/^http:\/\//, '')}/${ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${endpoint};`,
    stop: () => server.close(),
  };
}

/** Watches the requests Azurite answers (a listener beside its own): writes it answered 2xx, by container. */
function reportWrites(server: AzuriteBlobServer, onWrite: (container: string) => void): void {
  server.httpServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    // Path-style URLs: /<account>/<container>/<blob>?...
    const container = (request.url ?? '').split('?')[0].split('/')[2];
    response.once('finish', () => {
      if (container && response.statusCode < 300) onWrite(container);
    });
  });
}

type UriTemplate = { fromUri(uri: string, options: { strict: boolean }): Record<string, unknown> | undefined };
let templatesCached = false;

/**
 * Azurite finds each request's operation by matching its path against the URI template of every operation with the
 * same HTTP method, and compiles each template anew for every comparison (its generated `isURITemplateMatch`): about a
 * tenth of its CPU per blob request. The same match here, with each template compiled once (a compiled template holds
 * no state between matches). Azurite's dispatcher calls the function through its module's exports, so replacing the
 * export reaches it.
 */
function cacheUriTemplates(): void {
  if (templatesCached) return;
  templatesCached = true;
  const utilsPath = require.resolve('azurite/dist/src/blob/generated/utils/utils');
  const utils = require(utilsPath) as { isURITemplateMatch(url: string, template: string): boolean };
  // Azurite's own dependency, resolved from where Azurite loads it.
  const compile = require(require.resolve('uri-templates', { paths: [dirname(utilsPath)] })) as (template: string) => UriTemplate;
  const templates = new Map<string, UriTemplate>();
  utils.isURITemplateMatch = (url, template) => {
    let compiled = templates.get(template);
    if (!compiled) templates.set(template, (compiled = compile(template)));
    // As Azurite's: a strict match in which no variable is empty.
    const values = compiled.fromUri(url, { strict: true });
    return values !== undefined && Object.values(values).every((value) => value !== '');
  };
}

const save = (db: LokiDatabase) => new Promise<void>((resolve, reject) => db.saveDatabase((error) => (error ? reject(error) : resolve())));

/**
 * Azurite keeps its blob metadata in LokiJS databases it saves every 5 s, so a killed Azurite loses the blobs written
 * in its last seconds although it had answered 201. Here the answer to every write request waits for a save of both
 * databases that began after the write (one save serves every write that arrived before it started).
 */
function answerWritesOnceSaved(server: AzuriteBlobServer): void {
  let saving: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const saved = (): Promise<void> => {
    if (!saving) {
      saving = Promise.all([save(server.metadataStore.db), save(server.extentMetadataStore.db)]).then(
        () => undefined,
      ).finally(() => (saving = undefined));
      return saving;
    }
    next ??= saving.catch(() => undefined).then(() => {
      next = undefined;
      return saved();
    });
    return next;
  };
  const [azurite] = server.httpServer.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  server.httpServer.removeAllListeners('request');
  server.httpServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      response.end = ((...args: unknown[]) => {
        saved().then(
          () => end(...args),
          (error: Error) => response.destroy(error),
        );
        return response;
      }) as ServerResponse['end'];
    }
    azurite(request, response);
  });
}
