import { randomBytes, randomUUID } from 'node:crypto';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { imageView } from './image-view';
import { BLOB_CONTAINERS } from '../names';
import { checkCallbackUrl, callbackPolicy } from '../callback-address';
import { badRequest, notFound, problem } from '../problem';
import type { Services } from '../services';
import { mayUse, ownerFilter, uploadLimits, type Caller } from './access';
import { BATCH_STATUSES, hasEnded, newBatch, type BatchDocument, type BatchStatus } from '../batch/batch-document';
import type { BatchFilter } from '../batch/batch-store';
import { BATCH_ORCHESTRATOR, type BatchOrchestrationInput } from '../orchestration/batch-orchestrator';
import type { OrchestrationStarter } from '../orchestration/starter';
import { checkParameters, continuationTokens, pageLinks, readLimit, resumable, timestamp } from './paging';
import { readForm } from './read-form';
import { readToken, signToken } from './signed-token';
import { BATCH_ID_PATTERN, buildRecord, itemBlobName, MAX_BATCH_ITEMS, MAX_INLINE_BYTES, type OutgoingRecord } from '../batch/record';

/** Records handed to the stream at once: bounds how much of a large upload is in flight per publish call. */
const PUBLISH_CHUNK = 50;

type FormValue = ReturnType<FormData['get']>;

/**
 * The callbackUrl field, refused (400) when it can never be called: not http(s), or its host is or resolves to an
 * address callbacks may not reach. A name that does not resolve now is left to the check made when the callback is sent.
 */
export async function callbackUrlOf(value: FormValue | undefined, services: Services): Promise<string | undefined> {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest('callbackUrl must be a text field.', 'invalid-form');
  const check = await checkCallbackUrl(value, callbackPolicy(services.config.callbackAllowedHosts));
  if (!check.allowed && !check.unresolved) throw badRequest(`callbackUrl "${value}" is refused: ${check.reason}.`, 'callback-not-allowed');
  return new URL(value).toString();
}

export const links = (base: string, id: string) => ({ self: `${base}/batches/${id}`, items: `${base}/batches/${id}/items` });

/** A registered batch's ingest token: what its records carry to prove they come from its owner. */
export const newIngestToken = () => randomBytes(24).toString('base64url');

/**
 * POST /api/batches: multipart/form-data with any number of file fields (and an optional callbackUrl field).
 * Publishes one record per file to the batch stream, the same records a Kafka producer sends, so web and Kafka
 * batches take one path. Files over ~900 KB go to blob storage first and travel as references (Event Hubs' 1 MB cap).
 * The batch is registered to the caller before its records leave, and they carry its ingest token.
 */
export async function uploadBatch(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const stream = services.batchStream;
  if (!stream) throw problem('batch-stream-unavailable', 'Batch uploads need a batch stream: set EVENTHUB_CONNECTION.');
  const form = await readForm(request, services.limits.maxBytes);
  const files = [...form.values()].filter((value): value is Exclude<NonNullable<FormValue>, string> => typeof value !== 'string');
  if (!files.length) throw badRequest('Send at least one file field in the form.', 'invalid-form');
  if (files.length > MAX_BATCH_ITEMS) throw problem('too-many-files', `A batch holds at most ${MAX_BATCH_ITEMS} files; got ${files.length}.`);
  const callbackUrl = await callbackUrlOf(form.get('callbackUrl'), services);
  await uploadLimits(services, caller).reserveBytes(files.reduce((sum, file) => sum + file.size, 0));
  const batchId = randomUUID();
  const batchToken = newIngestToken();
  // The batch document exists before any record, so the Location answers at once.
  await services.batches.ensure({ ...newBatch(batchId, files.length, callbackUrl), owner: caller.principal.id, ingestToken: batchToken });
  for (let start = 0; start < files.length; start += PUBLISH_CHUNK) {
    const records: OutgoingRecord[] = await Promise.all(
      files.slice(start, start + PUBLISH_CHUNK).map(async (file, i) => {
        const index = start + i;
        const bytes = Buffer.from(await file.arrayBuffer());
        const item = { batchId, index, count: files.length, fileName: file.name || undefined, contentType: file.type || undefined, callbackUrl, batchToken };
        if (bytes.length <= MAX_INLINE_BYTES) return buildRecord({ ...item, bytes });
        const blobName = itemBlobName(batchId, index);
        await services.blobs.put(BLOB_CONTAINERS.batches, blobName, bytes, { contentType: file.type || 'application/octet-stream' });
        return buildRecord({ ...item, blobName });
      }),
    );
    await stream.publish(records);
  }
  const base = apiBase(request);
  return json(202, { id: batchId, status: 'receiving', itemCount: files.length, links: links(base, batchId) }, { location: `${base}/batches/${batchId}` });
}

