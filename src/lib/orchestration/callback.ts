import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkCallbackUrl, type CallbackPolicy, type Resolver } from '../callback-address';

const TIMEOUT_MS = 10_000;

export interface CallbackResult {
  delivered: boolean;
  status?: number;
  /** Why it was not delivered, without the URL, its host or its address. */
  error?: string;
  at: string;
}

/** A lookup that answers every name with the one address already checked: the connection cannot go anywhere else. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as (error: null, addresses: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

function post(url: URL, address: string, family: 4 | 6, body: string): Promise<number> {
  const options: RequestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    // No pooled sockets: a kept-alive one could have been opened to an address checked for another callback.
    agent: false,
    lookup: pinnedLookup(address, family),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  };
  return new Promise((resolve, reject) => {
    // Certificates are still checked against the URL's host name (SNI); only the name lookup is pinned.
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * POSTs the batch result once; never throws, since a callback must not fail (or retry) the batch. Redirects are not
 * followed. The URL was checked when it was submitted; it is checked again here, where the request is made.
 */
export async function postCallback(url: string, body: unknown, policy: CallbackPolicy, resolve?: Resolver): Promise<CallbackResult> {
  const at = new Date().toISOString();
  try {
    const check = await checkCallbackUrl(url, policy, resolve);
    if (!check.allowed) return { delivered: false, error: check.reason, at };
    const status = await post(check.url, check.address, check.family, JSON.stringify(body));
    return { delivered: status >= 200 && status < 300, status, at };
  } catch (error) {
    // The error's code only: messages can name the host or address, and results are stored and logged.
    return { delivered: false, error: (error as NodeJS.ErrnoException).code ?? (error as Error).name, at };
  }
}
