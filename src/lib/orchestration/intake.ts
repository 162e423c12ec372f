import { timingSafeEqual } from 'node:crypto';
import { UNATTRIBUTED_OWNER } from '../auth/principal';
import { callbackPolicy, checkCallbackUrl } from '../callback-address';
import { validateImage } from '../images/validate';
import type { Logger } from '../logger';
import { sniffFormat } from '../images/sniff';
import { recordDeadLetter, recordImageProcessed } from '../metrics';
import { currentTraceContext, inSpan, SpanKind } from '../tracing';
import { BLOB_CONTAINERS } from '../names';
import { sha256 } from '../hash';
import { ProblemError } from '../problem';
import { errorMessage, withRetries, type RetryPolicy } from '../retry';
import { failedImage, isTerminal, queuedImage, type ImageDocument, type ImageSource } from '../results/image-document';
import type { Services } from '../services';
import type { OrchestrationStarter } from './starter';
import { BATCH_ORCHESTRATOR, batchInput } from './batch-orchestrator';
import { BATCH_ALREADY_ENDED, hasEnded, NEVER_RECEIVED, newBatch, type BatchDocument } from '../batch/batch-document';
import { deadLetterName, unplacedName, writeDeadLetter } from '../batch/dead-letter';
import { decodeHeaders, HEADERS, itemBlobMetadata, itemBlobName, itemDocumentId, parseRecord, shownHeaders, type ParsedRecord, type Placement, type RawRecord } from '../batch/record';

export type IngestServices = Pick<Services, 'blobs' | 'images' | 'batches' | 'engine' | 'limits' | 'config'>;

export interface IngestDeps {
  services: IngestServices;
  starter: OrchestrationStarter;
  log: Logger;
  /** Retries of transient storage and Cosmos errors inside the call; IN_HANDLER_RETRY unless a test shortens it. */
  retry?: RetryPolicy;
}

export interface IngestResult {
  /** New item documents written (queued, or failed with a reason). */
  accepted: number;
  /** Records whose item already existed (redelivery, or a producer sending an item twice). */
  duplicates: number;
  /** Records that could not join a batch, kept with the reason on their batch or in deadletter/unplaced/. */
  rejected: number;
  /** Records that could not be stored: kept in deadletter/<batch id>/<index>, and failed items with the reason. */
  deadLettered: number;
  /** Batches whose orchestration this call started. */
  started: string[];
}

type Outcome = 'accepted' | 'duplicates' | 'rejected' | 'deadLettered';

interface Entry {
  record: RawRecord;
  parsed: ParsedRecord;
  placement: Placement;
}

/** An item stored but for its document, which is created with the call's others (`accepted` runs if it was). */
interface NewItem {
  entry: Entry;
  doc: ImageDocument;
  accepted?: () => void;
}

const CONCURRENCY = 8;

async function mapLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const reasonOf = (error: unknown) => (error instanceof ProblemError ? error.detail : undefined);

/** A batch's items belong to its owner; a batch from before owners belongs to nobody but operators. */
const ownerOf = (batch: BatchDocument) => batch.owner ?? UNATTRIBUTED_OWNER;

const MISSING_TOKEN = `The record's batch was registered, and the record does not carry its ingest token (${HEADERS.batchToken}): only whoever registered the batch may add to it.`;

/**
 * Whether a record may join its batch. Event Hubs does not tell the trigger who sent an event, so a record's own
 * headers prove nothing about its sender: a registered batch (PUT /api/batches/{id}, POST /api/batches) holds a secret
 * handed only to its owner, and only records that carry it join. A batch registered by nobody takes every record, and
 * it and its items are owned by nobody (operators see them).
 */
