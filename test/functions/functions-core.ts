import { randomUUID } from 'node:crypto';
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
export function recordRegistrations(): Map<string, Registration> & { systemLog: string[]; programmingModel?: ProgrammingModel } {
  const registrations = Object.assign(new Map<string, Registration>(), { systemLog: [] as string[], programmingModel: undefined as ProgrammingModel | undefined });
  const core = {
    // The worker's own log, which hosts since 4.28 provide (@azure/functions refuses HTTP streams without it).
    log(level: string, category: string, message: string) {
      registrations.systemLog.push(`${level} ${category}: ${message}`);
    },
    registerFunction(metadata: Registration['metadata'], handler: Registration['handler']) {
      registrations.set(metadata.name, { metadata, handler });
      return { dispose() {} };
    },
    setProgrammingModel(model: ProgrammingModel) {
      registrations.programmingModel = model;
    },
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

/** The RPC typed data the host sends for a value (the worker protocol's TypedData, the cases used here). */
export type RpcTypedData =
  | { string: string }
  | { http: Record<string, never> }
  | { json: string }
  | { bytes: Uint8Array }
  | { collectionBytes: { bytes: Uint8Array[] } }
  | { collectionString: { string: string[] } }
  | { collectionSint64: { sint64: number[] } };

/** What the worker asks of @azure/functions for each invocation: its own conversion of the host's RPC request. */
interface ProgrammingModel {
  getInvocationModel(coreContext: unknown): {
    getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
    invokeFunction(context: unknown, inputs: unknown[], handler: Registration['handler']): Promise<unknown>;
    /** For an HTTP function with streaming on, this sends the response through the worker's HTTP proxy. */
    getResponse(context: unknown, result: unknown): Promise<unknown>;
  };
  /** Starts the worker's HTTP proxy when streaming is on: `HttpUri` is where the host then forwards requests. */
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

/**
 * Invokes a registered function as the Node worker does: the host's RPC request (trigger metadata and input data as
 * the host serialises them: .NET objects as PascalCase JSON) goes through @azure/functions' own invocation model,
 * which camel-cases the trigger metadata and converts the inputs, before the handler sees them.
 */
export async function invokeAsWorker(
  registrations: ReturnType<typeof recordRegistrations>,
  name: string,
  request: { triggerMetadata: Record<string, RpcTypedData>; input: RpcTypedData; extraInputs?: Array<{ name: string; data: RpcTypedData }>; invocationId?: string },
): Promise<{ result: unknown; log: string[] }> {
  const registration = registrations.get(name);
  const model = registrations.programmingModel;
  if (!registration || !model) throw new Error(`function ${name} is not registered (or no programming model was set)`);
  const trigger = Object.entries(registration.metadata.bindings).find(([, binding]) => binding.direction === 'in' && String(binding.type).endsWith('Trigger'));
  if (!trigger) throw new Error(`function ${name} has no trigger binding`);
  const log: string[] = [];
  const invocation = model.getInvocationModel({
    invocationId: request.invocationId ?? randomUUID(),
    metadata: registration.metadata,
    request: { triggerMetadata: request.triggerMetadata, inputData: [{ name: trigger[0], data: request.input }, ...(request.extraInputs ?? [])] },
    // The handler's lines as an InvocationContext's logHandler gives them (`level: message`), the library's own marked.
    log: (level: string, category: string, message: string) => log.push(category === 'user' ? `${level}: ${message}` : `${level} ${category}: ${message}`),
  });
  const { context, inputs } = await invocation.getArguments();
  const result = await invocation.invokeFunction(context, inputs, registration.handler);
  await invocation.getResponse(context, result);
  return { result, log };
}
