import { trace } from '@opentelemetry/api';
import { withLogFields, type Logger } from '../logger';
import { problem, ProblemError } from '../problem';
import type { Services } from '../services';
import type { OrchestrationStarter } from '../orchestration/starter';
import { unavailable } from '../unavailable';
import { authorize, uploadLimits, ACCESS_RULES, type Caller } from './access';
import { runBatchSweep } from './batch-sweep';
import { getBatch, listBatches, listBatchItems, retryBatch, uploadBatch } from './batches';
import { SpanKind, SpanStatusCode, inSpan } from '../tracing';
import { problemResponse, REQUEST_ID_HEADER, requestIdOf, type ApiRequest, type ApiResponse } from './http';
import { getDerivative, getImage, uploadImage } from './images';
import { listImages } from './list-images';
import { whoAmI } from './me';
import { openApiDocument } from './openapi';
import { registerBatch } from './register-batch';
import { getSimilarImages } from './similar';
import { getStats } from './stats';
import { webFile, webIndex } from './static-files';

export interface Route {
  /** The Azure Functions function name. */
  name: string;
  method: 'GET' | 'POST' | 'PUT';
  /** Azure Functions route template, below the `api/` prefix. */
  route: string;
  /**
   * `orchestrations` gives the engine's client; only routes marked `orchestrates` may call it. `caller` is who
   * calls, as the route's access rule (src/lib/api/access.ts) let them in.
   */
  handler: (request: ApiRequest, services: Services, orchestrations: () => OrchestrationStarter, caller: Caller, log: Logger) => Promise<ApiResponse>;
  /** Starts orchestrations: Azure registers it with Durable's client input. */
  orchestrates?: true;
  /**
   * Not behind sign-in: the local host's stand-in for the Functions host's blob extension webhook, which a system key
   * guards in Azure (src/local/blob-webhook.ts). Never an API route.
   */
  system?: true;
}

/** Who calls a `system` route: the platform, for every owner. */
const SYSTEM_CALLER: Caller = { principal: { id: 'system', name: 'the Functions host', roles: [] }, everyOwner: true };

/** Every HTTP endpoint, registered by src/functions/http.ts in Azure and served by the local host. */
export const ROUTES: Route[] = [
  { name: 'uploadImage', method: 'POST', route: 'images', handler: uploadImage },
  { name: 'listImages', method: 'GET', route: 'images', handler: listImages },
  { name: 'getImage', method: 'GET', route: 'images/{id}', handler: getImage },
  { name: 'getSimilarImages', method: 'GET', route: 'images/{id}/similar', handler: getSimilarImages },
  { name: 'getImageDerivative', method: 'GET', route: 'images/{id}/{derivative}', handler: getDerivative },
  { name: 'uploadBatch', method: 'POST', route: 'batches', handler: uploadBatch },
  { name: 'registerBatch', method: 'PUT', route: 'batches/{id}', handler: registerBatch },
  { name: 'listBatches', method: 'GET', route: 'batches', handler: listBatches },
  { name: 'getBatch', method: 'GET', route: 'batches/{id}', handler: getBatch },
  { name: 'listBatchItems', method: 'GET', route: 'batches/{id}/items', handler: listBatchItems },
  { name: 'getStats', method: 'GET', route: 'stats', handler: getStats },
  { name: 'retryBatch', method: 'POST', route: 'batches/{id}/retry', handler: retryBatch, orchestrates: true },
  { name: 'sweepBatches', method: 'POST', route: 'batch-sweep', handler: runBatchSweep, orchestrates: true },
  { name: 'whoAmI', method: 'GET', route: 'me', handler: whoAmI },
];

/** The methods a route answers: HEAD with every GET (the host sends the headers only). */
export const httpMethods = (method: Route['method']): Array<'GET' | 'HEAD' | 'POST' | 'PUT'> => (method === 'GET' ? ['GET', 'HEAD'] : [method]);

