import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { MAX_BATCH_ITEMS } from '../batch/record';
import { PROBLEM_TYPES, problemTypeUri, type ProblemType } from '../problem';
import { BatchAccepted, BatchIdParam, BatchItemsPage, BatchPage, BatchProgress, BatchRetryAccepted, ListBatchesQuery, ListBatchItemsQuery } from './batches';
import { apiBase, json, REQUEST_ID_HEADER, type ApiRequest, type ApiResponse } from './http';
import { ImageResult } from './image-view';
import { DerivativeParam, ImageIdParam, MAX_WAIT_SECONDS, UploadImageQuery } from './images';
import { ImagePage, ListImagesQuery } from './list-images';
import { MAX_BATCH_UPLOAD_BYTES } from './read-form';
import { Me } from './me';
import { BatchRegistration, RegisteredBatch } from './register-batch';
import { SweepOutcome } from './batch-sweep';
import { SimilarImages, similarQuery } from './similar';
import { StatsResult, statsQuery } from './stats';
import { CONTENT_TYPES } from './static-files';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas the handlers validate requests with and
 * type their responses by (@asteasolutions/zod-to-openapi). Every route of ROUTES and WEB_ROUTES has an entry in
 * ROUTE_DOCS: test/api/openapi.test.ts fails for a route without one, and checks every response the integration
 * tests see against the document.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: 'images' | 'batches' | 'statistics' | 'users' | 'operations' | 'web app';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { description: string; content: Record<string, z.ZodType> };
  /** Success and redirect answers; problems are described from `problems`. */
  responses: Record<number, { description: string; content?: Record<string, z.ZodType>; headers?: Record<string, string> }>;
  /** The problem types the route answers with, besides those every route may answer with (COMMON_PROBLEMS). */
  problems: ProblemType[];
  /** A web page: a browser that is not signed in is redirected to sign in (302) rather than answered 401. */
  page?: true;
  /** An upload: it counts against the caller's upload rate and quota (429). */
  upload?: true;
}

// The registry registers named components through zod's `.openapi()`, which this adds.
extendZodWithOpenApi(z);

const binary = (description: string) => z.custom<Uint8Array>().meta({ type: 'string', format: 'binary', description } as never);
const location = 'The absolute URL of the resource, on the host and port the request was made to.';

/** Problems of the front end and the handler wrapper (src/lib/api/routes.ts), on any route. */
const COMMON_PROBLEMS: ProblemType[] = ['malformed-request', 'internal-error', 'dependency-unavailable', 'authentication-not-configured'];
/** Problems of the access rules (src/lib/api/access.ts): every route but the pages, which redirect to sign in. */
const ACCESS_PROBLEMS: ProblemType[] = ['unauthorized', 'forbidden'];
const UPLOAD_PROBLEMS: ProblemType[] = ['upload-rate-exceeded', 'upload-quota-exceeded'];
const BODY_PROBLEMS: ProblemType[] = ['length-required', 'content-too-large', 'unsupported-media-type', 'request-timeout'];

