import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

/**
 * The app's metrics, through the OpenTelemetry API: exported by whatever meter provider the process registered
 * (Azure Monitor in Azure, where they land in `customMetrics` and the workbook charts them; OTLP locally), and free
 * when there is none. Names and attributes are documented in the README ("Observability").
 */
export const METER_NAME = 'image-pipeline';

export const METRICS = {
  imagesProcessed: 'image_pipeline.images.processed',
  imagesFailed: 'image_pipeline.images.failed',
  processingDuration: 'image_pipeline.image.processing.duration',
  batchDuration: 'image_pipeline.batch.duration',
  batchItems: 'image_pipeline.batch.items',
  deadLetters: 'image_pipeline.dead_letters',
  sweepDeletions: 'image_pipeline.sweep.deletions',
} as const;

interface Instruments {
  imagesProcessed: Counter;
  imagesFailed: Counter;
  processingDuration: Histogram;
  batchDuration: Histogram;
  batchItems: Histogram;
  deadLetters: Counter;
  sweepDeletions: Counter;
}

// Created on first use, from the provider registered by then (the telemetry start-up runs before any handler).
let instruments: Instruments | undefined;
let provider: unknown;

function meter(): Instruments {
  const current = metrics.getMeterProvider();
  if (instruments && provider === current) return instruments;
  const m = current.getMeter(METER_NAME);
  provider = current;
  instruments = {
    imagesProcessed: m.createCounter(METRICS.imagesProcessed, { description: 'Images processed successfully, by format.', unit: '{image}' }),
    imagesFailed: m.createCounter(METRICS.imagesFailed, { description: 'Images that failed processing (the image was at fault), by format (unknown when it could not be told).', unit: '{image}' }),
    processingDuration: m.createHistogram(METRICS.processingDuration, { description: 'Time processImage took for one image, by format.', unit: 'ms' }),
    batchDuration: m.createHistogram(METRICS.batchDuration, { description: 'Batch processing time, from the orchestration start to the summary.', unit: 's' }),
    batchItems: m.createHistogram(METRICS.batchItems, { description: 'Items per batch, by how the batch ended.', unit: '{item}' }),
    deadLetters: m.createCounter(METRICS.deadLetters, { description: 'Batch records kept in the deadletter container: could not be stored (record) or placed in no batch (unplaced).', unit: '{record}' }),
    sweepDeletions: m.createCounter(METRICS.sweepDeletions, { description: 'Blobs and documents the retention sweep deleted, by what they were.', unit: '{item}' }),
  };
  return instruments;
}

/** One image processed: succeeded (with its processing time) or failed with a reason. */
export function recordImageProcessed(outcome: { format?: string; status: 'succeeded' | 'failed'; durationMs?: number; source: 'upload' | 'batch' }): void {
  const attributes = { format: outcome.format ?? 'unknown', source: outcome.source };
  const m = meter();
  if (outcome.status === 'succeeded') m.imagesProcessed.add(1, attributes);
  else m.imagesFailed.add(1, attributes);
  if (outcome.durationMs !== undefined) m.processingDuration.record(outcome.durationMs, attributes);
}

/** A batch ended: its processing time in seconds and its item count. */
export function recordBatchEnded(batch: { status: string; durationSeconds?: number; itemCount: number }): void {
  const m = meter();
  if (batch.durationSeconds !== undefined) m.batchDuration.record(batch.durationSeconds, { status: batch.status });
  m.batchItems.record(batch.itemCount, { status: batch.status });
}

/** A batch record dead-lettered: `record` (could not be stored) or `unplaced` (no batch to put it in). */
export function recordDeadLetter(kind: 'record' | 'unplaced'): void {
  meter().deadLetters.add(1, { kind });
}

/** The retention sweep: how many of `what` (blobs; images, batches, rejections de-identified) one run removed. */
export function recordSweepDeletions(count: number, what: string): void {
  meter().sweepDeletions.add(count, { what });
}
