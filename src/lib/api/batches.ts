import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { ImageResult, imageView } from './image-view';
import type { Logger } from '../logger';
import { checkCallbackUrl, callbackPolicy } from '../callback-address';
import { badRequest, notFound, problem } from '../problem';
import { currentTraceContext } from '../tracing';
import type { Services } from '../services';
import { mayUse, ownerFilter, uploadLimits, type Caller } from './access';
import { BATCH_STATUSES, hasEnded, newBatch, type BatchDocument, type BatchStatus } from '../batch/batch-document';
import type { BatchFilter } from '../batch/batch-store';
import { BATCH_ORCHESTRATOR, batchInput } from '../orchestration/batch-orchestrator';
import type { OrchestrationStarter } from '../orchestration/starter';
import { continuationTokens, pageLinks, resumable } from './paging';
import { continuationTokenParam, integerParam, oneOf, readQuery, timestampParam, toIsoBound } from './query';
import { readBatchForm } from './read-form';
import { batchFiles } from './batch-files';
import { readToken, signToken } from './signed-token';
import { BATCH_ID_PATTERN, buildRecord, type OutgoingRecord } from '../batch/record';

/** Records handed to the stream at once: bounds how much of a large upload is in flight per publish call. */
const PUBLISH_CHUNK = 50;

/**
 * The callbackUrl field, refused (400) when it can never be called: not http(s), or its host is or resolves to an
 * address callbacks may not reach. A name that does not resolve now is left to the check made when the callback is sent.
 */
export async function callbackUrlOf(value: string | undefined, services: Services): Promise<string | undefined> {
  if (value === undefined || value === '') return undefined;
  const check = await checkCallbackUrl(value, callbackPolicy(services.config.callbackAllowedHosts));
  if (!check.allowed && !check.unresolved) throw badRequest(`callbackUrl is refused: ${check.reason}.`, 'callback-not-allowed');
  return new URL(value).toString();
}

export const links = (base: string, id: string) => ({ self: `${base}/batches/${id}`, items: `${base}/batches/${id}/items` });

/** A registered batch's ingest token: what its records carry to prove they come from its owner. */
export const newIngestToken = () => randomBytes(24).toString('base64url');

export const BatchIdParam = z.string().regex(BATCH_ID_PATTERN).meta({ description: 'A batch id: 1-100 letters, digits or hyphens.' });
const BatchLinks = z.strictObject({ self: z.url(), items: z.url() });
const timestamp = z.iso.datetime({ offset: true });
const batchStatus = z.enum(BATCH_STATUSES as [BatchStatus, ...BatchStatus[]]);

export const BatchAccepted = z
  .strictObject({ id: z.uuid(), status: z.literal('receiving'), itemCount: z.int().min(1), links: BatchLinks })
  .meta({ id: 'BatchAccepted', description: 'The batch was published to the batch stream; follow `links.self` for its progress.' });

export const BatchSummary = z
  .strictObject({
    itemCount: z.int().min(0),
    counts: z.strictObject({ succeeded: z.int().min(0), failed: z.int().min(0), pending: z.int().min(0) }),
    durationsMs: z.strictObject({ p50: z.number().min(0), p95: z.number().min(0), max: z.number().min(0), total: z.number().min(0) }).meta({ description: 'Per-image processing time, succeeded items only.' }),
    wallClockMs: z.number().min(0).optional().meta({ description: 'Orchestration start to summary.' }),
    formats: z.record(z.string(), z.int().min(0)),
    sizes: z.strictObject({ totalBytes: z.int().min(0), minBytes: z.int().min(0), maxBytes: z.int().min(0), buckets: z.record(z.string(), z.int().min(0)) }),
    duplicateGroups: z.array(z.strictObject({ perceptualHash: z.string(), items: z.array(z.int()) })).meta({ description: 'Items whose perceptual hashes are equal.' }),
    failures: z.array(z.strictObject({ index: z.int(), fileName: z.string().optional(), reason: z.string() })),
    startedAt: timestamp.optional(),
    finishedAt: timestamp.optional(),
  })
  .meta({ id: 'BatchSummary' });

