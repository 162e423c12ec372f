import { randomUUID } from 'node:crypto';
import { ProblemError, toProblem } from '../problem';

/**
 * The request shape the API handlers read. `@azure/functions`' HttpRequest has it as is; the local host builds it
 * from Node's IncomingMessage.
 */
export interface ApiRequest {
  method: string;
  url: string;
  headers: Headers;
  params: Record<string, string>;
  body: ReadableStream<Uint8Array> | null;
}

/** Structurally an `@azure/functions` HttpResponseInit. */
export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export const json = (status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});

export function problemResponse(error: ProblemError, request: ApiRequest): ApiResponse {
  return {
    status: error.status,
    headers: { ...error.headers, 'content-type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify(toProblem(error, new URL(request.url).pathname)),
  };
}

/** The origin and route prefix callers used, for Location headers and links. */
export const apiBase = (request: ApiRequest) => `${new URL(request.url).origin}/api`;

/** Every response carries one, problems included, so a caller can quote it and operators find the request's trace. */
export const REQUEST_ID_HEADER = 'x-request-id';

const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NO_TRACE = /^0*$/;

/** The caller's `x-request-id` when it is a usable id, else the trace id of the request (or a new id without one). */
export function requestIdOf(headers: Pick<Headers, 'get'>, traceId?: string): string {
  const given = headers.get(REQUEST_ID_HEADER)?.trim();
  if (given && CALLER_REQUEST_ID.test(given)) return given;
  return traceId && !NO_TRACE.test(traceId) ? traceId : randomUUID().replaceAll('-', '');
}