/** The batch, if the caller may see it: someone else's is answered exactly like an id nobody has. */
async function findBatch(request: ApiRequest, services: Services, caller: Caller): Promise<BatchDocument> {
  const id = request.params.id ?? '';
  if (!BATCH_ID_PATTERN.test(id)) throw badRequest(`"${id}" is not a valid batch id: 1-100 letters, digits or hyphens.`, 'invalid-id');
  const batch = await services.batches.get(id);
  if (!batch || !mayUse(caller, batch.owner)) throw notFound(`No batch with id "${id}".`);
  return batch;
}

const MAX_REJECTIONS_SHOWN = 100;

/** The public shape of a batch document: without storage internals and its ingest token, with links. */
export function batchView(batch: BatchDocument, base: string) {
  const { type: _type, schemaVersion: _version, ingestToken: _token, ...rest } = batch;
  return { ...rest, links: links(base, batch.id) };
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
  });
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

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
  const params = new URL(request.url).searchParams;
  const limitRaw = params.get('limit');
  const limit = limitRaw === null ? DEFAULT_PAGE : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw badRequest(`limit must be an integer from 1 to ${MAX_PAGE}; got "${limitRaw}".`, 'invalid-query');
  const after = readAfterIndex(services, batch.id, params.get('continuationToken'));
  const items = await services.batches.listItems(batch.id, after, limit);
  const base = apiBase(request);
  const last = items.at(-1)?.itemIndex;
  const continuationToken = items.length === limit && last !== undefined && last < batch.itemCount - 1 ? signToken(services.config, itemsScope(batch.id), last) : undefined;
  return json(200, {
    batchId: batch.id,
    items: items.map((doc) => ({ index: doc.itemIndex, ...imageView(doc, base) })),
    ...(continuationToken
      ? { continuationToken, links: { next: `${base}/batches/${batch.id}/items?limit=${limit}&continuationToken=${continuationToken}` } }
      : {}),
  });
}

const LIST_PARAMETERS = ['status', 'updatedBefore', 'limit', 'continuationToken'];

/**
 * GET /api/batches?status=&updatedBefore=&limit=&continuationToken=: batches by last change, oldest first, so
 * operators find the ones that stopped moving (status=receiving or processing with an old updatedBefore). The caller's
 * own batches, or every owner's for an operator.
 */
export async function listBatches(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const url = new URL(request.url);
  const query = url.searchParams;
  checkParameters(query, LIST_PARAMETERS);
  const status = query.get('status') || undefined;
  if (status !== undefined && !BATCH_STATUSES.includes(status as BatchStatus)) throw badRequest(`status must be one of ${BATCH_STATUSES.join(', ')}; got "${status}".`, 'invalid-query');
  const filter: BatchFilter = { status: status as BatchStatus | undefined, updatedBefore: timestamp('updatedBefore', query.get('updatedBefore')), owner: ownerFilter(caller) };
  const limit = readLimit(query.get('limit'));
  const tokens = continuationTokens(services.config, 'batches', [filter.status, filter.updatedBefore, filter.owner]);
  const continuationToken = tokens.decode(query.get('continuationToken'));
  const page = await resumable(continuationToken, () => services.batches.list(filter, { limit, continuationToken }));
  const base = apiBase(request);
  const canonical = new URLSearchParams();
  for (const name of ['status', 'updatedBefore', 'limit']) {
    const value = query.get(name);
    if (value) canonical.set(name, value);
  }
  const token = page.continuationToken && tokens.encode(page.continuationToken);
  return json(200, { items: page.items.map((batch) => batchView(batch, base)), continuationToken: token, links: pageLinks(`${base}/batches`, canonical, token) });
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
  const input: BatchOrchestrationInput = { batchId: batch.id, itemCount: batch.itemCount, callbackUrl: batch.callbackUrl, rerun: true };
  // Should this fail, the batch is processing without an instance: the receive-timeout sweep starts it.
  await orchestrations().startOnce(BATCH_ORCHESTRATOR, instanceId, input);
  const base = apiBase(request);
  return json(202, { id: batch.id, status: 'processing', retries, instanceId, links: links(base, batch.id) }, { location: `${base}/batches/${batch.id}` });
}
