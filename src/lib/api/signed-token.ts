import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config';
import { badRequest } from '../problem';

// Without CONTINUATION_TOKEN_KEY: one random key for the life of this process (README "Configuration").
const processKey = randomBytes(32);

const keyOf = (config: Pick<Config, 'continuationTokenKey'>) => (config.continuationTokenKey ? Buffer.from(config.continuationTokenKey, 'utf8') : processKey);

/** Which listing a token belongs to, as a short hash: it travels inside the token, so a replay can be named as one. */
const scopeHash = (scope: string) => createHash('sha256').update(scope).digest('base64url').slice(0, 16);

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

/**
 * A continuation token: `<payload>.<signature>`, the payload base64url JSON of `{ s: scope hash, v: value }` and the
 * signature its HMAC-SHA256 under the token key. Without the key a token can be neither made nor altered; the scope
 * (the listing and its filters) keeps a genuine token from being replayed against another listing.
 */
export function signToken(config: Pick<Config, 'continuationTokenKey'>, scope: string, value: unknown): string {
  const payload = Buffer.from(JSON.stringify({ s: scopeHash(scope), v: value })).toString('base64url');
  return `${payload}.${mac(keyOf(config), payload).toString('base64url')}`;
}

const notIssued = () => badRequest('continuationToken is not one this API issued; start again without it.', 'invalid-continuation-token');

/** The value a token carries, or a 400 invalid-continuation-token problem saying why it cannot be used. */
export function readToken(config: Pick<Config, 'continuationTokenKey'>, scope: string, token: string): unknown {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) throw notIssued();
  const expected = mac(keyOf(config), payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notIssued();
  const { s, v } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s: string; v: unknown };
  if (s !== scopeHash(scope)) {
    throw badRequest('continuationToken belongs to a listing with other filters; send the same filters, or start again without it.', 'invalid-continuation-token');
  }
  return v;
}
