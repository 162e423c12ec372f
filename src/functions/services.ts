import { loadConfig } from '../lib/config';
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
