import { AsyncLocalStorage } from 'node:async_hooks';
import { trace } from '@opentelemetry/api';

/**
 * The few log calls the handlers make: a message, then fields (ids, counts) and errors. InvocationContext satisfies
 * it (src/functions hands the handlers a jsonLogger over it), and so does a test's memory logger.
 */
export interface Logger {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** Ids that every line logged inside `withLogFields` carries, such as the request id of the request being handled. */
const scoped = new AsyncLocalStorage<Record<string, string>>();

export const withLogFields = <T>(fields: Record<string, string>, fn: () => T): T => scoped.run({ ...scoped.getStore(), ...fields }, fn);

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** Logs and span errors never carry an address (callback URLs, storage endpoints with tokens): `<url>` in its place. */
export const redactUrls = (text: string) => text.replace(URL_PATTERN, '<url>');

// Long strings are cut: no log line carries a payload, whatever an error message quotes.
const MAX_TEXT = 500;
const text = (value: string) => {
  const redacted = redactUrls(value);
  return redacted.length > MAX_TEXT ? `${redacted.slice(0, MAX_TEXT)}…` : redacted;
};

function describeError(error: Error): Record<string, unknown> {
  const causes = error instanceof AggregateError ? error.errors.slice(0, 3).map((e: unknown) => (e instanceof Error ? text(e.message) : text(String(e)))) : undefined;
  return { name: error.name, message: text(error.message), ...(causes ? { causes } : {}) };
}

/** Only numbers, booleans and short strings go into a line: ids and counts, never bytes or nested payloads. */
function field(value: unknown): unknown {
  if (typeof value === 'string') return text(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (value instanceof Error) return describeError(value);
  if (Array.isArray(value)) return value.slice(0, 20).map(field);
  return undefined;
}

/**
 * One log call as a JSON object: time, level, message, the trace and span ids of the active span, scoped ids
 * (withLogFields), then the call's fields (a plain object) and error (an Error) with URLs redacted.
 */
export function logRecord(level: LogLevel, message: string, args: unknown[], now = new Date()): Record<string, unknown> {
  const span = trace.getActiveSpan()?.spanContext();
  const record: Record<string, unknown> = { time: now.toISOString(), level, message: text(message) };
  if (span && trace.isSpanContextValid(span)) Object.assign(record, { traceId: span.traceId, spanId: span.spanId });
  Object.assign(record, scoped.getStore());
  for (const arg of args) {
    if (arg instanceof Error) record.error = describeError(arg);
    else if (arg && typeof arg === 'object') {
      for (const [key, value] of Object.entries(arg)) {
        const kept = field(value);
        if (kept !== undefined) record[key] = kept;
      }
    } else if (arg !== undefined) record.detail = field(String(arg));
  }
  return record;
}

/** Structured logs: each call becomes one JSON line, handed to `sink` (the console, or an Azure InvocationContext). */
export function jsonLogger(sink: Record<LogLevel, (line: string) => void>): Logger {
  const write = (level: LogLevel) => (message: string, ...args: unknown[]) => sink[level](JSON.stringify(logRecord(level, message, args)));
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

export const consoleLogger: Logger = jsonLogger({
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
});