/** A batch as listed (GET /api/batches); GET /api/batches/{id} adds progress counts and rejected records. */
export const BatchInfo = z
  .strictObject({
    id: z.string(),
    status: batchStatus,
    itemCount: z.int().min(1),
    createdAt: timestamp,
    updatedAt: timestamp,
    startedAt: timestamp.optional(),
    closedAt: timestamp.optional().meta({ description: 'Set when the receive window closed the batch before every item arrived.' }),
    instanceId: z.string().optional(),
    retries: z.int().min(0).optional(),
    completedAt: timestamp.optional(),
    summary: BatchSummary.optional(),
    failure: z.strictObject({ reason: z.string(), at: timestamp }).nullable().optional(),
    callback: z
      .strictObject({ configured: z.boolean(), delivered: z.boolean(), status: z.int().optional().meta({ description: 'The HTTP status the callback URL answered.' }) })
      .meta({ description: 'Whether the batch has a callback and how its call went. The URL itself is never returned: it may carry a secret token.' }),
    deidentifiedAt: timestamp.optional().meta({ description: 'Set when the retention sweep de-identified the batch (README "Privacy").' }),
    owner: z.string().optional().meta({ description: 'Object id of the principal the batch belongs to; `unattributed` for records sent without registering it.' }),
    links: BatchLinks,
  })
  .meta({ id: 'BatchInfo' });

export const BatchProgress = BatchInfo.extend({
  received: z.int().min(0),
  processed: z.int().min(0),
  succeeded: z.int().min(0),
  failed: z.int().min(0),
  rejected: z
    .array(z.strictObject({ index: z.int().optional(), fileName: z.string().optional(), reason: z.string(), headers: z.record(z.string(), z.string()), at: timestamp, deidentifiedAt: timestamp.optional() }))
    .max(100)
    .meta({ description: 'Records that could not join the batch (at most 100).' }),
}).meta({ id: 'BatchProgress', description: 'A batch with its progress, and its summary once it ended.' });

export const BatchPage = z
  .strictObject({ items: z.array(BatchInfo), continuationToken: z.string().optional(), links: z.strictObject({ first: z.url(), next: z.url().optional() }) })
  .meta({ id: 'BatchPage', description: 'A page of batches, least recently changed first.' });

export const BatchItemsPage = z
  .strictObject({
    batchId: z.string(),
    items: z.array(ImageResult.extend({ index: z.int().min(0) })),
    continuationToken: z.string().optional(),
    links: z.strictObject({ next: z.url() }).optional(),
  })
  .meta({ id: 'BatchItemsPage', description: 'A page of a batch\'s items in index order.' });

export const BatchRetryAccepted = z
  .strictObject({ id: z.string(), status: z.literal('processing'), retries: z.int().min(1), instanceId: z.string(), links: BatchLinks })
  .meta({ id: 'BatchRetryAccepted' });

/**
 * POST /api/batches: multipart/form-data with any number of file fields (and an optional callbackUrl field).
 * Publishes one record per file to the batch stream, the same records a Kafka producer sends, so web and Kafka
 * batches take one path. The body is streamed: files over ~900 KB (Event Hubs' 1 MB cap) go to blob storage while
 * they arrive and travel as references; smaller ones travel inline. Every limit is checked as the body passes, and
 * an upload refused after its files began to arrive leaves none of them behind. The batch is registered to the
 * caller once the whole form has arrived, before its records leave, and they carry its ingest token.
 */
