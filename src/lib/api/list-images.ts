import { MIME_TYPES } from '../images/sniff';
import { BATCH_ID_PATTERN } from '../batch/record';
import { badRequest } from '../problem';
import type { ImageStatus } from '../results/image-document';
import type { ImageFilter } from '../results/result-store';
import type { Services } from '../services';
import { ownerFilter, type Caller } from './access';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { imageView } from './image-view';
import { checkParameters, continuationTokens, pageLinks, readLimit, resumable, timestamp } from './paging';

const STATUSES: readonly ImageStatus[] = ['queued', 'processing', 'succeeded', 'failed'];
const FORMATS = Object.keys(MIME_TYPES);
const QUERY_PARAMETERS = ['status', 'format', 'from', 'to', 'batch', 'limit', 'continuationToken'];

function readFilter(query: URLSearchParams): ImageFilter {
  checkParameters(query, QUERY_PARAMETERS);
  const status = query.get('status') || undefined;
  if (status !== undefined && !STATUSES.includes(status as ImageStatus)) throw badRequest(`status must be one of ${STATUSES.join(', ')}; got "${status}".`, 'invalid-query');
  const format = query.get('format')?.toLowerCase() || undefined;
  if (format !== undefined && !FORMATS.includes(format)) throw badRequest(`format must be one of ${FORMATS.join(', ')}; got "${format}".`, 'invalid-query');
  const batchId = query.get('batch') || undefined;
  if (batchId !== undefined && !BATCH_ID_PATTERN.test(batchId)) throw badRequest(`batch "${batchId}" is not a valid batch id.`, 'invalid-query');
  const from = timestamp('from', query.get('from'));
  const to = timestamp('to', query.get('to'));
  if (from && to && from >= to) throw badRequest(`from (${from}) must be before to (${to}).`, 'invalid-query');
  return { status: status as ImageStatus | undefined, format, from, to, batchId };
}

/**
 * GET /api/images: processed and pending images, newest first, filtered by status, format, creation time and
 * batch, a page at a time (limit up to 100; follow `continuationToken` / `links.next`): the caller's own, or every
 * owner's for an operator.
 */
export async function listImages(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const url = new URL(request.url);
  const filter: ImageFilter = { ...readFilter(url.searchParams), owner: ownerFilter(caller) };
  const limit = readLimit(url.searchParams.get('limit'));
  // The owner is part of the token's scope: one caller's token does not page through another's listing.
  const tokens = continuationTokens(services.config, 'images', [filter.status, filter.format, filter.from, filter.to, filter.batchId, filter.owner]);
  const continuationToken = tokens.decode(url.searchParams.get('continuationToken'));
  const page = await resumable(continuationToken, () => services.images.list(filter, { limit, continuationToken }));
  const base = apiBase(request);
  const query = new URLSearchParams();
  const { status, format, batchId } = filter;
  for (const [name, value] of Object.entries({ status, format, from: url.searchParams.get('from'), to: url.searchParams.get('to'), batch: batchId })) {
    if (value) query.set(name, value);
  }
  if (url.searchParams.has('limit')) query.set('limit', String(limit));
  const token = page.continuationToken && tokens.encode(page.continuationToken);
  return json(200, {
    items: page.items.map((doc) => imageView(doc, base)),
    continuationToken: token,
    links: pageLinks(`${base}/images`, query, token),
  });
}
