/**
 * Every kind of problem the API answers with, keyed by the last part of its `type` URI. Clients (and the web pages)
 * branch on the type, never on the English `detail`. The README's problem type table lists the same entries
 * (test/docs/readme.test.ts holds them together). Names are stable: add new ones, never rename.
 */
export const PROBLEM_TYPES = {
  // One per status, for problems without a more specific type.
  'bad-request': { status: 400, title: 'Bad Request', when: 'the request is wrong in a way no more specific type names' },
  'unauthorized': { status: 401, title: 'Unauthorized', when: 'no signed-in user or token: sign in (a browser) or send an Entra ID access token for the app (`Authorization: Bearer`)' },
  'forbidden': { status: 403, title: 'Forbidden', when: 'the caller\'s app roles do not allow this route (an `analyst` uploading, an `uploader` retrying a batch); never for someone else\'s image or batch, which is `404`' },
  'not-found': { status: 404, title: 'Not Found', when: 'no such endpoint, image, batch, derivative or web file' },
  'method-not-allowed': { status: 405, title: 'Method Not Allowed', when: 'the path exists but not for this method (`Allow` lists those it has)' },
  'request-timeout': { status: 408, title: 'Request Timeout', when: 'the headers or the body stopped arriving (a `Content-Length` longer than the body sent)' },
  'conflict': { status: 409, title: 'Conflict', when: 'the request conflicts with the current state of the resource' },
  'length-required': { status: 411, title: 'Length Required', when: 'an upload without `Content-Length` (chunked)' },
  'content-too-large': { status: 413, title: 'Content Too Large', when: 'the request body is over the limit' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type', when: 'the `Content-Type` is not one the endpoint takes' },
  'unprocessable-content': { status: 422, title: 'Unprocessable Content', when: 'well-formed, but the content cannot be used' },
  'too-many-requests': { status: 429, title: 'Too Many Requests', when: 'a limit was reached: retry after `Retry-After` seconds' },
  'header-fields-too-large': { status: 431, title: 'Request Header Fields Too Large', when: 'the request headers are over 16 KB' },
  'internal-error': { status: 500, title: 'Internal Server Error', when: 'a fault of ours; it is logged and the request can be retried' },
  'not-implemented': { status: 501, title: 'Not Implemented', when: 'an HTTP method the server does not know' },
  'service-unavailable': { status: 503, title: 'Service Unavailable', when: 'the service cannot take this request now' },
  // Specific types.
  'malformed-request': { status: 400, title: 'Malformed Request', when: 'the HTTP request cannot be parsed: request line, percent-escapes in the path, `Host`, `Content-Length`' },
  'invalid-id': { status: 400, title: 'Invalid Id', when: 'an image or batch id that does not match its pattern' },
  'invalid-query': { status: 400, title: 'Invalid Query Parameter', when: 'an unknown query parameter or a value out of range (`wait`, `limit`, `status`, `format`, `from`, `to`, `batch`, `updatedBefore`, `maxDistance`)' },
  'invalid-continuation-token': { status: 400, title: 'Invalid Continuation Token', when: 'a `continuationToken` this API did not issue, altered, issued for other filters, or expired: start again without it' },
  'invalid-form': { status: 400, title: 'Invalid Form', when: 'a multipart body that is malformed, or does not have the fields the endpoint needs' },
  'callback-not-allowed': { status: 400, title: 'Callback Not Allowed', when: '`callbackUrl` is not http(s), or reaches a loopback, link-local, platform or (unless allowed) private address' },
  'empty-image': { status: 400, title: 'Empty Image', when: 'the image has 0 bytes' },
  'image-too-large': { status: 413, title: 'Image Too Large', when: 'the image is over `MAX_UPLOAD_BYTES`' },
  'too-many-files': { status: 413, title: 'Too Many Files', when: 'a batch upload with more files than a batch holds (10000)' },
  'unsupported-image-type': { status: 415, title: 'Unsupported Image Type', when: 'the bytes are none of JPEG, PNG, GIF, WebP, TIFF, BMP' },
  'unreadable-image-header': { status: 422, title: 'Unreadable Image Header', when: 'the header cannot be read or gives no dimensions' },
  'too-many-pixels': { status: 422, title: 'Too Many Pixels', when: 'the header gives more than `MAX_IMAGE_PIXELS` pixels' },
  'truncated-image': { status: 422, title: 'Truncated Image', when: 'a JPEG without its end marker, a PNG without a complete `IEND` chunk' },
  'batch-not-retryable': { status: 409, title: 'Batch Not Retryable', when: 'a retry of a batch that has not ended, or that another retry is already moving on' },
  'derivative-expired': { status: 410, title: 'Derivative Expired', when: 'the image is older than the retention policy (`RETENTION_DAYS`): its blobs were deleted and its personal metadata removed' },
  'image-not-analysed': { status: 409, title: 'Image Not Analysed', when: 'near-duplicates of an image that has no perceptual hash (queued, processing or failed): see `imageStatus`' },
  'derivative-not-ready': { status: 404, title: 'Derivative Not Ready', when: 'the image exists but has no such derivative (yet, or it failed): see `imageStatus`' },
  'dependency-unavailable': { status: 503, title: 'Dependency Unavailable', when: 'Cosmos DB or blob storage cannot be reached (or restarted empty and is being set up again): retry after `Retry-After` seconds' },
  'batch-stream-unavailable': { status: 503, title: 'Batch Stream Unavailable', when: 'batch uploads need a batch stream (`EVENTHUB_CONNECTION`)' },
  'upload-rate-exceeded': { status: 429, title: 'Upload Rate Exceeded', when: 'more upload requests this minute than `UPLOAD_RATE_PER_MINUTE` allows one user: retry after `Retry-After` seconds' },
  'upload-quota-exceeded': { status: 429, title: 'Upload Quota Exceeded', when: 'this upload would take the user past `UPLOAD_BYTES_PER_DAY` today (UTC): retry after `Retry-After` seconds, at midnight UTC' },
  'batch-exists': { status: 409, title: 'Batch Exists', when: 'a batch id to register is taken (by another owner, with another item count, or by records sent without registering it)' },
  'authentication-not-configured': { status: 503, title: 'Authentication Not Configured', when: '`AUTH_MODE=easyauth` but App Service Authentication is off (`WEBSITE_AUTH_ENABLED` is not set), so no caller can be trusted' },
} as const satisfies Record<string, { status: number; title: string; when: string }>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

/** Type URIs are identifiers, not addresses: compare them, do not fetch them. */
export const PROBLEM_TYPE_PREFIX = 'urn:image-pipeline:problem:';
export const problemTypeUri = (type: ProblemType) => `${PROBLEM_TYPE_PREFIX}${type}`;

const GENERIC_TYPES: ProblemType[] = [
  'bad-request', 'unauthorized', 'forbidden', 'not-found', 'method-not-allowed', 'request-timeout', 'conflict', 'length-required', 'content-too-large',
  'unsupported-media-type', 'unprocessable-content', 'too-many-requests', 'header-fields-too-large', 'internal-error', 'not-implemented', 'service-unavailable',
];
const GENERIC_BY_STATUS = new Map(GENERIC_TYPES.map((type) => [PROBLEM_TYPES[type].status as number, type]));

/** An error that maps to an RFC 9457 problem response. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Defaults to the generic type of the status. */
    readonly type: ProblemType | undefined = GENERIC_BY_STATUS.get(status),
    /** Extra response headers, such as Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export function toProblem(error: ProblemError, instance?: string): Problem {
  const type = error.type ? problemTypeUri(error.type) : 'about:blank';
  return { ...error.extensions, type, title: error.title, status: error.status, detail: error.detail, instance };
}

/** A problem of a catalogued type: its status and title come from PROBLEM_TYPES. */
export function problem(type: ProblemType, detail: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): ProblemError {
  const { status, title } = PROBLEM_TYPES[type];
  return new ProblemError(status, title, detail, extensions, type, headers);
}

export const badRequest = (detail: string, type: ProblemType = 'bad-request') => problem(type, detail);
export const notFound = (detail: string, type: ProblemType = 'not-found') => problem(type, detail);
