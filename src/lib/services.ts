import type { BatchStore } from './batch/batch-store';
import { CosmosBatchStore } from './batch/cosmos-batch-store';
import { eventHubBatchStream } from './batch/event-hub-stream';
import type { BatchStream } from './batch/stream';
import { ConfigError, type Config } from './config';
import type { ImageEngine } from './images/engine';
import { ENGINES } from './images/engines';
import type { ImageLimits } from './images/validate';
import { BLOB_CONTAINERS } from './names';
import { cosmosClient, openContainers } from './results/cosmos';
import { CosmosImageResults } from './results/cosmos-image-results';
import type { ImageResults } from './results/result-store';
import { AzureBlobStore, blobServiceClient } from './storage/azure-blob-store';
import type { BlobStore } from './storage/blob-store';

/** What the handlers need, built once per process from the config. */
export interface Services {
  config: Config;
  blobs: BlobStore;
  images: ImageResults;
  batches: BatchStore;
  engine: ImageEngine;
  limits: ImageLimits;
  /** Where POST /api/batches publishes records: Event Hubs when configured; the local host sets its own stream. */
  batchStream?: BatchStream;
}

export async function createServices(config: Config): Promise<Services> {
  if (!config.storage) throw new ConfigError('AzureWebJobsStorage (or AzureWebJobsStorage__accountName) is not set');
  if (!config.cosmos) throw new ConfigError('COSMOS_CONNECTION (or COSMOS_CONNECTION__accountEndpoint) is not set');
  const blobs = new AzureBlobStore(blobServiceClient(config.storage));
  await blobs.ensureContainers(Object.values(BLOB_CONTAINERS));
  const cosmos = await openContainers(cosmosClient(config.cosmos), config.cosmosDatabase, config.cosmos.kind === 'connectionString');
  return {
    config,
    blobs,
    images: new CosmosImageResults(cosmos.images),
    batches: new CosmosBatchStore(cosmos),
    engine: ENGINES[config.imageEngine],
    limits: { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels },
    batchStream: config.eventHub && eventHubBatchStream(config.eventHub, config.eventHubName),
  };
}