export const Problem = z
  .looseObject({
    type: z.string().meta({ description: 'urn:image-pipeline:problem:<name>: compare it, do not fetch it.' }),
    title: z.string(),
    status: z.int(),
    detail: z.string().meta({ description: 'What to change, in English that may change: branch on `type`.' }),
    instance: z.string().optional().meta({ description: 'The request path.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  uploadImage: {
    tag: 'images',
    summary: 'Upload one image',
    description:
      'The image as the raw body (an image/* or application/octet-stream content type) or as multipart/form-data with exactly one file field. The type is sniffed from the bytes (JPEG, PNG, GIF, WebP, TIFF, BMP). Chunked bodies are refused: send Content-Length.',
    query: UploadImageQuery,
    body: {
      description: 'The image.',
      content: {
        'image/*': binary('The image bytes.'),
        'application/octet-stream': binary('The image bytes.'),
        'multipart/form-data': z.record(z.string(), binary('The image file.')).meta({ description: 'Exactly one file field (any name); text fields are ignored.' }),
      },
    },
    responses: {
      200: { description: `Processed within \`wait\` (at most ${MAX_WAIT_SECONDS} s): the final result.`, content: { 'application/json': ImageResult }, headers: { location } },
      202: { description: 'Accepted and queued: poll `Location` (or `links.self`).', content: { 'application/json': ImageResult }, headers: { location } },
    },
    problems: ['invalid-query', 'invalid-form', 'empty-image', 'image-too-large', 'unsupported-image-type', 'unreadable-image-header', 'too-many-pixels', 'truncated-image', ...BODY_PROBLEMS],
    upload: true,
  },
  listImages: {
    tag: 'images',
    summary: 'List images, newest first',
    description: 'Single uploads and batch items, filtered, a page at a time. A refused continuation token means: start again without it.',
    query: ListImagesQuery,
    responses: { 200: { description: 'A page of images.', content: { 'application/json': ImagePage } } },
    problems: ['invalid-query', 'invalid-continuation-token'],
  },
  getImage: {
    tag: 'images',
    summary: 'One image: status and result',
    params: z.object({ id: ImageIdParam }),
    responses: { 200: { description: 'The image.', content: { 'application/json': ImageResult } } },
    problems: ['invalid-id', 'not-found'],
  },
  getSimilarImages: {
    tag: 'images',
    summary: "An image's near-duplicates",
    description: 'Images whose perceptual hashes differ from this one\'s in at most `maxDistance` bits, nearest first, from the de-identified facts.',
    params: z.object({ id: ImageIdParam }),
    query: similarQuery,
    responses: { 200: { description: 'The near-duplicates.', content: { 'application/json': SimilarImages } } },
    problems: ['invalid-id', 'not-found', 'invalid-query', 'image-not-analysed'],
  },
  getImageDerivative: {
    tag: 'images',
    summary: "An image's thumbnail or preview",
    description: "JPEG, quality 80, EXIF stripped: this derivative's bytes alone (an image's derivatives are stored together, in one blob). `derivative-not-ready` (404, with `imageStatus`) while the image is not processed, or when it failed; `derivative-expired` (410) once the retention sweep deleted it.",
    params: z.object({ id: ImageIdParam, derivative: DerivativeParam }),
    responses: { 200: { description: 'The JPEG bytes.', content: { 'image/jpeg': binary('A JPEG image.') }, headers: { etag: "The derivative's own ETag: it changes when the image is processed again." } } },
    problems: ['invalid-id', 'not-found', 'derivative-not-ready', 'derivative-expired'],
  },
  uploadBatch: {
    tag: 'batches',
    summary: 'Upload a batch of images',
    description: `multipart/form-data, one file field per image (up to ${MAX_BATCH_ITEMS}, ${MAX_BATCH_UPLOAD_BYTES / 1024 / 1024} MB a request) and an optional callbackUrl field. The files become batch records on the batch stream, as a Kafka producer sends them.`,
    body: {
      description: 'The images and an optional callback.',
      content: {
        'multipart/form-data': z
          .object({ callbackUrl: z.url().optional().meta({ description: 'POSTed the summary when the batch ends (http/https; no loopback, link-local or private address unless allowed).' }) })
          .catchall(binary('One image file.')),
      },
    },
    responses: { 202: { description: 'Accepted: follow `Location` for progress.', content: { 'application/json': BatchAccepted }, headers: { location } } },
    problems: ['invalid-form', 'too-many-files', 'callback-not-allowed', 'batch-stream-unavailable', ...BODY_PROBLEMS],
    upload: true,
  },
  registerBatch: {
    tag: 'batches',
    summary: 'Register a batch before sending its records through Kafka',
    description:
      'Kafka records cannot say who sent them: register the batch id first. The answer holds the ingest token; records carrying it in the `ip-batch-token` header join the batch and belong to the caller, records without it are refused. The same registration again by the same owner answers 200 with the same token.',
    params: z.object({ id: BatchIdParam }),
    body: { description: 'The registration.', content: { 'application/json': BatchRegistration } },
    responses: {
      201: { description: 'Registered.', content: { 'application/json': RegisteredBatch }, headers: { location } },
      200: { description: 'Registered before, by the caller, with the same item count.', content: { 'application/json': RegisteredBatch }, headers: { location } },
    },
    problems: ['invalid-id', 'bad-request', 'callback-not-allowed', 'batch-exists', ...BODY_PROBLEMS],
    upload: true,
  },
  listBatches: {
    tag: 'batches',
    summary: 'List batches, least recently changed first',
    description: 'For operators: `?status=receiving&updatedBefore=...` finds stuck batches.',
    query: ListBatchesQuery,
    responses: { 200: { description: 'A page of batches.', content: { 'application/json': BatchPage } } },
    problems: ['invalid-query', 'invalid-continuation-token'],
  },
  getBatch: {
    tag: 'batches',
    summary: 'A batch: progress, then its summary',
    params: z.object({ id: BatchIdParam }),
    responses: { 200: { description: 'The batch.', content: { 'application/json': BatchProgress } } },
    problems: ['invalid-id', 'not-found'],
  },
  listBatchItems: {
    tag: 'batches',
    summary: "A batch's items in index order",
    params: z.object({ id: BatchIdParam }),
    query: ListBatchItemsQuery,
    responses: { 200: { description: 'A page of items, each an image result with its index.', content: { 'application/json': BatchItemsPage } } },
    problems: ['invalid-id', 'not-found', 'invalid-query', 'invalid-continuation-token'],
  },
  retryBatch: {
    tag: 'batches',
    summary: 'Process an ended batch again',
    description: 'Items that failed with their image stored are processed anew; succeeded items stay; the batch ends with a new summary.',
    params: z.object({ id: BatchIdParam }),
    responses: { 202: { description: 'The retry started.', content: { 'application/json': BatchRetryAccepted }, headers: { location } } },
    problems: ['invalid-id', 'not-found', 'batch-not-retryable'],
  },
  getStats: {
    tag: 'statistics',
    summary: 'Statistics for analysts',
    description: 'Counts by status, format and day, processing-time percentiles, histograms, the duplicate rate and the top failure reasons, over UTC days `from` (inclusive) to `to` (exclusive), at most 366 days (default: the last 30), or over one batch.',
    query: statsQuery,
    responses: { 200: { description: 'The statistics.', content: { 'application/json': StatsResult } } },
    problems: ['invalid-query'],
  },
  sweepBatches: {
    tag: 'operations',
    summary: 'Run the batch sweep now',
    description: 'What the maintenance timer does every minute: closes batches whose receive window ran out, starts or fails batches stuck in processing.',
    responses: { 200: { description: 'What the sweep did.', content: { 'application/json': SweepOutcome } } },
    problems: [],
  },
  whoAmI: {
    tag: 'users',
    summary: 'Who the app takes the caller to be',
    responses: { 200: { description: 'The signed-in principal.', content: { 'application/json': Me } } },
    problems: [],
  },
  webIndex: {
    tag: 'web app',
    page: true,
    summary: 'The web app: to its start page',
    responses: { 302: { description: 'To index.html, with the query kept (not signed in: to sign in).', headers: { location: 'The start page, or the sign-in page.' } } },
    problems: [],
  },
  webFile: {
    tag: 'web app',
    page: true,
    summary: 'One file of the web app',
    params: z.object({ file: z.string().meta({ description: 'A file name: one path segment, such as index.html or api.html.' }) }),
    responses: {
      200: {
        description: 'The file, with an ETag.',
        content: Object.fromEntries([...new Set(Object.values(CONTENT_TYPES).map((type) => type.split(';')[0]))].map((type) => [type, binary('The file.')])),
        headers: { etag: 'Send it back as If-None-Match.' },
      },
      302: { description: 'Not signed in: to sign in, and back here afterwards.', headers: { location: 'The sign-in page.' } },
      304: { description: 'Not modified (If-None-Match matched).' },
    },
    problems: ['not-found'],
  },
  openApiDocument: {
    tag: 'web app',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI document, with this host as its server.', content: { 'application/json': z.looseObject({ openapi: z.literal('3.1.0') }) } } },
    problems: [],
  },
};

/** Problem responses by status: each lists exactly the problem types the route answers with at that status. */
function problemResponses(types: ProblemType[]) {
  const byStatus = new Map<number, ProblemType[]>();
  for (const type of [...new Set(types)]) {
    const { status } = PROBLEM_TYPES[type];
    byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: list.map((type) => `\`${type}\`: ${PROBLEM_TYPES[type].when}`).join('; '),
        headers: status === 503 ? z.object({ 'retry-after': z.string().meta({ description: 'Seconds to wait before retrying.' }) }) : undefined,
        content: { 'application/problem+json': { schema: Problem.extend({ type: z.enum(list.map(problemTypeUri) as [string, ...string[]]), status: z.literal(status) }) } },
      },
    ]),
  );
}