/**
 * The web app's static files and the API's OpenAPI document (src/functions/web.ts in Azure), served next to ROUTES by
 * the local host. A browser that is not signed in is sent to sign in (their access rule), so App Service
 * Authentication lets them through unsigned.
 */
export const WEB_ROUTES: Route[] = [
  { name: 'webIndex', method: 'GET', route: 'web', handler: webIndex },
  { name: 'webFile', method: 'GET', route: 'web/{file}', handler: webFile },
  { name: 'openApiDocument', method: 'GET', route: 'openapi.json', handler: (request) => openApiDocument([...ROUTES, ...WEB_ROUTES])(request) },
];

const noEngine = (): OrchestrationStarter => {
  throw new Error('This route was registered without the orchestration engine.');
};

/**
 * Runs a handler in a server span (continuing the caller's `traceparent`, or the Functions host's invocation span in
 * Azure) for the caller its access rule lets in (401, 403 or a redirect to sign in otherwise; an upload over the
 * caller's rate limit 429), and answers with an `x-request-id` header: the caller's own when it sent a usable one,
 * else the trace id. ProblemErrors become problem+json; a store that cannot be reached (or that restarted empty,
 * whose containers are then created again) a 503 with Retry-After; anything else a logged 500 problem.
 */
export function handle(
  route: Route,
  request: ApiRequest,
  servicesOrStart: Services | (() => Promise<Services>),
  log: Logger,
  orchestrations: () => OrchestrationStarter = noEngine,
): Promise<ApiResponse> {
  const caller = trace.getActiveSpan() ? undefined : { traceparent: request.headers.get('traceparent') ?? undefined, tracestate: request.headers.get('tracestate') ?? undefined };
  const attributes = { 'http.request.method': request.method, 'http.route': `/api/${route.route}`, 'faas.name': route.name };
  return inSpan(`${request.method} /api/${route.route}`, { kind: SpanKind.SERVER, continues: caller, attributes }, async (span) => {
    const requestId = requestIdOf(request.headers, span.spanContext().traceId);
    span.setAttribute('http.request.id', requestId);
    const response = await withLogFields({ requestId }, () => run(route, request, servicesOrStart, log, orchestrations));
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return { ...response, headers: { ...response.headers, [REQUEST_ID_HEADER]: requestId } };
  });
}

async function run(
  route: Route,
  request: ApiRequest,
  servicesOrStart: Services | (() => Promise<Services>),
  log: Logger,
  orchestrations: () => OrchestrationStarter,
): Promise<ApiResponse> {
  let services: Partial<Services> = {};
  try {
    // In Azure the services start on the first call; a store unreachable then is a 503 like any other time.
    services = typeof servicesOrStart === 'function' ? await servicesOrStart() : servicesOrStart;
    const caller = route.system ? SYSTEM_CALLER : authorize(route.name, request, services.config!.auth);
    if (!('principal' in caller)) return caller;
    if (ACCESS_RULES[route.name]?.upload) await uploadLimits(services as Services, caller).chargeRequest();
    return await route.handler(request, services as Services, orchestrations, caller, log);
  } catch (error) {
    if (error instanceof ProblemError) return problemResponse(error, request);
    const down = unavailable(error);
    if (down?.kind !== 'unreachable' && (await services.recreateMissingStores?.().catch(() => false))) {
      log.warn(`${route.name}: the database or blob containers were missing and have been created again`);
      return problemResponse(problem('dependency-unavailable', 'The database or storage containers were missing (an emulator restarted empty?) and have been created again; retry.', {}, { 'retry-after': '1' }), request);
    }
    if (down) {
      log.warn(`${route.name}: a store is unavailable (${down.kind})`, error);
      return problemResponse(
        problem('dependency-unavailable', 'Cosmos DB or blob storage cannot be reached or is busy right now; retry after the Retry-After seconds.', {}, { 'retry-after': String(down.retryAfterSeconds) }),
        request,
      );
    }
    log.error(`${route.name} failed`, error);
    return problemResponse(problem('internal-error', 'The request could not be completed; it can be retried.'), request);
  }
}
