import { context, metrics as metricsApi, propagation, trace } from '@opentelemetry/api';
import { metrics, node, resources, tracing } from '@opentelemetry/sdk-node';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

export interface Telemetry {
  /** Exports what is still buffered and unregisters the providers. */
  shutdown(): Promise<void>;
}

/**
 * Traces and metrics to an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT): the local host's telemetry, and the
 * Functions app's under `func start` without Application Insights. Registers the global providers, the
 * AsyncLocalStorage context manager and the W3C propagator.
 */
export function startOtlpTelemetry(endpoint: string, options: { metricIntervalMs?: number } = {}): Telemetry {
  const resource = resources.resourceFromAttributes({ 'service.name': 'image-pipeline' });
  const tracerProvider = new node.NodeTracerProvider({ resource, spanProcessors: [new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))] });
  tracerProvider.register();
  const meterProvider = new metrics.MeterProvider({
    resource,
    readers: [new metrics.PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }), exportIntervalMillis: options.metricIntervalMs ?? 60_000 })],
  });
  metricsApi.setGlobalMeterProvider(meterProvider);
  return {
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metricsApi.disable();
      propagation.disable();
      context.disable();
    },
  };
}
