import { z } from 'zod';
import { newBatch } from '../batch/batch-document';
import { BATCH_ID_PATTERN, HEADERS, MAX_BATCH_ITEMS } from '../batch/record';
import { badRequest, problem } from '../problem';
import type { Services } from '../services';
import type { Caller } from './access';
import { BatchInfo, batchView, callbackUrlOf, newIngestToken } from './batches';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { mediaType, readBoundedBody } from './request-body';

const MAX_BODY_BYTES = 4096;

const registration = z.strictObject({
  itemCount: z.number().int().min(1).max(MAX_BATCH_ITEMS),
  callbackUrl: z.string().max(2048).optional(),
});

/** PUT /api/batches/{id}'s body, as documented (the OpenAPI document). */
export const BatchRegistration = registration.meta({ id: 'BatchRegistration', description: 'The batch to register: its item count and an optional callback URL.' });

/** PUT /api/batches/{id}'s answer: the batch, its ingest token and the record header to carry it in. */
export const RegisteredBatch = BatchInfo.extend({
  ingestToken: z.string().meta({ description: 'Send it with every record of the batch, in `recordHeader`.' }),
  recordHeader: z.literal(HEADERS.batchToken),
}).meta({ id: 'RegisteredBatch' });

async function readRegistration(request: ApiRequest): Promise<z.infer<typeof registration>> {
  if (mediaType(request.headers.get('content-type')) !== 'application/json') {
    throw problem('unsupported-media-type', 'Send the registration as application/json: {"itemCount": <1-10000>, "callbackUrl": "<optional>"}.');
  }
  const body = await readBoundedBody(request, MAX_BODY_BYTES, `a batch registration is at most ${MAX_BODY_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('The body is not JSON; send {"itemCount": <1-10000>, "callbackUrl": "<optional>"}.');
  }
  const parsed = registration.safeParse(value);
  if (!parsed.success) throw badRequest(`The registration is not {"itemCount": <1-${MAX_BATCH_ITEMS}>, "callbackUrl": "<optional>"}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}.`);
  return parsed.data;
}

/**
 * PUT /api/batches/{id}: registers a batch to the caller before its records go through Kafka / Event Hubs, which
 * cannot say who sent a record. The answer holds the batch's ingest token; records carrying it in `ip-batch-token`
 * join the batch and belong to the caller, records without it are refused (README "Who sent a Kafka record"). The
 * same registration again by the same owner answers 200 with the same token (a producer or bridge that restarted);
 * an id that is taken otherwise is 409 batch-exists, whoever holds it.
 */
export async function registerBatch(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const id = request.params.id ?? '';
  if (!BATCH_ID_PATTERN.test(id)) throw badRequest(`"${id}" is not a valid batch id: 1-100 letters, digits or hyphens.`, 'invalid-id');
  const { itemCount, callbackUrl: requestedCallback } = await readRegistration(request);
  const callbackUrl = await callbackUrlOf(requestedCallback, services);
  const wanted = { ...newBatch(id, itemCount, callbackUrl), owner: caller.principal.id, ingestToken: newIngestToken() };
  const stored = await services.batches.ensure(wanted);
  const created = stored.ingestToken === wanted.ingestToken;
  const again = stored.owner === caller.principal.id && stored.ingestToken !== undefined && stored.itemCount === itemCount;
  if (!created && !again) throw problem('batch-exists', `Batch id "${id}" is taken; register the batch under another id (a new UUID).`);
  const base = apiBase(request);
  return json(
    created ? 201 : 200,
    { ...batchView(stored, base), ingestToken: stored.ingestToken!, recordHeader: HEADERS.batchToken } satisfies z.infer<typeof RegisteredBatch>,
    { location: `${base}/batches/${id}`, 'cache-control': 'no-store' },
  );
}
