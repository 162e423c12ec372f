import { startLocalHost, type LocalHost } from '../../src/local/host';
import type { Logger } from '../../src/lib/logger';

/** Collects what the handlers log, so tests can assert on it and the run stays quiet. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

/** A local host on a free port with embedded Azurite and Cosmos stand-in, as `npm start` runs it. */
export async function startTestHost(env: Record<string, string> = {}): Promise<LocalHost & { log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const host = await startLocalHost({ PORT: '0', BLOB_WATCH_INTERVAL_MS: '50', ...env }, log);
  return Object.assign(host, { log });
}
