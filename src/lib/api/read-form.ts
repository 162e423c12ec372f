import { mediaType, parseMultipart, readBoundedBody } from './request-body';
import type { ApiRequest } from './http';
import { problem } from '../problem';
import { MAX_BATCH_ITEMS } from '../batch/record';

/** A web batch upload may carry many images; above this, use the Kafka producer (README). */
export const MAX_BATCH_UPLOAD_BYTES = 200 * 1024 * 1024;

/** The multipart form of a batch upload, refused as soon as the body passes the limit rather than after buffering it. */
export async function readForm(request: ApiRequest, maxImageBytes: number): Promise<FormData> {
  const contentType = request.headers.get('content-type') ?? '';
  if (mediaType(contentType) !== 'multipart/form-data') {
    throw problem('unsupported-media-type', 'Send the batch as multipart/form-data with one file field per image.');
  }
  const limit = Math.min(MAX_BATCH_UPLOAD_BYTES, maxImageBytes * MAX_BATCH_ITEMS);
  const body = await readBoundedBody(request, limit, `a web batch upload is limited to ${limit} bytes`);
  return parseMultipart(body, contentType);
}
