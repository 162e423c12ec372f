import { safeFileName } from '../file-name';
import { badRequest, problem } from '../problem';
import type { ApiRequest } from './http';
import { mediaType, parseMultipart, readBoundedBody } from './request-body';

export interface Upload {
  bytes: Buffer;
  fileName?: string;
  declaredType?: string;
}

// Room for multipart boundaries and part headers on top of the image byte limit.
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * The image in an upload request: a raw body with an image content type, or multipart/form-data with exactly one
 * file field. Only the envelope is checked here; validateImage checks the bytes.
 */
export async function readUpload(request: ApiRequest, maxBytes: number): Promise<Upload> {
  const type = mediaType(request.headers.get('content-type'));
  const multipart = type === 'multipart/form-data';
  if (!multipart && !(type?.startsWith('image/') || type === 'application/octet-stream')) {
    throw problem(
      'unsupported-media-type',
      `Send the image as the raw body with an image/* content type, or as multipart/form-data; got ${type ? `"${type}"` : 'no Content-Type'}.`,
    );
  }
  const limit = multipart ? maxBytes + MULTIPART_OVERHEAD : maxBytes;
  const body = await readBoundedBody(request, limit, `the limit is ${maxBytes} bytes for the image`);
  if (!multipart) return { bytes: body, declaredType: type };
  const form = await parseMultipart(body, request.headers.get('content-type')!);
  const files = [...form.values()].filter((value) => typeof value !== 'string');
  if (files.length !== 1) {
    throw badRequest(`Send exactly one file field in the form; got ${files.length}.`, 'invalid-form');
  }
  const file = files[0] as Exclude<(typeof files)[number], string>;
  if (file.size > maxBytes) throw problem('image-too-large', `The image is ${file.size} bytes; the limit is ${maxBytes} bytes.`);
  return { bytes: Buffer.from(await file.arrayBuffer()), fileName: file.name ? safeFileName(file.name) : undefined, declaredType: file.type || undefined };
}
