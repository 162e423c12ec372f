import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { finished, type Readable } from 'node:stream';
import { REQUEST_ID_HEADER, requestIdOf, type ApiRequest, type ApiResponse } from '../lib/api/http';
import { httpMethods, type Route } from '../lib/api/routes';
import { problem, ProblemError, toProblem, type ProblemType } from '../lib/problem';

export type Dispatch = (route: Route, request: ApiRequest) => Promise<ApiResponse>;

/** A page of the local host itself, outside /api (the development sign-in): never part of the app in Azure. */
export interface LocalPage {
  path: string;
  methods: Array<'GET' | 'POST'>;
  handler: (request: ApiRequest) => Promise<ApiResponse>;
}

export interface ApiServerOptions {
  /** A request whose body stops arriving for this long (a Content-Length longer than the body) is answered 408. */
  bodyTimeoutMs: number;
  localPages?: LocalPage[];
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/**
 * Compiles an Azure Functions route template (`images/{id}`) to a matcher for `/api/...` paths; a template that starts
 * with `/` is a path of its own (the host's runtime endpoints, such as the blob extension webhook).
 */
function matcher(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(template.startsWith('/') ? `^${pattern}/?$` : `^/api/${pattern}/?$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return undefined;
    try {
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    } catch {
      throw problem('malformed-request', `The path ${path} has a malformed percent-escape.`);
    }
  };
}

/** The request's absolute URL, from its target and Host header; a 400 problem when either is malformed. */
function requestUrl(req: IncomingMessage): URL {
  const host = req.headers.host ?? 'localhost';
  try {
    const origin = new URL(`http://${host}`);
    if (origin.host !== host.toLowerCase().replace(/:80$/, '')) throw new TypeError('not a plain host');
    const target = req.url ?? '/';
    return target.startsWith('/') ? new URL(`${origin.origin}${target}`) : new URL(target);
  } catch {
    throw problem('malformed-request', `The request target or Host header is malformed (Host: ${JSON.stringify(host)}).`);
  }
}

/**
 * The request body as a web stream of the chunks Node received, each passed on as it is. Readable.toWeb copies every
 * chunk (to detach it from a pool the HTTP parser does not use here): for a 200 MB upload that is 200 MB more garbage
 * for V8 to collect when it chooses, held as RSS until then. Back-pressure as with toWeb: the request is paused while
 * its reader has a high-water mark of bytes unread.
 */
function bodyStream(req: Readable): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  req.pause();
  req.on('data', (chunk: Buffer) => {
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  });
  // Ended, or aborted by the client, destroyed by the body timeout, failed: the reader sees which.
  const cleanup = finished(req, (error) => {
    cleanup();
    // Once settled, a late error event must not throw (toWeb does the same).
    req.on('error', () => undefined);
    if (cancelled) return;
    if (error) controller.error(error);
    else controller.close();
  });
  return new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => void req.resume(),
      cancel: (reason) => {
        cancelled = true;
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: req.readableHighWaterMark }),
  );
}

function toApiRequest(req: IncomingMessage, url: URL, params: Record<string, string>): ApiRequest {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return {
    // HEAD runs the GET handler; Node sends the headers only.
    method: req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET'),
    url: url.toString(),
    headers,
    params,
    body: hasBody ? bodyStream(req) : null,
  };
}

function problemResponse(error: ProblemError, instance?: string, headers: Record<string, string> = {}): ApiResponse {
  return { status: error.status, headers: { ...error.headers, ...headers, 'content-type': PROBLEM_JSON }, body: JSON.stringify(toProblem(error, instance)) };
}

function send(req: IncomingMessage, res: ServerResponse, response: ApiResponse): void {
  if (res.headersSent || res.destroyed) return;
  const body = response.body ?? '';
  const headers: Record<string, string | number> = { ...response.headers };
  // The handlers set it (src/lib/api/routes.ts); the host's own answers (no such route, 405, 408) get one here.
  headers[REQUEST_ID_HEADER] ??= requestIdOf({ get: (name) => [req.headers[name] ?? null].flat()[0] });
  if (response.status !== 204 && response.status !== 304) headers['content-length'] = Buffer.byteLength(body);
  // A refused upload may leave its body unread: close the connection rather than let it poison the next request.
  if (!req.complete) headers.connection = 'close';
  res.writeHead(response.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
  if (!req.complete) req.resume();
}

/** What Node's HTTP parser refused, as a status and problem type. */
function parserProblem(error: Error & { code?: string; rawPacket?: Buffer }): { type: ProblemType; detail: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { type: 'header-fields-too-large', detail: 'The request headers are over the 16 KB limit.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { type: 'request-timeout', detail: 'The request did not arrive in time.' };
    case 'HPE_INVALID_METHOD': {
      const method = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) \S+ HTTP\/1\.[01]\r?\n/.exec(error.rawPacket?.toString('latin1') ?? '')?.[1];
      if (method) return { type: 'not-implemented', detail: `The method ${method} is not one this server implements.` };
      return { type: 'malformed-request', detail: 'The request line cannot be parsed.' };
    }
    default:
      return { type: 'malformed-request', detail: `The request cannot be parsed: ${error.message.replace(/^Parse Error: /, '')}.` };
  }
}

