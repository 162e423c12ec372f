import type { BatchStore } from './batch/batch-store';
import { CosmosBatchStore } from './batch/cosmos-batch-store';
import { eventHubBatchStream } from './batch/event-hub-stream';
import type { BatchStream } from './batch/stream';
import { ConfigError, type Config, type Connection } from './config';
import type { ImageEngine } from './images/engine';
import { ENGINES } from './images/engines';
import type { ImageLimits } from './images/validate';
import { CosmosUsageCounters } from './limits/cosmos-usage-counters';
import type { UsageCounters } from './limits/usage-counters';
import { ANALYTICS_CONTAINER, BLOB_CONTAINERS } from './names';
import { cosmosClient, createMissingContainers, openContainers } from './results/cosmos';
import { CosmosImageResults } from './results/cosmos-image-results';
import type { ImageResults } from './results/result-store';
import type { AnalyticsStore } from './analytics/analytics-store';
import { CosmosAnalyticsStore } from './analytics/cosmos-analytics-store';
import { blobExportTarget } from './analytics/blob-export-target';
import type { ExportTarget } from './analytics/export';
import { AzureBlobStore, blobServiceClient } from './storage/azure-blob-store';
import type { BlobStore } from './storage/blob-store';

/** What the handlers need, built once per process from the config. */
export interface Services {
  config: Config;
  blobs: BlobStore;
  images: ImageResults;
  batches: BatchStore;
  /** Facts and the aggregates behind GET /api/stats. */
  analytics: AnalyticsStore;
  /** Where the Parquet exports go: the analytics container. */
  exports: ExportTarget;
  /** Per-user counters behind the upload rate limit and quota. */
  usage: UsageCounters;
  engine: ImageEngine;
  limits: ImageLimits;
  /** Where POST /api/batches publishes records: Event Hubs when configured; the local host sets its own stream. */
  batchStream?: BatchStream;
  /**
   * Key-based connections only (emulators, local): creates the database and containers again when a store restarted
   * empty; true when something was missing. With identities the app cannot create them (the Bicep does).
   */
  recreateMissingStores?: () => Promise<boolean>;
}

/** How long start-up waits for a store before it gives up with a message naming the setting. */
export const STARTUP_TIMEOUT_MS = 5000;

/** A store the configuration points at that does not answer: start-up stops with one line naming the setting. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** Where a connection points, without any key it holds: for messages. */
export function endpointOf(connection: Connection): string {
  if (connection.kind === 'identity') return connection.endpoint;
  return /(?:AccountEndpoint|BlobEndpoint)=([^;]+)/i.exec(connection.value)?.[1] ?? 'the configured endpoint';
}

async function reach<T>(what: string, setting: string, connection: Connection, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await attempt(AbortSignal.timeout(STARTUP_TIMEOUT_MS));
  } catch (error) {
    const reason = (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError' ? `no answer within ${STARTUP_TIMEOUT_MS / 1000} s` : (error as Error).message.split('\n')[0];
    throw new UnreachableError(`${what} at ${endpointOf(connection)} (${setting}) cannot be reached: ${reason}`, { cause: error });
  }
}

/** Only one recreation at a time, however many requests fail together. */
function oneAtATime(fn: () => Promise<boolean>): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  return () => (running ??= fn().finally(() => (running = undefined)));
}

export async function createServices(config: Config): Promise<Services> {
  if (!config.storage) throw new ConfigError('AzureWebJobsStorage (or AzureWebJobsStorage__accountName) is not set');
  if (!config.cosmos) throw new ConfigError('COSMOS_CONNECTION (or COSMOS_CONNECTION__accountEndpoint) is not set');
  const blobs = new AzureBlobStore(blobServiceClient(config.storage));
  const client = cosmosClient(config.cosmos, config.cosmosPreferredRegions);
  const keyBased = config.cosmos.kind === 'connectionString';
  const containers = Object.values(BLOB_CONTAINERS);
  // Few retries at start-up, so an unreachable endpoint is reported by its own error rather than a timeout.
  const probe = new AzureBlobStore(blobServiceClient(config.storage, { retryOptions: { maxTries: 2, retryDelayInMs: 200 } }));
  await reach('Blob storage', 'AzureWebJobsStorage', config.storage, (signal) => probe.ensureContainers(config.analyticsStorage ? containers : [...containers, ANALYTICS_CONTAINER], signal));
  const analyticsBlobs = config.analyticsStorage ? new AzureBlobStore(blobServiceClient(config.analyticsStorage)) : blobs;
  if (config.analyticsStorage) {
    const analyticsStorage = config.analyticsStorage;
    const analyticsProbe = new AzureBlobStore(blobServiceClient(analyticsStorage, { retryOptions: { maxTries: 2, retryDelayInMs: 200 } }));
    await reach('Analytics storage', 'ANALYTICS_STORAGE', analyticsStorage, (signal) => analyticsProbe.ensureContainers([ANALYTICS_CONTAINER], signal));
  }
  const cosmos = await reach('Cosmos DB', 'COSMOS_CONNECTION', config.cosmos, (signal) => openContainers(client, config.cosmosDatabase, keyBased, signal));
  return {
    config,
    blobs,
    images: new CosmosImageResults(cosmos.images),
    batches: new CosmosBatchStore(cosmos),
    analytics: new CosmosAnalyticsStore(cosmos.facts, cosmos.stats),
    exports: blobExportTarget(analyticsBlobs, ANALYTICS_CONTAINER),
    usage: new CosmosUsageCounters(cosmos.usage),
    engine: ENGINES[config.imageEngine],
    limits: { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels },
    batchStream: config.eventHub && eventHubBatchStream(config.eventHub, config.eventHubName),
    recreateMissingStores: keyBased
      ? oneAtATime(async () => {
          const signal = AbortSignal.timeout(STARTUP_TIMEOUT_MS);
          const [cosmosCreated, blobsCreated] = await Promise.all([
            createMissingContainers(client, config.cosmosDatabase, signal),
            config.storage?.kind === 'connectionString' ? blobs.ensureContainers(config.analyticsStorage ? containers : [...containers, ANALYTICS_CONTAINER], signal) : false,
          ]);
          return cosmosCreated || blobsCreated;
        })
      : undefined,
  };
}
