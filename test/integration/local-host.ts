import { startLocalHost, type LocalHost } from '../../src/local/host';
import type { Logger } from '../../src/lib/logger';
import { recordResponses } from '../support/openapi-recorder';

/** Collects what the handlers log, so tests can assert on it and the run stays quiet. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

/**
 * A local host on a free port with embedded Azurite and Cosmos stand-in, as `npm start` runs it. Every response it
 * sends is checked against the OpenAPI document; stop() fails the suite when one did not match.
 */
export async function startTestHost(env: Record<string, string> = {}, log: Logger = memoryLogger()): Promise<LocalHost & { log: ReturnType<typeof memoryLogger>; contract: ReturnType<typeof recordResponses> }> {
  const host = await startLocalHost({ PORT: '0', BLOB_WATCH_INTERVAL_MS: '50', ...env }, log);
  const contract = recordResponses(host.server);
  const stop = host.stop;
  return Object.assign(host, {
    log: log as ReturnType<typeof memoryLogger>,
    contract,
    async stop() {
      await stop();
      contract.assertValid();
    },
  });
}