export async function uploadBatch(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller, log: Logger): Promise<ApiResponse> {
  const stream = services.batchStream;
  if (!stream) throw problem('batch-stream-unavailable', 'Batch uploads need a batch stream: set EVENTHUB_CONNECTION.');
  const batchId = randomUUID();
  const files = batchFiles(services.blobs, batchId, log);
  const batchToken = newIngestToken();
  let callbackUrl: string | undefined;
  try {
    const fields = await readBatchForm(request, services.limits.maxBytes, files.take);
    if (!files.arrived.length) throw badRequest('Send at least one file field in the form.', 'invalid-form');
    callbackUrl = await callbackUrlOf(fields.get('callbackUrl'), services);
    await uploadLimits(services, caller).reserveBytes(files.arrived.reduce((sum, file) => sum + file.size, 0));
    // The batch document exists before any record, so the Location answers at once.
    await services.batches.ensure({ ...newBatch(batchId, files.arrived.length, callbackUrl, new Date(), currentTraceContext()), owner: caller.principal.id, ingestToken: batchToken });
  } catch (error) {
    await files.discard();
    throw error;
  }
  const count = files.arrived.length;
  for (let start = 0; start < count; start += PUBLISH_CHUNK) {
    const records: OutgoingRecord[] = files.arrived.slice(start, start + PUBLISH_CHUNK).map(({ index, fileName, contentType, bytes, blobName }) => {
      const item = { batchId, index, count, fileName, contentType, callbackUrl, batchToken };
      return buildRecord(bytes ? { ...item, bytes } : { ...item, blobName });
    });
    await stream.publish(records);
  }
  const base = apiBase(request);
  const accepted: z.infer<typeof BatchAccepted> = { id: batchId, status: 'receiving', itemCount: count, links: links(base, batchId) };
  return json(202, accepted, { location: `${base}/batches/${batchId}` });
}

/** The batch, if the caller may see it: someone else's is answered exactly like an id nobody has. */
async function findBatch(request: ApiRequest, services: Services, caller: Caller): Promise<BatchDocument> {
  const id = request.params.id ?? '';
  if (!BatchIdParam.safeParse(id).success) throw badRequest(`"${id}" is not a valid batch id: 1-100 letters, digits or hyphens.`, 'invalid-id');
  const batch = await services.batches.get(id);
  if (!batch || !mayUse(caller, batch.owner)) throw notFound(`No batch with id "${id}".`);
  return batch;
}

const MAX_REJECTIONS_SHOWN = 100;

/**
 * The public shape of a batch document: without storage internals and its ingest token, with links. The callback URL
 * is never returned (it may carry a secret token): only whether there is one and how its call went.
 */
export function batchView(batch: BatchDocument, base: string) {
  const { type: _type, schemaVersion: _version, trace: _trace, ingestToken: _token, callbackUrl, callback, ...rest } = batch;
  const configured = callbackUrl !== undefined || callback !== undefined;
  return {
    ...rest,
    callback: { configured, delivered: callback?.delivered ?? false, ...(callback?.status !== undefined ? { status: callback.status } : {}) },
    links: links(base, batch.id),
  };
}

