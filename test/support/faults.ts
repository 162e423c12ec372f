/**
 * Fault injection around the in-memory adapters: a proxy that makes chosen methods of a port fail, the next N calls
 * or for good, with errors shaped like the Azure SDKs' (so the code under test classifies them as it would real ones).
 */

/** As @azure/storage-blob's RestError: an HTTP status in `statusCode`. */
export const storageError = (status = 503) => Object.assign(new Error(`Storage answered ${status} (injected)`), { name: 'RestError', statusCode: status });
/** As @azure/cosmos's ErrorResponse: the HTTP status in `code`. */
export const cosmosError = (status = 503) => Object.assign(new Error(`Cosmos DB answered ${status} (injected)`), { code: status });
/** As @azure/cosmos's ErrorResponse for a request throttled after the SDK's own retries: 429 and how long to wait. */
export const cosmosThrottled = (retryAfterInMs?: number) =>
  Object.assign(new Error('Request rate is large (injected)'), { code: 429, ...(retryAfterInMs === undefined ? {} : { retryAfterInMs }) });

interface Rule {
  methods: readonly string[];
  remaining: number;
  error: () => Error;
  when?: (...args: unknown[]) => boolean;
}

export class Faults {
  private rules: Rule[] = [];
  /** Every injected failure, as `method(first argument)`. */
  readonly injected: string[] = [];

  /** Fails the next `times` calls (Infinity: for good) of `methods` whose arguments match `when`. */
  fail(methods: readonly string[], times: number, error: () => Error, when?: (...args: unknown[]) => boolean): this {
    this.rules.push({ methods, remaining: times, error, when });
    return this;
  }

  heal(): void {
    this.rules = [];
  }

  private fault(method: string, args: unknown[]): Error | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.methods.includes(method) && (!r.when || r.when(...args)));
    if (!rule) return undefined;
    rule.remaining--;
    this.injected.push(`${method}(${String(args[0])})`);
    return rule.error();
  }

  wrap<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          const error = this.fault(property, args);
          if (!error) return value.apply(object, args);
          // An async generator (BlobStore.list) fails on its first read, like a listing whose first page fails.
          if (value.constructor.name === 'AsyncGeneratorFunction') return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
          return Promise.reject(error);
        };
      },
    });
  }
}
