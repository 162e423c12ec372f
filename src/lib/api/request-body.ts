import { badRequest, problem } from '../problem';
import type { ApiRequest } from './http';

export const tooLarge = (detail: string) => problem('content-too-large', detail);

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | null): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/**
 * The whole body, at most `limit` bytes: refused from Content-Length when it says more (`limitText` says what the
 * limit is), and as soon as the stream passes it otherwise, rather than after buffering it all. A Content-Length is
 * required so the size is known up front.
 */
export async function readBoundedBody(request: ApiRequest, limit: number, limitText: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of boundedBody(request, limit, limitText)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The body as it arrives, with the limits of readBoundedBody: the Content-Length checks are made at once, the running
 * total as the chunks pass. The iteration throws the problem (and cancels the body) when the limit is passed.
 */
export function boundedBody(request: ApiRequest, limit: number, limitText: string): AsyncIterable<Uint8Array> {
  const length = request.headers.get('content-length');
  if (length === null) throw problem('length-required', 'Send a Content-Length header; chunked uploads are not accepted.');
  if (Number(length) > limit) throw tooLarge(`The request body is ${length} bytes; ${limitText}.`);
  return chunksUpTo(request.body?.getReader(), limit);
}

async function* chunksUpTo(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for (;;) {
    let next: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>> | undefined;
    try {
      next = await reader?.read();
    } catch (error) {
      // The client went away or stopped sending (the local host's body timeout): nobody waits for this answer.
      throw problem('malformed-request', `The request body ended early: ${(error as Error).message}.`);
    }
    if (!next || next.done) return;
    total += next.value.byteLength;
    if (total > limit) {
      await reader!.cancel();
      throw tooLarge(`The request body is over the limit of ${limit} bytes.`);
    }
    yield next.value;
  }
}

/** Parses a multipart/form-data body; a broken one is the caller's fault (400). */
export async function parseMultipart(body: Buffer, contentType: string): Promise<FormData> {
  try {
    return await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw badRequest('The multipart/form-data body is malformed (check the boundary and part headers).', 'invalid-form');
  }
}