/** GET /api/batches/{id}: progress from the item documents, and the summary once the batch is complete. */
export async function getBatch(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const batch = await findBatch(request, services, caller);
  const store = services.batches;
  const [received, succeeded, failed, rejected] = await Promise.all([
    store.countItems(batch.id, batch.itemCount),
    store.countItems(batch.id, batch.itemCount, 'succeeded'),
    store.countItems(batch.id, batch.itemCount, 'failed'),
    store.rejections(batch.id, MAX_REJECTIONS_SHOWN),
  ]);
  return json(200, {
    ...batchView(batch, apiBase(request)),
    received,
    processed: succeeded + failed,
    succeeded,
    failed,
    rejected: rejected.map(({ id: _id, batchId: _batchId, sha256: _sha, ...rest }) => rest),
  } satisfies z.infer<typeof BatchProgress>);
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export const ListBatchItemsQuery = z.object({
  limit: integerParam('limit', 1, MAX_PAGE, `Page size; default ${DEFAULT_PAGE}.`).optional(),
  continuationToken: continuationTokenParam.optional(),
});

const itemsScope = (batchId: string) => `batch-items:${batchId}`;

function readAfterIndex(services: Services, batchId: string, token: string | null): number {
  if (!token) return -1;
  const after = readToken(services.config, itemsScope(batchId), token);
  if (Number.isInteger(after) && (after as number) >= -1) return after as number;
  throw badRequest('continuationToken is not one this API issued; start again without it.', 'invalid-continuation-token');
}

/** GET /api/batches/{id}/items?limit=&continuationToken=: the items in index order, a page at a time. */
export async function listBatchItems(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const batch = await findBatch(request, services, caller);
  const query = readQuery(ListBatchItemsQuery, new URL(request.url));
  const limit = query.limit === undefined ? DEFAULT_PAGE : Number(query.limit);
  const after = readAfterIndex(services, batch.id, query.continuationToken ?? null);
  const items = await services.batches.listItems(batch.id, after, limit);
  const base = apiBase(request);
  const last = items.at(-1)?.itemIndex;
  const continuationToken = items.length === limit && last !== undefined && last < batch.itemCount - 1 ? signToken(services.config, itemsScope(batch.id), last) : undefined;
  return json(200, {
    batchId: batch.id,
    items: items.map((doc) => ({ index: doc.itemIndex ?? 0, ...imageView(doc, base) })),
    ...(continuationToken
      ? { continuationToken, links: { next: `${base}/batches/${batch.id}/items?limit=${limit}&continuationToken=${continuationToken}` } }
      : {}),
  } satisfies z.infer<typeof BatchItemsPage>);
}

export const ListBatchesQuery = z.object({
  status: oneOf('status', BATCH_STATUSES as [BatchStatus, ...BatchStatus[]], 'Only batches with this status.').optional(),
  updatedBefore: timestampParam('updatedBefore', 'Only batches last changed before this time (exclusive): stuck ones.').optional(),
  limit: integerParam('limit', 1, 100, 'Page size; default 20.').optional(),
  continuationToken: continuationTokenParam.optional(),
});

/**
 * GET /api/batches?status=&updatedBefore=&limit=&continuationToken=: batches by last change, oldest first, so
 * operators find the ones that stopped moving (status=receiving or processing with an old updatedBefore). The caller's
 * own batches, or every owner's for an operator.
 */
export async function listBatches(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const url = new URL(request.url);
  const query = readQuery(ListBatchesQuery, url, { strict: true, blankIsAbsent: true });
  const filter: BatchFilter = { status: query.status, updatedBefore: toIsoBound(query.updatedBefore), owner: ownerFilter(caller) };
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  // The owner is part of the token's scope: one caller's token does not page through another's listing.
  const tokens = continuationTokens(services.config, 'batches', [filter.status, filter.updatedBefore, filter.owner]);
  const continuationToken = tokens.decode(query.continuationToken ?? null);
  const page = await resumable(continuationToken, () => services.batches.list(filter, { limit, continuationToken }));
  const base = apiBase(request);
  const canonical = new URLSearchParams();
  for (const name of ['status', 'updatedBefore', 'limit'] as const) {
    const value = query[name];
    if (value) canonical.set(name, value);
  }
  const token = page.continuationToken && tokens.encode(page.continuationToken);
  return json(200, { items: page.items.map((batch) => batchView(batch, base)), continuationToken: token, links: pageLinks(`${base}/batches`, canonical, token) } satisfies z.infer<typeof BatchPage>);
}

/**
 * POST /api/batches/{id}/retry: processes an ended batch again: items that failed with their image stored are
 * processed anew, succeeded items stay, and the batch ends with a new summary. The instance id is deterministic
 * (`<id>:retry:<n>`), and only one of concurrent retries moves the batch on; the others answer 409.
 */
export async function retryBatch(request: ApiRequest, services: Services, orchestrations: () => OrchestrationStarter, caller: Caller): Promise<ApiResponse> {
  const batch = await findBatch(request, services, caller);
  const conflict = (detail: string) => problem('batch-not-retryable', detail);
  if (!hasEnded(batch.status)) throw conflict(`Batch ${batch.id} is ${batch.status}; only an ended batch (completed, incomplete or failed) can be retried.`);
  const retries = (batch.retries ?? 0) + 1;
  const instanceId = `${batch.id}:retry:${retries}`;
  const at = new Date().toISOString();
  if (!(await services.batches.update(batch.id, { status: 'processing', retries, instanceId, failure: null, startedAt: at, updatedAt: at }, [batch.status]))) {
    throw conflict(`Batch ${batch.id} changed while it was being retried (another retry?); read it again.`);
  }
  // A retry is its own operation: its orchestration continues the retry request's trace.
  // Should this fail, the batch is processing without an instance: the receive-timeout sweep starts it.
  await orchestrations().startOnce(BATCH_ORCHESTRATOR, instanceId, batchInput(batch, true, currentTraceContext()));
  const base = apiBase(request);
  const accepted: z.infer<typeof BatchRetryAccepted> = { id: batch.id, status: 'processing', retries, instanceId, links: links(base, batch.id) };
  return json(202, accepted, { location: `${base}/batches/${batch.id}` });
}
