import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateImage } from '../images/validate';
import { BLOB_CONTAINERS } from '../names';
import { DERIVATIVE_SIZES, type DerivativeName } from '../images/processed-image';
import { sha256 } from '../hash';
import { isImageId, uploadMetadata } from '../processing/upload-blob';
import { badRequest, notFound, problem } from '../problem';
import { failedImage, isTerminal, queuedImage, type ImageDocument } from '../results/image-document';
import type { Services } from '../services';
import { mayUse, uploadLimits, type Caller } from './access';
import { apiBase, json, type ApiRequest, type ApiResponse } from './http';
import { imageView } from './image-view';
import { readUpload } from './read-upload';

export const MAX_WAIT_SECONDS = 60;
const POLL_MS = 200;

function waitSeconds(request: ApiRequest): number {
  const raw = new URL(request.url).searchParams.get('wait');
  if (raw === null) return 0;
  const seconds = Number(raw);
  if (!/^\d{1,2}(\.\d+)?$/.test(raw) || seconds > MAX_WAIT_SECONDS) {
    throw badRequest(`wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}; got "${raw}".`, 'invalid-query');
  }
  return seconds;
}

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
    await services.blobs.put(BLOB_CONTAINERS.uploads, id, upload.bytes, { contentType: image.mimeType, metadata: uploadMetadata(source) });
  } catch (error) {
    await services.images.upsert(failedImage(queued, 'The upload could not be stored.', services.engine.name)).catch(() => undefined);
    throw error;
  }
  const base = apiBase(request);
  const location = `${base}/images/${id}`;
  const result = wait > 0 ? await waitForResult(services, queued, wait) : queued;
  return json(isTerminal(result.status) ? 200 : 202, imageView(result, base), { location });
}

/** The image, if the caller may see it: someone else's is answered exactly like an id nobody has, so ids reveal nothing. */
async function findImage(request: ApiRequest, services: Services, caller: Caller): Promise<ImageDocument> {
  const id = request.params.id ?? '';
  if (!isImageId(id)) throw badRequest(`"${id}" is not a valid image id: 1-128 letters, digits, hyphens or underscores.`, 'invalid-id');
  // Single uploads are their own partition: a point read. Batch items are found by id across partitions.
  const doc = (await services.images.get(id, id)) ?? (await services.images.find(id));
  if (!doc || !mayUse(caller, doc.owner)) throw notFound(`No image with id "${id}".`);
  return doc;
}

/** GET /api/images/{id}: status and result. */
export async function getImage(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  return json(200, imageView(await findImage(request, services, caller), apiBase(request)));
}

const isDerivativeName = (name: string): name is DerivativeName => Object.hasOwn(DERIVATIVE_SIZES, name);

/** GET /api/images/{id}/{derivative}: the derivative's bytes (thumbnail, preview). */
export async function getDerivative(request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const name = request.params.derivative ?? '';
  if (!isDerivativeName(name)) {
    throw notFound(`No derivative "${name}"; there are ${Object.keys(DERIVATIVE_SIZES).join(' and ')}.`);
  }
  const doc = await findImage(request, services, caller);
  const stored = doc.derivatives?.[name];
  if (!stored) {
    throw problem('derivative-not-ready', `Image "${doc.id}" has no ${name} (status ${doc.status}).`, { imageStatus: doc.status });
  }
  const blob = await services.blobs.get(stored.container, stored.blob);
  if (!blob) throw notFound(`The ${name} of image "${doc.id}" is gone.`);
  return {
    status: 200,
    headers: { 'content-type': blob.contentType, 'cache-control': 'private, max-age=3600', etag: blob.etag },
    body: blob.bytes,
  };
}
