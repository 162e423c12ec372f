import { callbackPolicy, checkCallbackUrl } from '../callback-address';
import { validateImage } from '../images/validate';
import type { Logger } from '../logger';
import { BLOB_CONTAINERS } from '../names';
import { sha256 } from '../hash';
import { ProblemError } from '../problem';
import { failedImage, queuedImage, type ImageSource } from '../results/image-document';
import type { Services } from '../services';
import type { OrchestrationStarter } from './starter';
import { BATCH_ORCHESTRATOR, type BatchOrchestrationInput } from './batch-orchestrator';
import { newBatch, type BatchDocument } from '../batch/batch-document';
import { batchStore } from '../batch/batch-store';
import { itemBlobName, itemDocumentId, parseRecord, type ParsedRecord, type RawRecord } from '../batch/record';

export type IngestServices = Pick<Services, 'blobs' | 'images' | 'cosmos' | 'engine' | 'limits' | 'config'>;

export interface IngestResult {
  /** New item documents written (valid or failed). */
  accepted: number;
  /** Records whose item already existed (redelivery, or a producer sending an item twice). */
  duplicates: number;
  /** Records that could not be attributed to a batch item; only logged. */
  unplaceable: number;
  /** Batches whose orchestration this call started. */
  started: string[];
}

const CONCURRENCY = 8;

async function mapLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const reasonOf = (error: unknown) => (error instanceof ProblemError ? error.detail : undefined);

/** The source of a valid item: its bytes are in the batches container (written here, or by the producer). */
function itemSource(blob: string, bytes: Buffer, fileName: string | undefined, contentType: string | undefined, now: Date): ImageSource {
  return { container: BLOB_CONTAINERS.batches, blob, fileName, contentType, bytes: bytes.length, sha256: sha256(bytes), uploadedAt: now.toISOString() };
}

/**
 * One record -> one item document (queued, or failed with a reason). Deterministic id per (batch, index): an item
 * that exists already is a redelivery and is left alone, so at-least-once delivery never double-counts.
 */
async function ingestItem(services: IngestServices, batch: BatchDocument, record: RawRecord, parsed: ParsedRecord, placement: { batchId: string; index: number; count: number }): Promise<boolean> {
  const { batchId, index } = placement;
  const id = itemDocumentId(batchId, index);
  if (await services.images.get(id, batchId)) return false;
  const now = new Date();
  const fields = { id, partitionKey: batchId, batchId, itemIndex: index };
  const fail = (reason: string, source?: ImageSource) => {
    const queued = queuedImage({ ...fields, source: source ?? itemSource('', record.value, parsed.fileName, undefined, now) }, now);
    return services.images.create(failedImage(queued, reason, services.engine.name, now));
  };
  if (!parsed.ok) return fail(parsed.reason);
  if (placement.count !== batch.itemCount) {
    return fail(`ip-item-count ${placement.count} disagrees with the batch's item count ${batch.itemCount}.`);
  }
  let bytes: Buffer;
  let blob: string;
  if (parsed.payload.kind === 'bytes') {
    bytes = parsed.payload.bytes;
    blob = itemBlobName(batchId, index);
  } else {
    const stored = await services.blobs.get(parsed.payload.container, parsed.payload.name);
    if (!stored) return fail(`The referenced blob ${parsed.payload.container}/${parsed.payload.name} does not exist.`);
    bytes = stored.bytes;
    blob = parsed.payload.name;
  }
  let contentType: string;
  try {
    // The same checks as a single upload: size, sniffed type, header dimensions, truncation.
    contentType = validateImage(bytes, services.limits, parsed.declaredType).mimeType;
  } catch (error) {
    const reason = reasonOf(error);
    if (!reason) throw error;
    return fail(reason, itemSource(blob, bytes, parsed.fileName, parsed.declaredType, now));
  }
  if (parsed.payload.kind === 'bytes') {
    // Same name on redelivery, so a retried write overwrites rather than duplicates.
    await services.blobs.put(BLOB_CONTAINERS.batches, blob, bytes, { contentType });
  }
  // Blob first, document second: a queued item always has its bytes.
  return services.images.create(queuedImage({ ...fields, source: itemSource(blob, bytes, parsed.fileName, contentType, now) }, now));
}

