import {
  context,
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { redactUrls } from './logger';

/**
 * Tracing through the OpenTelemetry API only: whatever provider the process registered (Azure Monitor in Azure, OTLP
 * or a test's in-memory exporter locally) records the spans; without one they cost nothing. Work that continues
 * later elsewhere (the blob trigger after an upload, the orchestration after ingest) keeps the W3C trace context
 * with its data and continues the same trace from it.
 */
export const TRACER_NAME = 'image-pipeline';

/** A span's context as W3C trace-context fields, kept with an upload (blob metadata) or a batch (its document). */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

// W3C Trace Context: version-traceid-parentid-flags; versions after 00 may append fields, ff is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The active span's trace context, or undefined when nothing is being traced. */
export function currentTraceContext(from: Context = context.active()): TraceContext | undefined {
  const span = trace.getSpanContext(from);
  if (!span || !trace.isSpanContextValid(span)) return undefined;
  const traceparent = `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
  const tracestate = span.traceState?.serialize();
  return { traceparent, ...(tracestate ? { tracestate } : {}) };
}

/** The context a stored or received trace context continues: the root context when there is none or it is malformed. */
export function contextOf(stored: Partial<TraceContext> | undefined): Context {
  const match = TRACEPARENT.exec(stored?.traceparent?.trim() ?? '');
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5])) return ROOT_CONTEXT;
  const span = { traceId: match[2], spanId: match[3], traceFlags: parseInt(match[4], 16) & 1, isRemote: true, ...(stored?.tracestate ? { traceState: createTraceState(stored.tracestate) } : {}) };
  return trace.isSpanContextValid(span) ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}

const hasSpan = (ctx: Context) => {
  const span = trace.getSpanContext(ctx);
  return span !== undefined && trace.isSpanContextValid(span);
};

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /**
   * The trace to continue: a stored context (the upload's, the batch's). The span then links the active span (the
   * trigger's invocation in Azure), so both traces lead to each other. Without one, the span is a child of the active span.
   */
  continues?: Partial<TraceContext>;
}

/** Runs `fn` in a new active span that ends with it; an error marks the span failed (message without URLs) and is rethrown. */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const stored = contextOf(options.continues);
  const active = context.active();
  const continuing = hasSpan(stored);
  const links: Link[] = continuing && hasSpan(active) ? [{ context: trace.getSpanContext(active)! }] : [];
  const parent = continuing ? stored : active;
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const message = redactUrls(error instanceof Error ? error.message : String(error));
      span.recordException({ name: error instanceof Error ? error.name : 'Error', message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode };
