import { MemoryBatchStore } from '../../src/lib/batch/memory-batch-store';
import { loadConfig } from '../../src/lib/config';
import { ENGINES } from '../../src/lib/images/engines';
import { ANALYTICS_CONTAINER, BLOB_CONTAINERS } from '../../src/lib/names';
import { MemoryAnalyticsStore } from '../../src/lib/analytics/memory-analytics-store';
import { blobExportTarget } from '../../src/lib/analytics/blob-export-target';
import { MemoryUsageCounters } from '../../src/lib/limits/memory-usage-counters';
import { MemoryImageResults } from '../../src/lib/results/memory-image-results';
import type { Services } from '../../src/lib/services';
import { MemoryBlobStore } from '../../src/lib/storage/memory-blob-store';
import { Faults } from './faults';

/**
 * Services over the in-memory adapters, each behind a fault injector: `faults.storage` for blobs, `faults.cosmos`
 * for image results and batch documents (one account in Azure). `memory` reaches the adapters behind the faults.
 */
export async function memoryServices() {
  const blobs = new MemoryBlobStore();
  await blobs.ensureContainers([...Object.values(BLOB_CONTAINERS), ANALYTICS_CONTAINER]);
  const images = new MemoryImageResults();
  const batches = new MemoryBatchStore(images);
  const analytics = new MemoryAnalyticsStore();
  const faults = { storage: new Faults(), cosmos: new Faults() };
  const config = loadConfig({});
  const services: Services = {
    config,
    blobs: faults.storage.wrap(blobs),
    images: faults.cosmos.wrap(images),
    batches: faults.cosmos.wrap(batches),
    analytics: faults.cosmos.wrap(analytics),
    exports: blobExportTarget(faults.storage.wrap(blobs), ANALYTICS_CONTAINER),
    usage: faults.cosmos.wrap(new MemoryUsageCounters()),
    engine: ENGINES.sharp,
    limits: { maxBytes: config.maxUploadBytes, maxPixels: config.maxImagePixels },
  };
  return { services, memory: { blobs, images, batches, analytics }, faults };
}
