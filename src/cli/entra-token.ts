import type { AccessToken, TokenCredential } from '@azure/identity';

/** How long before its expiry a cached token is replaced: Event Hubs refuses a connection with an expired token. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * Entra access tokens for one scope, as kafkajs's SASL OAUTHBEARER provider wants them (`{ value }`). kafkajs asks on
 * every (re)authentication of every broker connection, so the token is cached and shared, and fetched again only
 * when it is within REFRESH_BEFORE_EXPIRY_MS of expiring (or past the credential's own refresh hint). Concurrent
 * callers share one request. If a refresh fails while the cached token is still valid, the cached one is used and the
 * next call tries again; without a valid token the error names the scope and how to sign in.
 */
export function oauthBearerProvider(credential: TokenCredential, scope: string, now: () => number = Date.now): () => Promise<{ value: string }> {
  let cached: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  const fresh = (token: AccessToken) =>
    now() < token.expiresOnTimestamp - REFRESH_BEFORE_EXPIRY_MS && (token.refreshAfterTimestamp === undefined || now() < token.refreshAfterTimestamp);
  const fetchToken = async (): Promise<AccessToken> => {
    try {
      const token = await credential.getToken(scope);
      if (!token) throw new Error('the credential returned no token');
      cached = token;
      return token;
    } catch (error) {
      if (cached && now() < cached.expiresOnTimestamp) return cached;
      throw new Error(
        `No Entra token for ${scope}: ${(error as Error).message}. Sign in (az login), or set AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET, or run with a managed identity.`,
      );
    } finally {
      pending = undefined;
    }
  };
  return async () => {
    if (cached && fresh(cached)) return { value: cached.token };
    pending ??= fetchToken();
    return { value: (await pending).token };
  };
}

/** `<name>` or `<name>.servicebus.windows.net` (any fully qualified host) -> the namespace's host name. */
export function eventHubsHost(namespace: string): string {
  const host = namespace.trim().replace(/^sb:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(host)) throw new Error(`"${namespace}" is not an Event Hubs namespace name or host name.`);
  return host.includes('.') ? host : `${host}.servicebus.windows.net`;
}

/** The token scope Event Hubs (AMQP and Kafka) accepts: the namespace URI with `/.default`. */
export const eventHubsScope = (host: string) => `https://${host}/.default`;
