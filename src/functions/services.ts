import type { InvocationContext } from '@azure/functions';
import { loadConfig } from '../lib/config';
import { jsonLogger, type Logger } from '../lib/logger';
import { createServices, type Services } from '../lib/services';

let services: Promise<Services> | undefined;

/** One set of clients per worker process, created on first use; a failed start is retried on the next call. */
export function azureServices(): Promise<Services> {
  services ??= createServices(loadConfig()).catch((error) => {
    services = undefined;
    throw error;
  });
  return services;
}

/** The handlers' logger in Azure: one JSON line per call through the invocation's log (Application Insights traces). */
export const invocationLogger = (context: InvocationContext): Logger =>
  jsonLogger({ info: (line) => context.info(line), warn: (line) => context.warn(line), error: (line) => context.error(line) });
