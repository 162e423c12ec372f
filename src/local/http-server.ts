import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ApiRequest, ApiResponse } from '../lib/api/http';
import type { Route } from '../lib/api/routes';

export type Dispatch = (route: Route, request: ApiRequest) => Promise<ApiResponse>;

/** Compiles an Azure Functions route template (`images/{id}`) to a matcher for `/api/...` paths. */
function matcher(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const regex = new RegExp(`^/api/${pattern}/?$`);
  return (path) => {
    const match = regex.exec(path);
    return match ? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])])) : undefined;
  };
}

function toApiRequest(req: IncomingMessage, origin: string, params: Record<string, string>): ApiRequest {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', origin).toString(),
    headers,
    params,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
  };
}

function send(res: ServerResponse, response: ApiResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

const problem = (status: number, title: string, detail: string): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/problem+json; charset=utf-8' },
  body: JSON.stringify({ type: 'about:blank', title, status, detail }),
});

/** The local stand-in for the Functions HTTP front end: same routes under /api, same handlers. */
export function createApiServer(routes: Route[], dispatch: Dispatch): Server {
  const compiled = routes.map((route) => ({ route, match: matcher(route.route) }));
  return createServer((req, res) => {
    const origin = `http://${req.headers.host ?? 'localhost'}`;
    const path = new URL(req.url ?? '/', origin).pathname;
    const candidates = compiled.map(({ route, match }) => ({ route, params: match(path) })).filter((c) => c.params);
    const found = candidates.find((c) => c.route.method === req.method);
    const respond = (response: ApiResponse) => {
      // A refused upload may leave body unread: close the connection rather than let it poison the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      send(res, response);
      if (!req.complete) req.resume();
    };
    if (!found) {
      respond(
        candidates.length
          ? { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}.`), headers: { allow: candidates.map((c) => c.route.method).join(', '), 'content-type': 'application/problem+json; charset=utf-8' } }
          : problem(404, 'Not Found', `No endpoint at ${path}.`),
      );
      return;
    }
    dispatch(found.route, toApiRequest(req, origin, found.params!)).then(respond, (error: Error) => {
      respond(problem(500, 'Internal Server Error', error.message));
    });
  });
}
