import { ConfigError } from '../lib/config';
import { UnreachableError } from '../lib/services';

/** What `npm start` prints when the host cannot start: one line naming what to change, not a stack trace. */
export function describeStartupError(error: unknown): string {
  if (error instanceof ConfigError) return `Configuration error: ${error.message}`;
  if (error instanceof UnreachableError) return `Cannot start: ${error.message}`;
  if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') return `Cannot start: ${(error as Error).message} (set PORT to a free port)`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
