import { z } from 'zod';
import { degenerateReason, hammingDistance, hashBands, MAX_DUPLICATE_DISTANCE } from '../images/near-duplicates';
import { badRequest, problem } from '../problem';
import type { Services } from '../services';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { ownerHash } from '../auth/owner-hash';
import type { Caller } from './access';
import { findImage } from './images';

/** GET /api/images/{id}/similar's query. */
export const similarQuery = z
  .object({
    maxDistance: z.coerce.number().int().min(0).max(MAX_DUPLICATE_DISTANCE).optional().describe('bits the hashes may differ in; default DUPLICATE_HASH_DISTANCE'),
    code: z.string().optional(),
  })
  .strict();

const LIMIT = 100;

/** GET /api/images/{id}/similar's answer. */
export const SimilarImages = z
  .strictObject({
    id: z.string(),
    perceptualHash: z.string().regex(/^[0-9a-f]{16}$/),
    maxDistance: z.int().min(0).max(MAX_DUPLICATE_DISTANCE),
    degenerate: z.string().nullable().meta({ description: 'Why the hash is similar to nothing (a flat image), else null.' }),
    items: z
      .array(
        z.strictObject({
          id: z.string(),
          distance: z.int().min(0).meta({ description: 'Bits the perceptual hashes differ in.' }),
          perceptualHash: z.string().nullable(),
          day: z.string().meta({ description: 'The UTC day the image was uploaded.' }),
          batchId: z.string().nullable().meta({ description: 'Batch items: their batch; single uploads: null.' }),
          links: z.strictObject({ image: z.url(), thumbnail: z.url() }),
        }),
      )
      .max(LIMIT),
  })
  .meta({ id: 'SimilarImages', description: 'Near-duplicates of an image, nearest first (at most 100).' });

/**
 * GET /api/images/{id}/similar: the images whose perceptual hashes are within `maxDistance` bits of this one's,
 * nearest first. A lookup of the hash's five bands in the facts (indexed fields), never a scan: by the pigeonhole
 * principle every hash within 4 bits shares a band. Degenerate hashes (flat images) are similar to nothing.
 */
export async function getSimilarImages(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const parsed = similarQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) throw badRequest(`maxDistance must be an integer from 0 to ${MAX_DUPLICATE_DISTANCE}.`, 'invalid-query');
  const maxDistance = parsed.data.maxDistance ?? services.config.duplicateHashDistance;
  const doc = await findImage(request, services, caller);
  // An uploader's near-duplicates among their own images only: the facts carry the owner hash, never the owner.
  const own = caller.everyOwner ? undefined : ownerHash(services.config, caller.principal.id);
  const hash = doc.status === 'succeeded' ? doc.analysis?.perceptualHash : undefined;
  if (!hash) throw problem('image-not-analysed', `Image "${doc.id}" has no perceptual hash (status ${doc.status}).`, { imageStatus: doc.status });
  const degenerate = degenerateReason(hash, doc.analysis?.contrast) ?? null;
  const base = apiBase(request);
  const items = degenerate
    ? []
    : (await services.analytics.sharingBand(hashBands(hash)))
        .flatMap((fact) => (fact.type === 'image' && fact.imageId !== doc.id && fact.perceptualHash && !fact.hashDegenerate && (own === undefined || fact.ownerHash === own) ? [{ fact, distance: hammingDistance(hash, fact.perceptualHash) }] : []))
        .filter(({ distance }) => distance <= maxDistance)
        .sort((a, b) => a.distance - b.distance || a.fact.day.localeCompare(b.fact.day) || a.fact.id.localeCompare(b.fact.id))
        .slice(0, LIMIT)
        .map(({ fact, distance }) => ({
          id: fact.type === 'image' ? fact.imageId : fact.id,
          distance,
          perceptualHash: fact.perceptualHash,
          day: fact.day,
          batchId: fact.batchId,
          links: { image: `${base}/images/${fact.imageId}`, thumbnail: `${base}/images/${fact.imageId}/thumbnail` },
        }));
  return json(200, { id: doc.id, perceptualHash: hash, maxDistance, degenerate, items } satisfies z.infer<typeof SimilarImages>);
}