/** Answers a request Node's parser refused, with problem+json, where nothing has been written on the socket yet. */
function answerClientError(error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const { type, detail } = parserProblem(error);
  const { status, body } = problemResponse(problem(type, detail));
  const requestId = requestIdOf({ get: () => null });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${PROBLEM_JSON}\r\ncontent-length: ${Buffer.byteLength(body!)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * The body must keep coming: a client that stops sending (a Content-Length longer than the body) gets a 408 and the
 * connection is closed. Only the time between bytes counts, and only until the body is complete; socket timeouts are
 * not used, since Node destroys a timed-out socket even while a handler is still working on its request.
 */
function watchBody(req: IncomingMessage, res: ServerResponse, timeoutMs: number, respond: (response: ApiResponse) => void): void {
  const socket = req.socket;
  const stop = () => {
    clearTimeout(timer);
    socket.off('data', onData);
  };
  const onData = () => timer.refresh();
  const timer = setTimeout(() => {
    stop();
    if (req.complete || res.headersSent) return;
    respond(problemResponse(problem('request-timeout', `The request body stopped arriving: no bytes for ${timeoutMs} ms.`)));
    res.once('finish', () => socket.destroy());
  }, timeoutMs);
  socket.on('data', onData);
  res.once('close', stop);
}

/**
 * The local stand-in for the Functions HTTP front end: same routes under /api, same handlers. Whatever a client
 * sends, it answers with problem+json and keeps serving; nothing a request carries can throw out of here.
 */
export function createApiServer(routes: Route[], dispatch: Dispatch, options: ApiServerOptions): Server {
  const compiled = routes.map((route) => ({ route, match: matcher(route.route) }));
  const allowed = (methods: Array<Route['method'] | LocalPage['methods'][number]>) => [...new Set(methods.flatMap(httpMethods)), 'OPTIONS'].join(', ');

  function route(req: IncomingMessage, url: URL): ApiResponse | { route: Route; request: ApiRequest } | { page: LocalPage; request: ApiRequest } {
    const path = url.pathname;
    const page = options.localPages?.find((p) => p.path === path);
    if (page) {
      const allow = allowed(page.methods);
      if (req.method === 'OPTIONS') return { status: 204, headers: { allow } };
      if (!page.methods.includes((req.method === 'HEAD' ? 'GET' : req.method) as LocalPage['methods'][number])) {
        return problemResponse(problem('method-not-allowed', `${req.method} is not allowed on ${path}.`), path, { allow });
      }
      return { page, request: toApiRequest(req, url, {}) };
    }
    if (path === '/') {
      // Nothing lives at the root locally: send people to the web app.
      if (req.method === 'GET' || req.method === 'HEAD') return { status: 302, headers: { location: '/api/web/', 'cache-control': 'no-store' } };
      if (req.method === 'OPTIONS') return { status: 204, headers: { allow: allowed(['GET']) } };
      return problemResponse(problem('method-not-allowed', `${req.method} is not allowed on /.`), path, { allow: allowed(['GET']) });
    }
    const candidates = compiled.map(({ route, match }) => ({ route, params: match(path) })).filter((c) => c.params);
    if (!candidates.length) return problemResponse(problem('not-found', `No endpoint at ${path}.`), path);
    const allow = allowed(candidates.map((c) => c.route.method));
    if (req.method === 'OPTIONS') return { status: 204, headers: { allow } };
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const found = candidates.find((c) => c.route.method === method);
    if (!found) return problemResponse(problem('method-not-allowed', `${req.method} is not allowed on ${path}.`), path, { allow });
    return { route: found.route, request: toApiRequest(req, url, found.params!) };
  }

  const server = createServer((req, res) => {
    const respond = (response: ApiResponse) => {
      try {
        send(req, res, response);
      } catch (error) {
        // Headers a handler built from request data that Node refuses to send: still an answer, never a crash.
        if (!res.headersSent) send(req, res, problemResponse(problem('internal-error', `The response could not be sent: ${(error as Error).message}`)));
      }
    };
    if (!req.complete) watchBody(req, res, options.bodyTimeoutMs, respond);
    try {
      const url = requestUrl(req);
      const next = route(req, url);
      if ('status' in next) return respond(next);
      ('page' in next ? next.page.handler(next.request) : dispatch(next.route, next.request)).then(respond, (error: Error) => {
        respond(problemResponse(error instanceof ProblemError ? error : problem('internal-error', error.message), url.pathname));
      });
    } catch (error) {
      const known = error instanceof ProblemError ? error : problem('internal-error', (error as Error).message);
      respond(problemResponse(known));
    }
  });
  server.on('clientError', answerClientError);
  return server;
}
