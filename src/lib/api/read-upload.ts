import { badRequest, ProblemError } from '../problem';
import type { ApiRequest } from './http';

export interface Upload {
  bytes: Buffer;
  fileName?: string;
  declaredType?: string;
}

// Room for multipart boundaries and part headers on top of the image byte limit.
const MULTIPART_OVERHEAD = 64 * 1024;

const tooLarge = (detail: string) => new ProblemError(413, 'Content Too Large', detail);

/** Reads the body, refusing it as soon as it passes the limit rather than after buffering it all. */
async function readBody(request: ApiRequest, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(`The request body is over the limit of ${limit} bytes.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function mediaType(header: string | null): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/**
 * The image in an upload request: a raw body with an image content type, or multipart/form-data with exactly one
 * file field. Only the envelope is checked here; validateImage checks the bytes.
 */
export async function readUpload(request: ApiRequest, maxBytes: number): Promise<Upload> {
  const type = mediaType(request.headers.get('content-type'));
  const multipart = type === 'multipart/form-data';
  if (!multipart && !(type?.startsWith('image/') || type === 'application/octet-stream')) {
    throw new ProblemError(
      415,
      'Unsupported Media Type',
      `Send the image as the raw body with an image/* content type, or as multipart/form-data; got ${type ? `"${type}"` : 'no Content-Type'}.`,
    );
  }
  const lengthHeader = request.headers.get('content-length');
  if (lengthHeader === null) {
    throw new ProblemError(411, 'Length Required', 'Send a Content-Length header; chunked uploads are not accepted.');
  }
  const limit = multipart ? maxBytes + MULTIPART_OVERHEAD : maxBytes;
  const declaredLength = Number(lengthHeader);
  if (declaredLength > limit) {
    throw tooLarge(`The request body is ${declaredLength} bytes; the limit is ${maxBytes} bytes for the image.`);
  }
  const body = await readBody(request, limit);
  if (!multipart) return { bytes: body, declaredType: type };
  return readMultipartFile(body, request.headers.get('content-type')!, maxBytes);
}

async function readMultipartFile(body: Buffer, contentType: string, maxBytes: number): Promise<Upload> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw badRequest('The multipart/form-data body is malformed (check the boundary and part headers).');
  }
  const files = [...form.values()].filter((value) => typeof value !== 'string');
  if (files.length !== 1) {
    throw badRequest(`Send exactly one file field in the form; got ${files.length}.`);
  }
  const file = files[0] as Exclude<(typeof files)[number], string>;
  if (file.size > maxBytes) throw tooLarge(`The image is ${file.size} bytes; the limit is ${maxBytes} bytes.`);
  return { bytes: Buffer.from(await file.arrayBuffer()), fileName: file.name || undefined, declaredType: file.type || undefined };
}
