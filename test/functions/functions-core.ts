import Module from 'node:module';

export interface Registration {
  metadata: { name: string; bindings: Record<string, Record<string, unknown>> };
  handler: (...args: unknown[]) => Promise<unknown>;
}

/**
 * Provides `@azure/functions-core`, the module the Functions Node worker gives the app at run time, so that the
 * `app.*` registrations in src/functions are recorded (with the binding metadata the host would read) instead of
 * skipped in test mode. Must run before anything calls `app.*`.
 */
export function recordRegistrations(): Map<string, Registration> & { systemLog: string[] } {
  const registrations = Object.assign(new Map<string, Registration>(), { systemLog: [] as string[] });
  const core = {
    // The worker's own log, which hosts since 4.28 provide (@azure/functions refuses HTTP streams without it).
    log(level: string, category: string, message: string) {
      registrations.systemLog.push(`${level} ${category}: ${message}`);
    },
    registerFunction(metadata: Registration['metadata'], handler: Registration['handler']) {
      registrations.set(metadata.name, { metadata, handler });
      return { dispose() {} };
    },
    setProgrammingModel() {},
    getProgrammingModel() {},
    registerHook() {
      return { dispose() {} };
    },
  };
  const resolve = (Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string })._resolveFilename;
  (Module as unknown as { _resolveFilename: typeof resolve })._resolveFilename = (request, ...rest) =>
    request === '@azure/functions-core' ? '@azure/functions-core' : resolve(request, ...rest);
  require.cache['@azure/functions-core'] = { id: '@azure/functions-core', loaded: true, exports: core } as unknown as NodeJS.Module;
  return registrations;
}
