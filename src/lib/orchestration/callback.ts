import { lookup } from 'node:dns/promises';
import { BlockList, isIPv4 } from 'node:net';

const TIMEOUT_MS = 10_000;

/**
 * Addresses a callback may never reach, whoever asks: link-local (the cloud instance metadata service at
 * 169.254.169.254 hands out managed identity tokens) and Azure's platform endpoint 168.63.129.16. BlockList also
 * matches IPv4-mapped IPv6 forms such as [::ffff:a9fe:a9fe]. Private ranges stay allowed: in-house receivers behind
 * the VNet are a real use.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addAddress('168.63.129.16', 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');

export const isForbiddenCallbackAddress = (address: string) => FORBIDDEN.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');

/** Why a callback URL may not be called, or undefined when it may; resolves the host to check every address. */
export async function callbackRefusal(url: string): Promise<string | undefined> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return 'only http and https callbacks are allowed';
  const addresses = await lookup(target.hostname.replace(/^\[|\]$/g, ''), { all: true });
  if (addresses.some(({ address }) => isForbiddenCallbackAddress(address))) {
    return `callbacks to ${target.hostname} are not allowed (link-local or platform address)`;
  }
  return undefined;
}

export interface CallbackResult {
  delivered: boolean;
  status?: number;
  error?: string;
  at: string;
}

/** POSTs the batch result once; never throws, since a callback must not fail (or retry) the batch. */
export async function postCallback(url: string, body: unknown): Promise<CallbackResult> {
  const at = new Date().toISOString();
  try {
    // Checked at ingest too; repeated here because this is where the request is made.
    const refusal = await callbackRefusal(url);
    if (refusal) return { delivered: false, error: refusal, at };
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { delivered: response.ok, status: response.status, at };
  } catch (error) {
    return { delivered: false, error: (error as Error).message, at };
  }
}
