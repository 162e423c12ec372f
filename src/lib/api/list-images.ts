import { z } from 'zod';
import { MIME_TYPES, type ImageFormat } from '../images/sniff';
import { BATCH_ID_PATTERN } from '../batch/record';
import { badRequest } from '../problem';
import type { ImageFilter } from '../results/result-store';
import type { Services } from '../services';
import { ownerFilter, type Caller } from './access';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { ImageResult, imageView } from './image-view';
import { continuationTokens, pageLinks, resumable } from './paging';
import { continuationTokenParam, integerParam, oneOf, readQuery, timestampParam, toIsoBound } from './query';

const FORMATS = Object.keys(MIME_TYPES) as ImageFormat[];
const FORMAT = new RegExp(`^(${FORMATS.join('|')})$`, 'i');

export const ListImagesQuery = z.object({
  status: oneOf('status', ['queued', 'processing', 'succeeded', 'failed'], 'Only images with this status.').optional(),
  format: z
    .string()
    .regex(FORMAT, { error: (issue) => `format must be one of ${FORMATS.join(', ')}; got "${String(issue.input).toLowerCase()}".` })
    .meta({ description: `Only images of this format (known once processed): ${FORMATS.join(', ')}, any case.` })
    .optional(),
  from: timestampParam('from', 'Created at or after (UTC when only a date).').optional(),
  to: timestampParam('to', 'Created before (UTC when only a date).').optional(),
  batch: z
    .string()
    .regex(BATCH_ID_PATTERN, { error: (issue) => `batch "${String(issue.input)}" is not a valid batch id.` })
    .meta({ description: 'Only the items of this batch.' })
    .optional(),
  limit: integerParam('limit', 1, 100, 'Page size; default 20.').optional(),
  continuationToken: continuationTokenParam.optional(),
});

export const ImagePage = z
  .strictObject({
    items: z.array(ImageResult),
    continuationToken: z.string().optional().meta({ description: 'Absent on the last page.' }),
    links: z.strictObject({ first: z.url(), next: z.url().optional() }),
  })
  .meta({ id: 'ImagePage', description: 'A page of images, newest first.' });

/**
 * GET /api/images: processed and pending images, newest first, filtered by status, format, creation time and
 * batch, a page at a time (limit up to 100; follow `continuationToken` / `links.next`): the caller's own, or every
 * owner's for an operator.
 */
export async function listImages(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const url = new URL(request.url);
  const query = readQuery(ListImagesQuery, url, { strict: true, blankIsAbsent: true });
  const [from, to] = [toIsoBound(query.from), toIsoBound(query.to)];
  if (from && to && from >= to) throw badRequest(`from (${from}) must be before to (${to}).`, 'invalid-query');
  const filter: ImageFilter = { status: query.status, format: query.format?.toLowerCase(), from, to, batchId: query.batch, owner: ownerFilter(caller) };
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  // The owner is part of the token's scope: one caller's token does not page through another's listing.
  const tokens = continuationTokens(services.config, 'images', [filter.status, filter.format, filter.from, filter.to, filter.batchId, filter.owner]);
  const continuationToken = tokens.decode(query.continuationToken ?? null);
  const page = await resumable(continuationToken, () => services.images.list(filter, { limit, continuationToken }));
  const base = apiBase(request);
  const links = new URLSearchParams();
  const { status, format, batchId } = filter;
  for (const [name, value] of Object.entries({ status, format, from: query.from, to: query.to, batch: batchId })) {
    if (value) links.set(name, value);
  }
  if (query.limit !== undefined) links.set('limit', String(limit));
  const token = page.continuationToken && tokens.encode(page.continuationToken);
  return json(200, {
    items: page.items.map((doc) => imageView(doc, base)),
    continuationToken: token,
    links: pageLinks(`${base}/images`, links, token),
  } satisfies z.infer<typeof ImagePage>);
}