const headerObject = (headers: Record<string, string> = {}) =>
  z.object({
    [REQUEST_ID_HEADER]: z.string().meta({ description: 'The request id: yours (x-request-id) when usable, else the trace id. Quote it when reporting a problem.' }),
    ...Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, z.string().meta({ description })])),
  });

/** The document for routes `{ name, method, route }` (ROUTES and WEB_ROUTES): one operation per route. */
export function buildOpenApiDocument(routes: Array<{ name: string; method: string; route: string }>, server = '/api') {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', Problem);
  registry.registerComponent('securitySchemes', 'entraId', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An Entra ID access token for the app (scope `api://<AUTH client id>/.default`), or the sign-in cookie of a browser. The local host in AUTH_MODE=open needs none.',
  });
  for (const route of routes) {
    const doc = ROUTE_DOCS[route.name];
    if (!doc) throw new Error(`Route ${route.name} (${route.method} /api/${route.route}) has no entry in ROUTE_DOCS (src/lib/api/openapi.ts).`);
    const responses = Object.fromEntries(
      Object.entries(doc.responses).map(([status, answer]) => [
        status,
        {
          description: answer.description,
          headers: headerObject(answer.headers),
          ...(answer.content ? { content: Object.fromEntries(Object.entries(answer.content).map(([type, schema]) => [type, { schema }])) } : {}),
        },
      ]),
    );
    registry.registerPath({
      operationId: route.name,
      method: route.method.toLowerCase() as 'get' | 'post' | 'put',
      path: `/${route.route}`,
      tags: [doc.tag],
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      security: [{ entraId: [] }],
      request: {
        ...(doc.params ? { params: doc.params } : {}),
        ...(doc.query ? { query: doc.query } : {}),
        ...(doc.body ? { body: { description: doc.body.description, required: true, content: Object.fromEntries(Object.entries(doc.body.content).map(([type, schema]) => [type, { schema }])) } } : {}),
      },
      responses: {
        ...responses,
        ...problemResponses([...doc.problems, ...(doc.page ? [] : ACCESS_PROBLEMS), ...(doc.upload ? UPLOAD_PROBLEMS : []), ...COMMON_PROBLEMS]),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Image Pipeline API',
      version: '1',
      description:
        'Upload images one at a time or in batches; read results, derivatives and batch summaries. Every GET also answers HEAD. Errors are RFC 9457 problem+json with a stable `type`. Every response carries `x-request-id`; send `traceparent` to join your trace.',
    },
    servers: [{ url: server }],
    security: [{ entraId: [] }],
    tags: [
      { name: 'images', description: 'Single uploads and image results.' },
      { name: 'batches', description: 'Batch uploads, progress, summaries and retries.' },
      { name: 'statistics', description: 'Statistics for analysts, from de-identified aggregates.' },
      { name: 'users', description: 'Who the caller is.' },
      { name: 'operations', description: 'For operators.' },
      { name: 'web app', description: 'The web app and this document.' },
    ],
  });
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

let cached: { key: string; text: string } | undefined;

/** GET /api/openapi.json: the document (built once per process), with the caller's host as its server. */
export function openApiDocument(routes: Array<{ name: string; method: string; route: string }>) {
  return async (request: ApiRequest): Promise<ApiResponse> => {
    const key = routes.map((route) => `${route.name} ${route.method} ${route.route}`).join('\n');
    if (cached?.key !== key) cached = { key, text: JSON.stringify(buildOpenApiDocument(routes)) };
    const document = JSON.parse(cached.text) as OpenApiDocument;
    return json(200, { ...document, servers: [{ url: apiBase(request) }] }, { 'cache-control': 'no-cache' });
  };
}