/**
 * Why a record's callback URL is refused (it is or resolves to an address callbacks never reach), checked once per
 * URL in an ingest call. A name that does not resolve now is not refused: the send checks it again.
 */
function callbackRefusals(services: IngestServices): (url: string) => Promise<string | undefined> {
  const policy = callbackPolicy(services.config.callbackAllowedHosts);
  const checked = new Map<string, Promise<string | undefined>>();
  return (url) => {
    let refusal = checked.get(url);
    if (!refusal) {
      refusal = checkCallbackUrl(url, policy).then((check) => (check.allowed || check.unresolved ? undefined : check.reason));
      checked.set(url, refusal);
    }
    return refusal;
  };
}

/**
 * The ingest handler behind the Event Hubs trigger and the local streams. Throws only for infrastructure errors
 * (the transport then redelivers); bad records become failed items of their batch and never stop the others.
 */
export async function ingestRecords(
  deps: { services: IngestServices; starter: OrchestrationStarter; log: Logger },
  records: RawRecord[],
): Promise<IngestResult> {
  const { services, log } = deps;
  const store = batchStore(services.cosmos);
  const result: IngestResult = { accepted: 0, duplicates: 0, unplaceable: 0, started: [] };
  const byBatch = new Map<string, Array<{ record: RawRecord; parsed: ParsedRecord; placement: { batchId: string; index: number; count: number } }>>();
  const callbackRefusal = callbackRefusals(services);
  for (const record of records) {
    let parsed = parseRecord(record);
    const refusal = parsed.ok && parsed.callbackUrl ? await callbackRefusal(parsed.callbackUrl) : undefined;
    if (parsed.ok && refusal) parsed = { ok: false, reason: `Invalid record headers: ip-callback-url is refused: ${refusal}.`, placement: parsed, fileName: parsed.fileName };
    const placement = parsed.ok ? parsed : parsed.placement;
    if (!placement) {
      result.unplaceable++;
      log.warn(`batch record${record.position ? ` at ${record.position}` : ''} skipped: ${parsed.ok ? '' : parsed.reason}`);
      continue;
    }
    const list = byBatch.get(placement.batchId) ?? [];
    list.push({ record, parsed, placement: { batchId: placement.batchId, index: placement.index, count: placement.count } });
    byBatch.set(placement.batchId, list);
  }
  for (const [batchId, entries] of byBatch) {
    const first = entries.find((e) => e.parsed.ok) ?? entries[0];
    const callbackUrl = first.parsed.ok ? first.parsed.callbackUrl : undefined;
    const batch = await store.ensure(newBatch(batchId, first.placement.count, callbackUrl));
    await mapLimited(entries, CONCURRENCY, async ({ record, parsed, placement }) => {
      if (placement.index >= batch.itemCount) {
        result.unplaceable++;
        log.warn(`batch ${batchId}: item ${placement.index} is outside the batch's ${batch.itemCount} items; skipped`);
        return;
      }
      if (await ingestItem(services, batch, record, parsed, placement)) result.accepted++;
      else result.duplicates++;
    });
    if (await startWhenComplete(deps, batch)) result.started.push(batchId);
  }
  return result;
}

/**
 * Completeness comes from the documents (several trigger instances ingest in parallel), and the start is guarded
 * three times: the batch status, the orchestration instance (id = batch id) and the engine's "already exists".
 */
async function startWhenComplete(deps: { services: IngestServices; starter: OrchestrationStarter; log: Logger }, batch: BatchDocument): Promise<boolean> {
  const store = batchStore(deps.services.cosmos);
  if (batch.status !== 'receiving') return false;
  const received = await store.countItems(batch.id, batch.itemCount);
  if (received < batch.itemCount) return false;
  const current = await store.get(batch.id);
  if (current && current.status !== 'receiving') return false;
  const input: BatchOrchestrationInput = { batchId: batch.id, itemCount: batch.itemCount, callbackUrl: batch.callbackUrl };
  const started = await deps.starter.startOnce(BATCH_ORCHESTRATOR, batch.id, input);
  // Marked after the start: a crash in between leaves 'receiving', and the next delivery's startOnce finds the instance.
  await store.markStarted(batch.id, new Date().toISOString());
  if (started) deps.log.info(`batch ${batch.id}: all ${batch.itemCount} items received; orchestration started`);
  return started;
}