function carriesToken(batch: BatchDocument, record: RawRecord): boolean {
  if (!batch.ingestToken) return true;
  const given = Buffer.from(decodeHeaders(record.headers)[HEADERS.batchToken] ?? '', 'utf8');
  const expected = Buffer.from(batch.ingestToken, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

/**
 * The source of an item: its bytes are in the batches container (written here, or by the producer); '' when not stored.
 * `digest` is the bytes' sha256, computed once by the caller (the item blob's metadata holds it too).
 */
function itemSource(blob: string, bytes: Buffer, digest: string, fileName: string | undefined, contentType: string | undefined, now: Date): ImageSource {
  return { container: BLOB_CONTAINERS.batches, blob, fileName, contentType, bytes: bytes.length, sha256: digest, uploadedAt: now.toISOString() };
}

/** A rejected record's id: from its content, so a redelivery is kept once whatever it is rejected for then. */
function rejectionId(batchId: string, record: RawRecord): string {
  const headers = Object.entries(decodeHeaders(record.headers)).sort(([a], [b]) => a.localeCompare(b));
  return `${batchId}_rejected_${sha256(Buffer.concat([Buffer.from(JSON.stringify(headers)), record.value])).slice(0, 32)}`;
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
 * The ingest handler behind the Event Hubs trigger and the local streams. Azure's trigger moves its checkpoint on
 * when this throws unless its retry policy runs it again, so every record ends accounted for: stored; or, when it
 * still cannot be stored after in-call retries of transient errors, dead-lettered and a failed item with the reason;
 * or, when it cannot join its batch, kept with the reason. Only when even that cannot be written (or a batch document
 * cannot be read or written: storage or Cosmos down) does the call throw, after every other record is done, and the
 * trigger's retry policy (src/functions/ingest.ts: for ever, with backoff) runs it again; records already accounted
 * for are then recognised and skipped.
 */
export async function ingestRecords(deps: IngestDeps, records: RawRecord[]): Promise<IngestResult> {
  const { services, log } = deps;
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, deps.retry);
  const result: IngestResult = { accepted: 0, duplicates: 0, rejected: 0, deadLettered: 0, started: [] };
  const errors: unknown[] = [];
  const byBatch = new Map<string, Entry[]>();
  const unplaceable: Array<{ record: RawRecord; parsed: Extract<ParsedRecord, { ok: false }> }> = [];
  const callbackRefusal = callbackRefusals(services);
  for (const record of records) {
    let parsed = parseRecord(record);
    const refusal = parsed.ok && parsed.callbackUrl ? await callbackRefusal(parsed.callbackUrl) : undefined;
    if (parsed.ok && refusal) parsed = { ok: false, reason: `Invalid record headers: ip-callback-url is refused: ${refusal}.`, placement: parsed, fileName: parsed.fileName };
    const placement = parsed.ok ? parsed : parsed.placement;
    if (!placement) {
      unplaceable.push({ record, parsed: parsed as Extract<ParsedRecord, { ok: false }> });
      continue;
    }
    const list = byBatch.get(placement.batchId) ?? [];
    list.push({ record, parsed, placement: { batchId: placement.batchId, index: placement.index, count: placement.count } });
    byBatch.set(placement.batchId, list);
  }
  const settle = async (work: () => Promise<Outcome | undefined>) => {
    try {
      const outcome = await work();
      if (outcome) result[outcome]++;
    } catch (error) {
      errors.push(error);
    }
  };

  /** Kept on its batch when the batch exists, else in the rejected-records store (deadletter/unplaced/). */
  async function rejectRecord(record: RawRecord, reason: string, batchId: string | undefined, index?: number, fileName?: string): Promise<Outcome> {
    const batch = batchId === undefined ? undefined : await retry(() => services.batches.get(batchId));
    if (!batch) {
      const name = unplacedName(record);
      await retry(() => writeDeadLetter(services.blobs, name, record, reason));
      recordDeadLetter('unplaced');
      log.warn(`batch record${record.position ? ` at ${record.position}` : ''} rejected: ${reason} Kept as ${BLOB_CONTAINERS.deadletter}/${name}.`);
      return 'rejected';
    }
    // Shown headers only: never the batch token, and the callback URL stays in the batch document alone.
    const { [HEADERS.callbackUrl]: _callbackUrl, ...headers } = shownHeaders(record.headers);
    const rejection = { id: rejectionId(batch.id, record), batchId: batch.id, index, fileName, reason, headers, sha256: sha256(record.value), at: new Date().toISOString() };
    if (await retry(() => services.batches.reject(rejection))) log.warn(`batch ${batch.id}: record${index === undefined ? '' : ` for item ${index}`} rejected: ${reason}`);
    return 'rejected';
  }

  /**
   * A record whose item could not be stored, after the retries: its dead letter, then a failed item saying why.
   * Either write failing throws (the failed item is never written without its dead letter), so the call ends in
   * an error and the trigger's retry policy delivers the record again.
   */
  async function deadLetter(batch: BatchDocument, entry: Entry, error: unknown): Promise<Outcome> {
    const { record, parsed, placement } = entry;
    const name = deadLetterName(placement.batchId, placement.index);
    const reason = `The record could not be stored (${errorMessage(error)}); it is kept in ${BLOB_CONTAINERS.deadletter}/${name}.`;
    await retry(() => writeDeadLetter(services.blobs, name, record, reason));
    const id = itemDocumentId(placement.batchId, placement.index);
    const now = new Date();
    const queued = queuedImage({ id, partitionKey: placement.batchId, batchId: placement.batchId, itemIndex: placement.index, owner: ownerOf(batch), source: itemSource('', record.value, sha256(record.value), parsed.fileName, undefined, now) }, now);
    await retry(() => services.images.create(failedImage(queued, reason, services.engine.name, now)));
    recordDeadLetter('record');
    log.error(`batch ${placement.batchId}: item ${placement.index} dead-lettered: ${reason}`, { batchId: placement.batchId, itemIndex: placement.index });
    return 'deadLettered';
  }

  /** A record whose item exists already: a redelivery (its blob written again if it was lost), or a rejection. */
  async function redelivered(entry: Entry, existing: ImageDocument): Promise<Outcome> {
    const { record, parsed, placement } = entry;
    if (existing.error?.reason === NEVER_RECEIVED) return rejectRecord(record, BATCH_ALREADY_ENDED, placement.batchId, placement.index, parsed.fileName);
    const inline = !parsed.ok || parsed.payload.kind === 'bytes';
    const digest = inline ? sha256(record.value) : undefined;
    if (digest !== undefined && existing.source.sha256 !== digest) {
      return rejectRecord(record, `Item ${placement.index} already holds other content.`, placement.batchId, placement.index, parsed.fileName);
    }
    // Idempotency by content: the same record again restores a lost blob of an item still to be processed.
    const { container, blob, contentType } = existing.source;
    if (parsed.ok && parsed.payload.kind === 'bytes' && digest !== undefined && blob && !isTerminal(existing.status) && !(await retry(() => services.blobs.exists(container, blob)))) {
      await retry(() => services.blobs.put(container, blob, record.value, { contentType: contentType ?? 'application/octet-stream', metadata: itemBlobMetadata(digest) }));
      log.warn(`batch ${placement.batchId}: item ${placement.index} had lost its blob ${container}/${blob}; written again`);
    }
    return 'duplicates';
  }

  /**
   * A new item: blob first, document second, so a queued item always has its bytes. The document is returned to be
   * created with the call's others in bulk (createItems); `accepted` runs when it was created.
   */
  async function storeItem(batch: BatchDocument, entry: Entry): Promise<Outcome | NewItem> {
    const { record, parsed, placement } = entry;
    const { batchId, index } = placement;
    const id = itemDocumentId(batchId, index);
    const now = new Date();
    const fields = { id, partitionKey: batchId, batchId, itemIndex: index, owner: ownerOf(batch) };
    const create = (doc: ImageDocument, accepted?: () => void): NewItem => ({ entry, doc, accepted });
    const fail = (reason: string, source?: ImageSource, accepted?: () => void) => {
      const queued = queuedImage({ ...fields, source: source ?? itemSource('', record.value, sha256(record.value), parsed.fileName, undefined, now) }, now);
      return create(failedImage(queued, reason, services.engine.name, now), accepted);
    };
    if (!parsed.ok) return fail(parsed.reason);
    let bytes: Buffer;
    let blob: string;
    if (parsed.payload.kind === 'bytes') {
      bytes = parsed.payload.bytes;
      blob = itemBlobName(batchId, index);
    } else {
      const { container, name } = parsed.payload;
      const stored = await retry(() => services.blobs.get(container, name));
      // Reasons are stored and logged: no blob name, which a producer may have made from a file name.
      if (!stored) return fail('The blob the record references does not exist.');
      bytes = stored.bytes;
      blob = name;
    }
    // Hashed once: for the item's document, and for its blob's metadata.
    const digest = sha256(bytes);
    let contentType: string;
    try {
      // The same checks as a single upload: size, sniffed type, header dimensions, truncation.
      contentType = validateImage(bytes, services.limits, parsed.declaredType).mimeType;
    } catch (error) {
      const reason = reasonOf(error);
      if (!reason) throw error;
      // An image refused here fails as surely as one refused by processing: counted the same way.
      return fail(reason, itemSource(blob, bytes, digest, parsed.fileName, parsed.declaredType, now), () => recordImageProcessed({ format: sniffFormat(bytes), status: 'failed', source: 'batch' }));
    }
    // Same name on redelivery, so a retried write overwrites rather than duplicates.
    if (parsed.payload.kind === 'bytes') await retry(() => services.blobs.put(BLOB_CONTAINERS.batches, blob, bytes, { contentType, metadata: itemBlobMetadata(digest) }));
    return create(queuedImage({ ...fields, source: itemSource(blob, bytes, digest, parsed.fileName, contentType, now) }, now));
  }

  /**
   * Creates the new items' documents in bulk (one request per 100 on Cosmos DB). When that keeps failing, each is
   * created on its own, so only those that still cannot be written are dead-lettered.
   */
  async function createItems(batch: BatchDocument, items: NewItem[]): Promise<void> {
    if (!items.length) return;
    const created = await retry(() => services.images.createMany(items.map((item) => item.doc))).catch(() => undefined);
    await mapLimited(
      items.map((item, i) => ({ item, i })),
      CONCURRENCY,
      ({ item, i }) =>
        settle(async () => {
          const { entry, doc, accepted } = item;
          try {
            if (created ? created[i] : await retry(() => services.images.create(doc))) {
              accepted?.();
              return 'accepted';
            }
            // Someone was first: another delivery of this record, or the receive window closing ("never received").
            const existing = await retry(() => services.images.get(doc.id, doc.partitionKey));
            return existing ? await redelivered(entry, existing) : 'duplicates';
          } catch (error) {
            return deadLetter(batch, entry, error);
          }
        }),
    );
  }

  /** One record of a known batch: rejected, a redelivery, or a new item (dead-lettered when it cannot be stored). */
  async function ingestEntry(batch: BatchDocument, entry: Entry, existing: ImageDocument | undefined): Promise<Outcome | NewItem> {
    const { record, parsed, placement } = entry;
    const reject = (reason: string) => rejectRecord(record, reason, batch.id, placement.index, parsed.fileName);
    if (placement.index >= batch.itemCount) return reject(`ip-item-index ${placement.index} is outside the batch's ${batch.itemCount} items.`);
    if (placement.count !== batch.itemCount) return reject(`ip-item-count ${placement.count} disagrees with the batch's item count ${batch.itemCount}.`);
    if (existing) return redelivered(entry, existing);
    if (hasEnded(batch.status)) return reject(BATCH_ALREADY_ENDED);
    try {
      return await storeItem(batch, entry);
    } catch (error) {
      return deadLetter(batch, entry, error);
    }
  }

  /** The records of a known batch: the items they already have read in one query, the new ones created in bulk. */
  async function ingestEntries(batch: BatchDocument, entries: Entry[]): Promise<void> {
    const indexes = [...new Set(entries.map((entry) => entry.placement.index).filter((index) => index < batch.itemCount))];
    const known = new Map((await retry(() => services.batches.itemsAt(batch.id, indexes))).map((doc) => [doc.itemIndex, doc]));
    const newItems: NewItem[] = [];
    await mapLimited(entries, CONCURRENCY, (entry) =>
      settle(async () => {
        const outcome = await ingestEntry(batch, entry, known.get(entry.placement.index));
        if (typeof outcome === 'string') return outcome;
        newItems.push(outcome);
        return undefined;
      }),
    );
    await createItems(batch, newItems);
  }

  await mapLimited(unplaceable, CONCURRENCY, ({ record, parsed }) => settle(() => rejectRecord(record, parsed.reason, parsed.batchId, undefined, parsed.fileName)));
  for (const [batchId, entries] of byBatch) {
    try {
      // One trace per batch: this call's records continue the trace kept with the batch (the web upload's, or the
      // first ingest's, which a new batch document keeps).
      const known = await retry(() => services.batches.get(batchId));
      await inSpan('batch.ingest', { kind: SpanKind.CONSUMER, continues: known?.trace, attributes: { 'batch.id': batchId, 'batch.records': entries.length } }, async () => {
        const first = entries.find((e) => e.parsed.ok) ?? entries[0];
        const callbackUrl = first.parsed.ok ? first.parsed.callbackUrl : undefined;
        // A batch nobody registered gets its document here, and no owner: its records name nobody (see below).
        const batch = known ?? (await retry(() => services.batches.ensure({ ...newBatch(batchId, first.placement.count, callbackUrl, new Date(), currentTraceContext()), owner: UNATTRIBUTED_OWNER })));
        // The receive timeout counts from the last record: touched before this call's records (so the window does not
        // close while they are stored, unless that takes longer than the timeout) and after them.
        const touch = () => retry(() => services.batches.update(batchId, { updatedAt: new Date().toISOString() }, ['receiving']));
        if (batch.status === 'receiving') await touch();
        const [admitted, refused] = partition(entries, (entry) => carriesToken(batch, entry.record));
        // Not the registrant's: kept where only operators look, never on the batch its owner reads.
        await mapLimited(refused, CONCURRENCY, ({ record, parsed }) => settle(() => rejectRecord(record, MISSING_TOKEN, undefined, undefined, parsed.fileName)));
        await ingestEntries(batch, admitted);
        if (batch.status === 'receiving') await touch();
        if (await startWhenComplete(deps, batch, retry)) result.started.push(batchId);
      });
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length) {
    throw new AggregateError(errors, `batch ingest: ${errors.length} of ${records.length} records or batches could not be handled; the trigger's retry policy runs the call again. First: ${errorMessage(errors[0])}`);
  }
  return result;
}

/**
 * Completeness comes from the documents (several trigger instances ingest in parallel). The start is guarded by the
 * batch status, read after this call's items are stored, and by the engine (instance id = batch id, started once).
 */
async function startWhenComplete(deps: IngestDeps, batch: BatchDocument, retry: <T>(fn: () => Promise<T>) => Promise<T>): Promise<boolean> {
  const store = deps.services.batches;
  const current = await retry(() => store.get(batch.id));
  if (current?.status !== 'receiving') return false;
  if ((await retry(() => store.countItems(batch.id, batch.itemCount))) < batch.itemCount) return false;
  return inSpan('batch.start', { attributes: { 'batch.id': batch.id, 'batch.items': batch.itemCount } }, async () => {
    // The orchestration's activities continue the trace from here.
    const started = await retry(() => deps.starter.startOnce(BATCH_ORCHESTRATOR, batch.id, batchInput(batch, false, currentTraceContext())));
    // Marked after the start: a crash in between leaves 'receiving', and the next delivery's startOnce (or the
    // receive-timeout sweep) finds the instance.
    const at = new Date().toISOString();
    await retry(() => store.update(batch.id, { status: 'processing', startedAt: at, updatedAt: at, instanceId: batch.id }, ['receiving']));
    if (started) deps.log.info(`batch ${batch.id}: all ${batch.itemCount} items received; orchestration started`, { batchId: batch.id });
    return started;
  });
}
