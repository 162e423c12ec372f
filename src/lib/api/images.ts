import { randomUUID } from 'node:crypto';
import { recordImageEnd, recorderOf } from '../analytics/record';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { validateImage } from '../images/validate';
import { BLOB_CONTAINERS } from '../names';
import { DERIVATIVE_SIZES, type DerivativeName } from '../images/processed-image';
import { sha256 } from '../hash';
import { movedRange } from '../processing/store-derivatives';
import { IMAGE_ID_PATTERN, uploadMetadata } from '../processing/upload-blob';
import { badRequest, notFound, problem } from '../problem';
import { currentTraceContext } from '../tracing';
import { failedImage, isTerminal, queuedImage, type ImageDocument, type StoredDerivative } from '../results/image-document';
import type { Services } from '../services';
import type { BlobStore, StoredBlob } from '../storage/blob-store';
import { mayUse, uploadLimits, type Caller } from './access';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { imageView } from './image-view';
import { readQuery } from './query';
import { readUpload } from './read-upload';

export const MAX_WAIT_SECONDS = 60;
const POLL_MS = 200;

export const UploadImageQuery = z.object({
  wait: z
    .string()
    .refine((raw) => /^\d{1,2}(\.\d+)?$/.test(raw) && Number(raw) <= MAX_WAIT_SECONDS, {
      error: (issue) => `wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}; got "${String(issue.input)}".`,
    })
    .meta({ type: 'number', minimum: 0, maximum: MAX_WAIT_SECONDS, description: 'Seconds (decimal, 0-60) to wait for processing: 200 with the final result, or 202 if the wait ran out.' } as never)
    .optional(),
});

export const ImageIdParam = z.string().regex(IMAGE_ID_PATTERN).meta({ description: 'An image id: 1-128 letters, digits, hyphens or underscores (batch item ids too).' });
export const DerivativeParam = z.enum(Object.keys(DERIVATIVE_SIZES) as [DerivativeName, ...DerivativeName[]]).meta({ description: 'thumbnail (256 px on the long side) or preview (1024 px).' });

const waitSeconds = (request: ApiRequest): number => Number(readQuery(UploadImageQuery, new URL(request.url)).wait ?? 0);

async function waitForResult(services: Services, doc: ImageDocument, seconds: number): Promise<ImageDocument> {
  const deadline = Date.now() + seconds * 1000;
  let current = doc;
  while (!isTerminal(current.status) && Date.now() < deadline) {
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    current = (await services.images.get(doc.id, doc.partitionKey)) ?? current;
  }
  return current;
}

/**
 * POST /api/images: validate, take the bytes from the caller's daily quota, store the original, create the queued
 * result owned by the caller; optionally wait for processing.
 */
export async function uploadImage(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const wait = waitSeconds(request);
  const upload = await readUpload(request, services.limits.maxBytes);
  const image = validateImage(upload.bytes, services.limits, upload.declaredType);
  await uploadLimits(services, caller).reserveBytes(upload.bytes.length);
  const id = randomUUID();
  const source = {
    container: BLOB_CONTAINERS.uploads,
    blob: id,
    fileName: upload.fileName,
    contentType: image.mimeType,
    bytes: upload.bytes.length,
    sha256: sha256(upload.bytes),
    uploadedAt: new Date().toISOString(),
  };
  // The result exists before the blob, so the trigger always finds it and a GET never sees an unknown id.
  const queued = queuedImage({ id, partitionKey: id, owner: caller.principal.id, source });
  await services.images.create(queued);
  try {
    await services.blobs.put(BLOB_CONTAINERS.uploads, id, upload.bytes, { contentType: image.mimeType, metadata: uploadMetadata(source, currentTraceContext()) });
  } catch (error) {
    const failed = failedImage(queued, 'The upload could not be stored.', services.engine.name);
    await services.images
      .upsert(failed)
      .then(() => recordImageEnd(recorderOf(services), failed))
      .catch(() => undefined);
    throw error;
  }
  const base = apiBase(request);
  const location = `${base}/images/${id}`;
  const result = wait > 0 ? await waitForResult(services, queued, wait) : queued;
  return json(isTerminal(result.status) ? 200 : 202, imageView(result, base), { location });
}

/** The image, if the caller may see it: someone else's is answered exactly like an id nobody has, so ids reveal nothing. */
export async function findImage(request: ApiRequest, services: Services, caller: Caller): Promise<ImageDocument> {
  const id = request.params.id ?? '';
  if (!ImageIdParam.safeParse(id).success) throw badRequest(`"${id}" is not a valid image id: 1-128 letters, digits, hyphens or underscores.`, 'invalid-id');
  // Single uploads are their own partition: a point read. Batch items are found by id across partitions.
  const doc = (await services.images.get(id, id)) ?? (await services.images.find(id));
  if (!doc || !mayUse(caller, doc.owner)) throw notFound(`No image with id "${id}".`);
  return doc;
}

/** GET /api/images/{id}: status and result. */
export async function getImage(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  return json(200, imageView(await findImage(request, services, caller), apiBase(request)));
}


/** GET /api/images/{id}/{derivative}: the derivative's bytes (thumbnail, preview). */
export async function getDerivative(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const requested = request.params.derivative ?? '';
  const derivative = DerivativeParam.safeParse(requested);
  if (!derivative.success) throw notFound(`No derivative "${requested}"; there are ${Object.keys(DERIVATIVE_SIZES).join(' and ')}.`);
  const name = derivative.data;
  const doc = await findImage(request, services, caller);
  const expired = () => problem('derivative-expired', `The ${name} of image "${doc.id}" was deleted: images are kept at most ${services.config.retentionDays} days (RETENTION_DAYS).`);
  if (doc.deidentifiedAt !== undefined) throw expired();
  const stored = doc.derivatives?.[name];
  if (!stored) {
    throw problem('derivative-not-ready', `Image "${doc.id}" has no ${name} (status ${doc.status}).`, { imageStatus: doc.status });
  }
  const blob = await readDerivative(services.blobs, stored, name);
  // A blob gone before the sweep reached the document: the storage lifecycle rule, the backstop, deleted it first.
  if (!blob) throw expired();
  return {
    status: 200,
    headers: { 'content-type': stored.contentType, 'cache-control': 'private, max-age=3600', etag: derivativeEtag(blob.etag, name) },
    body: blob.bytes,
  };
}

/**
 * Only the derivative's own range of the blob the derivatives share (a document from before that names a blob of its
 * own). The blob's metadata says where each derivative is: when processing wrote the blob again after the document
 * was read, the range is read again from there, so the bytes are always one whole derivative.
 */
async function readDerivative(blobs: BlobStore, stored: StoredDerivative, name: DerivativeName): Promise<StoredBlob | undefined> {
  if (stored.offset === undefined) return blobs.get(stored.container, stored.blob);
  const blob = await blobs.getRange(stored.container, stored.blob, stored.offset, stored.bytes);
  const moved = blob && movedRange(blob.metadata, name, { offset: stored.offset, bytes: stored.bytes });
  return moved ? blobs.getRange(stored.container, stored.blob, moved.offset, moved.bytes) : blob;
}

/** The derivatives share a blob and so its ETag: each one's own is the blob's with the derivative's name. */
const derivativeEtag = (blobEtag: string, name: DerivativeName) => `"${blobEtag.replace(/^(W\/)?"|"$/g, '')}-${name}"`;
