import { BLOB_WEBHOOK } from '../../src/lib/names';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument, type OpenApiDocument } from '../../src/lib/api/openapi';
import { ROUTES, WEB_ROUTES } from '../../src/lib/api/routes';

export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Operation {
  id: string;
  method: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, { required?: boolean }> }>;
  pointer: string;
}

const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Checks responses against the OpenAPI document (src/lib/api/openapi.ts) with AJV (JSON Schema 2020-12, as OpenAPI
 * 3.1 uses): the operation must describe the status, every response carries x-request-id and the headers the
 * operation requires, the content type is one it declares, and a JSON body validates against its schema. Responses
 * to paths or methods no operation has must be problem+json.
 */
export function openApiValidator(document: OpenApiDocument = buildOpenApiDocument([...ROUTES, ...WEB_ROUTES])) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document as object, 'openapi.json');
  const compiled = new Map<string, ValidateFunction>();
  const schemaAt = (pointer: string) => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item as Record<string, { operationId: string; responses: Operation['responses'] }>)) {
      const pattern = new RegExp(`^/api${path.replace(/\{\w+\}/g, '[^/]+')}/?$`);
      operations.push({ id: operation.operationId, method: method.toUpperCase(), pattern, responses: operation.responses, pointer: `/paths/${escape(path)}/${method}` });
    }
  }
  const seen = new Map<string, number>();

  function validate(response: RecordedResponse): string[] {
    const problems: string[] = [];
    const where = `${response.method} ${response.path} -> ${response.status}`;
    if (!response.headers['x-request-id']) problems.push(`${where}: no x-request-id header`);
    const method = response.method === 'HEAD' ? 'GET' : response.method;
    const candidates = operations.filter((op) => op.pattern.test(response.path));
    const operation = candidates.find((op) => op.method === method);
    const type = response.headers['content-type']?.split(';')[0]?.trim();
    const hasBody = response.method !== 'HEAD' && response.body.length > 0;
    if (!operation) {
      // No such path or method (404, 405, OPTIONS): the host's own answers, problems or an empty 204.
      if (response.method === 'OPTIONS' || response.path === '/') return problems;
      // The Functions host's own blob extension webhook (the local host's stand-in): outside the API and its document.
      if (response.path === BLOB_WEBHOOK.path) return problems;
      if (type !== 'application/problem+json') problems.push(`${where}: not an operation, yet not problem+json (${type})`);
      else if (hasBody) check(`/components/schemas/Problem`, response.body, where, problems);
      return problems;
    }
    seen.set(operation.id, (seen.get(operation.id) ?? 0) + 1);
    const described = operation.responses[String(response.status)];
    if (!described) {
      problems.push(`${where}: status ${response.status} is not described for ${operation.id}`);
      return problems;
    }
    for (const [name, header] of Object.entries(described.headers ?? {})) {
      if (header.required && name !== 'x-request-id' && response.headers[name.toLowerCase()] === undefined) problems.push(`${where}: no ${name} header`);
    }
    if (!hasBody) return problems;
    const declared = Object.keys(described.content ?? {});
    const match = declared.find((d) => d === type || (d.endsWith('/*') && type?.startsWith(d.slice(0, -1))));
    if (!match) {
      problems.push(`${where}: content type ${type} is not one of ${declared.join(', ') || 'none'}`);
      return problems;
    }
    if (match.endsWith('json')) check(`${operation.pointer}/responses/${response.status}/content/${escape(match)}/schema`, response.body, where, problems);
    return problems;
  }

  function check(pointer: string, body: Buffer, where: string, problems: string[]): void {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      problems.push(`${where}: the body is not JSON`);
      return;
    }
    const schema = schemaAt(pointer);
    if (!schema(value)) problems.push(`${where}: ${ajv.errorsText(schema.errors, { separator: '; ' })}`);
  }

  return { validate, seen, operations };
}

/**
 * Records every response the local host's HTTP server sends and validates it against the OpenAPI document, so the
 * integration suites that start a host check the API contract on every call they make.
 */
export function recordResponses(server: Server, validator = openApiValidator()) {
  const violations: string[] = [];
  let count = 0;
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    let status = 200;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    const writeHead = res.writeHead.bind(res) as (status: number, headers?: OutgoingHttpHeaders) => ServerResponse;
    res.writeHead = ((code: number, given?: OutgoingHttpHeaders) => {
      status = code;
      headers = Object.fromEntries(Object.entries({ ...res.getHeaders(), ...given }).map(([name, value]) => [name.toLowerCase(), String(value)]));
      return writeHead(code, given);
    }) as typeof res.writeHead;
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk as Uint8Array));
      return end(chunk);
    }) as typeof res.end;
    res.once('finish', () => {
      count++;
      const path = (req.url ?? '/').split('?')[0];
      violations.push(...validator.validate({ method: req.method ?? 'GET', path, status, headers, body: Buffer.concat(chunks) }));
    });
  });
  return {
    violations,
    get count() {
      return count;
    },
    seen: validator.seen,
    /** Throws when a response did not match the document. */
    assertValid() {
      if (violations.length) throw new Error(`${violations.length} responses do not match the OpenAPI document:\n${violations.slice(0, 20).join('\n')}`);
    },
  };
}
