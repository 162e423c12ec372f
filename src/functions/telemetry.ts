import { AzureFunctionsInstrumentation } from '@azure/functions-opentelemetry-instrumentation';
import { DefaultAzureCredential } from '@azure/identity';
import { useAzureMonitor } from '@azure/monitor-opentelemetry';
import { trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { loadTelemetrySettings } from '../lib/config';
import { startOtlpTelemetry } from '../lib/otlp';

/**
 * Telemetry for the Functions app, started before any registration (every file in src/functions imports this module
 * first): OpenTelemetry to Azure Monitor with the Functions instrumentation, which makes each invocation's span the
 * parent of the app's spans and so ties them to the host's requests; or OTLP under `func start` when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing. The telemetry is sent with the app's managed identity
 * (AZURE_CLIENT_ID), since Application Insights takes no keys (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
 */
const settings = loadTelemetrySettings();
if (settings.applicationInsights) {
  const { connectionString, entraId } = settings.applicationInsights;
  useAzureMonitor({ azureMonitorExporterOptions: { connectionString, ...(entraId ? { credential: new DefaultAzureCredential() } : {}) } });
  registerInstrumentations({ tracerProvider: trace.getTracerProvider(), instrumentations: [new AzureFunctionsInstrumentation()] });
} else if (settings.otlpEndpoint) {
  startOtlpTelemetry(settings.otlpEndpoint);
}
