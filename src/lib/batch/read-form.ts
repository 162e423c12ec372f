import type { ApiRequest } from '../api/http';
import { badRequest, ProblemError } from '../problem';
import { MAX_BATCH_ITEMS } from './record';

/** A web batch upload may carry many images; above this, use the Kafka producer (README). */
export const MAX_BATCH_UPLOAD_BYTES = 200 * 1024 * 1024;

const tooLarge = (detail: string) => new ProblemError(413, 'Content Too Large', detail);

/** The multipart form of a batch upload, refused as soon as the body passes the limit rather than after buffering it. */
export async function readForm(request: ApiRequest, maxImageBytes: number): Promise<FormData> {
  const contentType = request.headers.get('content-type') ?? '';
  if (contentType.split(';')[0].trim().toLowerCase() !== 'multipart/form-data') {
    throw new ProblemError(415, 'Unsupported Media Type', 'Send the batch as multipart/form-data with one file field per image.');
  }
  const length = request.headers.get('content-length');
  if (length === null) throw new ProblemError(411, 'Length Required', 'Send a Content-Length header; chunked uploads are not accepted.');
  const limit = Math.min(MAX_BATCH_UPLOAD_BYTES, maxImageBytes * MAX_BATCH_ITEMS);
  if (Number(length) > limit) throw tooLarge(`The request body is ${length} bytes; a web batch upload is limited to ${limit} bytes.`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    total += next.value.byteLength;
    if (total > limit) {
      await reader!.cancel();
      throw tooLarge(`The request body is over the limit of ${limit} bytes.`);
    }
    chunks.push(next.value);
  }
  try {
    return await new Response(Buffer.concat(chunks), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw badRequest('The multipart/form-data body is malformed (check the boundary and part headers).');
  }
}
