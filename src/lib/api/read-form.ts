import { once } from 'node:events';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { boundedBody, mediaType } from './request-body';
import type { ApiRequest } from './http';
import { badRequest, problem, ProblemError } from '../problem';
import { MAX_BATCH_ITEMS } from '../batch/record';

/** A web batch upload may carry many images; above this, use the Kafka producer (README). */
export const MAX_BATCH_UPLOAD_BYTES = 200 * 1024 * 1024;

/** Text fields are short (a callbackUrl is at most 2048 characters): a longer one is refused rather than held. */
const MAX_FIELD_BYTES = 64 * 1024;

/** The field that is a text field even when sent as a file part. */
const CALLBACK_FIELD = 'callbackUrl';

export interface FormFile {
  /** 0, 1, ... in the order the file parts arrive. */
  index: number;
  fileName?: string;
  contentType?: string;
  /** The part's bytes as they arrive: read it to its end, or fail. The next part is parsed only once it has been read. */
  content: Readable;
}

const malformed = (reason: string) => badRequest(`The multipart/form-data body is malformed (${reason}); check the boundary and part headers.`, 'invalid-form');

/**
 * Streams the multipart form of a batch upload: each file part goes to `onFile` as it arrives, so no more of the body is
 * held than the handler holds; text fields are collected (the first of each name). Every limit is checked as the body
 * passes (its size, the number of files, the length of a field) and answered with its problem; a body that ends
 * before its form does is malformed.
 *
 * Resolves once the body has ended and every `onFile` has resolved. Rejects with the first failure, once every
 * `onFile` already called has settled (so what they stored is known to the caller and can be removed) and the rest of
 * the body has been read and dropped (so the client gets the answer rather than a reset while still sending).
 */
export async function readBatchForm(request: ApiRequest, maxImageBytes: number, onFile: (file: FormFile) => Promise<void>): Promise<Map<string, string>> {
  const contentType = request.headers.get('content-type') ?? '';
  if (mediaType(contentType) !== 'multipart/form-data') {
    throw problem('unsupported-media-type', 'Send the batch as multipart/form-data with one file field per image.');
  }
  const limit = Math.min(MAX_BATCH_UPLOAD_BYTES, maxImageBytes * MAX_BATCH_ITEMS);
  const body = boundedBody(request, limit, `a web batch upload is limited to ${limit} bytes`);
  let parser: busboy.Busboy;
  try {
    // Names as the client wrote them (UTF-8, with any path): the record keeps a safe version of the name.
    parser = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8', preservePath: true, limits: { files: MAX_BATCH_ITEMS, fieldSize: MAX_FIELD_BYTES } });
  } catch (error) {
    throw malformed((error as Error).message);
  }

  const fields = new Map<string, string>();
  const handlers: Array<Promise<void>> = [];
  let failure: unknown;
  let wake: () => void = () => undefined;
  const failed = new Promise<void>((resolve) => (wake = resolve));
  const fail = (error: unknown) => {
    failure ??= error;
    wake();
  };

  parser.on('file', (name, content, info) => {
    if (failure !== undefined) return content.resume();
    if (name === CALLBACK_FIELD) {
      content.resume();
      return fail(badRequest(`${CALLBACK_FIELD} must be a text field.`, 'invalid-form'));
    }
    const file = { index: handlers.length, fileName: info.filename || undefined, contentType: info.mimeType || undefined, content };
    handlers.push(onFile(file).catch(fail));
  });
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) fail(badRequest(`The form field ${name} is over ${MAX_FIELD_BYTES} bytes.`, 'invalid-form'));
    else if (!fields.has(name)) fields.set(name, value);
  });
  parser.on('filesLimit', () => fail(problem('too-many-files', `A batch holds at most ${MAX_BATCH_ITEMS} files; this one has more.`)));
  parser.on('error', (error: Error) => fail(malformed(error.message)));
  const closed = new Promise<void>((resolve) => parser.once('close', resolve));

  try {
    for await (const chunk of body) {
      // After a failure the rest is read and dropped: the answer waits for the client to finish sending.
      if (failure !== undefined) continue;
      if (!parser.write(chunk)) await Promise.race([once(parser, 'drain').catch(() => undefined), failed, closed]);
    }
    if (failure === undefined) {
      parser.end();
      await Promise.race([closed, failed]);
    }
  } catch (error) {
    // The body itself failed: over the limit, or the client went away.
    fail(error instanceof ProblemError ? error : malformed((error as Error).message));
  }
  // Stops the part being read, so its handler settles.
  if (failure !== undefined) parser.destroy();
  await Promise.all(handlers);
  if (failure !== undefined) throw failure;
  return fields;
}
