import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a batch callback may go. Checked when a callback URL is submitted and again when the callback is sent, and
 * the request then connects to the very address that was checked (src/lib/orchestration/callback.ts), so a name
 * that resolves differently the second time (DNS rebinding) cannot slip through.
 *
 * - Never: link-local (the instance metadata service at 169.254.169.254 hands out managed identity tokens), Azure's
 *   platform address 168.63.129.16, unspecified, multicast and reserved addresses.
 * - Only when CALLBACK_ALLOWED_HOSTS allows it: loopback (the Functions host's own endpoints) and private ranges
 *   (receivers inside the VNet). An entry is a host name, as written in the URL, or an address or CIDR range.
 * - Everything else (public addresses): allowed.
 */
const NEVER = new BlockList();
NEVER.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER.addSubnet('169.254.0.0', 16, 'ipv4');
NEVER.addAddress('168.63.129.16', 'ipv4');
NEVER.addSubnet('192.0.0.0', 24, 'ipv4');
NEVER.addSubnet('224.0.0.0', 3, 'ipv4'); // multicast, reserved and broadcast
NEVER.addAddress('::', 'ipv6');
NEVER.addSubnet('fe80::', 10, 'ipv6');
NEVER.addSubnet('ff00::', 8, 'ipv6');

const RESTRICTED = new BlockList();
RESTRICTED.addSubnet('127.0.0.0', 8, 'ipv4');
RESTRICTED.addSubnet('10.0.0.0', 8, 'ipv4');
RESTRICTED.addSubnet('172.16.0.0', 12, 'ipv4');
RESTRICTED.addSubnet('192.168.0.0', 16, 'ipv4');
RESTRICTED.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
RESTRICTED.addSubnet('198.18.0.0', 15, 'ipv4');
RESTRICTED.addAddress('::1', 'ipv6');
RESTRICTED.addSubnet('fc00::', 7, 'ipv6'); // unique local
RESTRICTED.addSubnet('fec0::', 10, 'ipv6'); // old site-local
// IPv6 forms that carry an IPv4 address a gateway may unwrap into any of the ranges above.
RESTRICTED.addSubnet('64:ff9b::', 96, 'ipv6');
RESTRICTED.addSubnet('2002::', 16, 'ipv6');

const family = (address: string) => (isIP(address) === 4 ? 'ipv4' : 'ipv6');

/** A host name, an IPv4/IPv6 address, or an address with a /prefix. */
export function isAllowedHostEntry(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  if (prefix !== undefined) {
    const bits = Number(prefix);
    return isIP(address) !== 0 && /^\d{1,3}$/.test(prefix) && bits <= (isIP(address) === 4 ? 32 : 128);
  }
  return isIP(address) !== 0 || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(entry);
}

export interface CallbackPolicy {
  allows(hostname: string, address: string): boolean;
  /** What kind of address a refused one is (without the address: reasons are stored and logged, URLs never are). */
  reason(address: string): string;
}

export function callbackPolicy(allowedHosts: readonly string[]): CallbackPolicy {
  const names = new Set(allowedHosts.filter((entry) => isIP(entry.split('/')[0]) === 0).map((name) => name.toLowerCase()));
  const ranges = new BlockList();
  for (const entry of allowedHosts) {
    const [address, prefix] = entry.split('/');
    if (isIP(address) === 0) continue;
    if (prefix === undefined) ranges.addAddress(address, family(address));
    else ranges.addSubnet(address, Number(prefix), family(address));
  }
  return {
    allows(hostname, address) {
      if (NEVER.check(address, family(address))) return false;
      if (!RESTRICTED.check(address, family(address))) return true;
      return names.has(hostname.toLowerCase().replace(/\.$/, '')) || ranges.check(address, family(address));
    },
    reason: (address) =>
      NEVER.check(address, family(address))
        ? 'a link-local, platform, multicast or reserved address, which callbacks never reach'
        : 'a loopback or private address; list the host in CALLBACK_ALLOWED_HOSTS to allow it',
  };
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export type CallbackCheck =
  | { allowed: true; url: URL; address: string; family: 4 | 6 }
  /** `unresolved`: the name did not resolve now, so nothing was refused for what it points at. */
  | { allowed: false; reason: string; unresolved?: boolean };

/**
 * Whether a callback URL may be called, and the address to connect to. Reasons never name the host or an address:
 * they are stored with failed records and logged, and the URL (which may carry a secret) must be in neither. the host is resolved once, and every
 * address it has must be allowed, so none of them can be picked later to reach a refused one.
 */
export async function checkCallbackUrl(raw: string, policy: CallbackPolicy, resolve: Resolver = systemResolver): Promise<CallbackCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { allowed: false, reason: 'it is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { allowed: false, reason: 'only http and https callbacks are allowed' };
  if (url.username || url.password) return { allowed: false, reason: 'it must not carry a user name or password' };
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(hostname) ? [{ address: hostname, family: isIP(hostname) }] : await resolve(hostname);
  } catch (error) {
    return { allowed: false, reason: `its host cannot be resolved (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`, unresolved: true };
  }
  if (!addresses.length) return { allowed: false, reason: 'its host has no address', unresolved: true };
  const refused = addresses.find(({ address }) => !policy.allows(hostname, address));
  if (refused) return { allowed: false, reason: `its host is or resolves to ${policy.reason(refused.address)}` };
  return { allowed: true, url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}
