import { z } from 'zod';
import { badRequest } from '../problem';

/**
 * Query parameters are validated by zod schemas declared next to each handler; the same schemas describe the
 * parameters in the OpenAPI document (src/lib/api/openapi.ts). A value that fails is a 400 invalid-query problem
 * whose detail is the schema's own message.
 */
export function readQuery<S extends z.ZodObject>(schema: S, url: URL, options: { strict?: boolean; blankIsAbsent?: boolean } = {}): z.infer<S> {
  const query = url.searchParams;
  const known = Object.keys(schema.shape);
  if (options.strict) {
    const unknown = [...query.keys()].filter((key) => !known.includes(key) && key !== 'code');
    if (unknown.length) throw badRequest(`Unknown query parameter ${[...new Set(unknown)].map((k) => `"${k}"`).join(', ')}; use ${known.join(', ')}.`, 'invalid-query');
  }
  const values: Record<string, string> = {};
  for (const key of known) {
    const value = query.get(key);
    if (value !== null && !(options.blankIsAbsent && value === '')) values[key] = value;
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw badRequest(parsed.error.issues[0]?.message ?? 'The query is not valid.', 'invalid-query');
  return parsed.data;
}

/** A choice among `values`; the message quotes what was sent. */
export const oneOf = <const T extends readonly [string, ...string[]]>(name: string, values: T, description: string) =>
  z.enum(values, { error: (issue) => `${name} must be one of ${values.join(', ')}; got "${String(issue.input)}".` }).meta({ description });

/** An integer from `min` to `max`, as the query carries it (text). */
export const integerParam = (name: string, min: number, max: number, description: string) =>
  z
    .string()
    .refine((raw) => Number.isInteger(Number(raw)) && Number(raw) >= min && Number(raw) <= max, { error: (issue) => `${name} must be an integer from ${min} to ${max}; got "${String(issue.input)}".` })
    .meta({ type: 'integer', minimum: min, maximum: max, description } as never);

// A date, or a date and time with an offset (Z or ±hh:mm); read as UTC when no time is given.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A time bound: an ISO 8601 date or a date-time with an offset. */
export const timestampParam = (name: string, description: string) =>
  z
    .string()
    .refine((raw) => TIMESTAMP.test(raw) && !Number.isNaN(Date.parse(raw)), {
      error: (issue) => `${name} must be an ISO 8601 date (2024-05-01) or date-time with an offset (2024-05-01T12:00:00Z); got "${String(issue.input)}".`,
    })
    .meta({ description, pattern: TIMESTAMP.source, example: '2024-05-01T12:00:00Z' });

/** A time bound from the query as the stored toISOString() form, so bounds compare correctly as strings. */
export const toIsoBound = (raw: string | undefined) => (raw === undefined ? undefined : new Date(Date.parse(raw)).toISOString());

export const continuationTokenParam = z.string().meta({ description: 'From the previous page (`continuationToken` or `links.next`), with the same filters.' });
