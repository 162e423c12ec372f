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
