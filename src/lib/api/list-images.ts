import { MIME_TYPES } from '../images/sniff';
import { BATCH_ID_PATTERN } from '../batch/record';
import { badRequest } from '../problem';
import { isStatus } from '../results/cosmos';
import type { ImageStatus } from '../results/image-document';
import type { ImageFilter } from '../results/result-store';
import type { Services } from '../services';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { imageView } from './image-view';
import { readToken, signToken } from './signed-token';

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
const STATUSES: readonly ImageStatus[] = ['queued', 'processing', 'succeeded', 'failed'];
const FORMATS = Object.keys(MIME_TYPES);
const QUERY_PARAMETERS = ['status', 'format', 'from', 'to', 'batch', 'limit', 'continuationToken'];
// A date, or a date and time with an offset (Z or ±hh:mm); read as UTC when no time is given.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function timestamp(name: string, raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  const time = TIMESTAMP.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(time)) throw badRequest(`${name} must be an ISO 8601 date (2024-05-01) or date-time with an offset (2024-05-01T12:00:00Z); got "${raw}".`, 'invalid-query');
  // Stored createdAt values are toISOString() strings, so bounds in the same form compare correctly as strings.
  return new Date(time).toISOString();
}

function readFilter(query: URLSearchParams): ImageFilter {
  const unknown = [...query.keys()].filter((key) => !QUERY_PARAMETERS.includes(key) && key !== 'code');
  if (unknown.length) throw badRequest(`Unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')}; use ${QUERY_PARAMETERS.join(', ')}.`, 'invalid-query');
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

function readLimit(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}; got "${raw}".`, 'invalid-query');
  return limit;
}

/** The listing a token belongs to: the same filters, so a token is never replayed against a different query. */
const tokenScope = (filter: ImageFilter) => `images:${JSON.stringify([filter.status, filter.format, filter.from, filter.to, filter.batchId])}`;

function readStoreToken(services: Services, filter: ImageFilter, raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  const token = readToken(services.config, tokenScope(filter), raw);
  if (typeof token !== 'string') throw badRequest('continuationToken is not one this API issued; start again without it.', 'invalid-continuation-token');
  return token;
}

/**
 * GET /api/images: processed and pending images, newest first, filtered by status, format, creation time and
 * batch, a page at a time (limit up to 100; follow `continuationToken` / `links.next`).
 */
export async function listImages(request: ApiRequest, services: Services): Promise<ApiResponse> {
  const url = new URL(request.url);
  const filter = readFilter(url.searchParams);
  const limit = readLimit(url.searchParams.get('limit'));
  const continuationToken = readStoreToken(services, filter, url.searchParams.get('continuationToken'));
  let page;
  try {
    page = await services.images.list(filter, { limit, continuationToken });
  } catch (error) {
    // A token that decodes but that Cosmos DB cannot resume from (expired, or from another account).
    if (continuationToken && isStatus(error, 400)) throw badRequest('continuationToken can no longer be used; start again without it.', 'invalid-continuation-token');
    throw error;
  }
  const base = apiBase(request);
  const query = new URLSearchParams();
  const { status, format, batchId } = filter;
  for (const [name, value] of Object.entries({ status, format, from: url.searchParams.get('from'), to: url.searchParams.get('to'), batch: batchId })) {
    if (value) query.set(name, value);
  }
  if (url.searchParams.has('limit')) query.set('limit', String(limit));
  const token = page.continuationToken && signToken(services.config, tokenScope(filter), page.continuationToken);
  const first = `${base}/images${query.size ? `?${query}` : ''}`;
  if (token) query.set('continuationToken', token);
  return json(200, {
    items: page.items.map((doc) => imageView(doc, base)),
    continuationToken: token,
    links: { first, ...(token ? { next: `${base}/images?${query}` } : {}) },
  });
}
