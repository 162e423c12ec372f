import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { blobEndpoint } from '../../src/cli/batch-storage';
import { eventHubsHost, eventHubsScope, oauthBearerProvider, REFRESH_BEFORE_EXPIRY_MS } from '../../src/cli/entra-token';
import { eventHubsKafka } from '../../src/cli/kafka-connection';

const MINUTE = 60_000;

/** A TokenCredential that hands out numbered tokens valid for `lifetime` from the fake clock, and records each call. */
function fakeCredential(clock: { now: number }, lifetime = 60 * MINUTE) {
  const calls: Array<{ scopes: string | string[]; at: number }> = [];
  let failNext: Error | undefined;
  let gate: Promise<void> | undefined;
  const credential: TokenCredential = {
    async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
      calls.push({ scopes, at: clock.now });
      await gate;
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      return { token: `token-${calls.length}`, expiresOnTimestamp: clock.now + lifetime };
    },
  };
  return {
    credential,
    calls,
    failOnce: (error: Error) => (failNext = error),
    hold: () => {
      let release: () => void = () => undefined;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('Entra token provider for SASL OAUTHBEARER', () => {
  const scope = 'https://ns1.servicebus.windows.net/.default';

  it('asks the credential for the Event Hubs scope once and reuses the token until shortly before it expires', async () => {
    const clock = { now: 1_000_000 };
    const fake = fakeCredential(clock);
    const provide = oauthBearerProvider(fake.credential, scope, () => clock.now);
    expect(await provide()).toEqual({ value: 'token-1' });
    clock.now += 30 * MINUTE;
    expect(await provide()).toEqual({ value: 'token-1' });
    // 60-minute token: at 55 min it is inside the refresh window (5 min before expiry) and is replaced.
    clock.now = 1_000_000 + 60 * MINUTE - REFRESH_BEFORE_EXPIRY_MS;
    expect(await provide()).toEqual({ value: 'token-2' });
    expect(fake.calls.map((c) => c.scopes)).toEqual([scope, scope]);
    expect(REFRESH_BEFORE_EXPIRY_MS).toBe(5 * MINUTE);
  });

  it('honours the credential refresh hint (refreshAfterTimestamp)', async () => {
    const clock = { now: 0 };
    let n = 0;
    const credential: TokenCredential = {
      getToken: async () => ({ token: `t${++n}`, expiresOnTimestamp: clock.now + 24 * 60 * MINUTE, refreshAfterTimestamp: clock.now + 10 * MINUTE }),
    };
    const provide = oauthBearerProvider(credential, scope, () => clock.now);
    expect((await provide()).value).toBe('t1');
    clock.now = 9 * MINUTE;
    expect((await provide()).value).toBe('t1');
    clock.now = 10 * MINUTE;
    expect((await provide()).value).toBe('t2');
  });

  it('shares one request between concurrent connections', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock);
    const release = fake.hold();
    const provide = oauthBearerProvider(fake.credential, scope, () => clock.now);
    const all = Promise.all([provide(), provide(), provide()]);
    release();
    expect(await all).toEqual([{ value: 'token-1' }, { value: 'token-1' }, { value: 'token-1' }]);
    expect(fake.calls).toHaveLength(1);
  });

  it('keeps a still-valid token when a refresh fails, and tries again on the next call', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock);
    const provide = oauthBearerProvider(fake.credential, scope, () => clock.now);
    await provide();
    clock.now = 58 * MINUTE; // in the refresh window, 2 minutes before expiry
    fake.failOnce(new Error('AADSTS50058: network is down'));
    expect(await provide()).toEqual({ value: 'token-1' });
    expect(await provide()).toEqual({ value: 'token-3' });
    expect(fake.calls).toHaveLength(3);
  });

  it('fails with the scope and how to sign in when there is no valid token', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock);
    const provide = oauthBearerProvider(fake.credential, scope, () => clock.now);
    fake.failOnce(new Error('CredentialUnavailableError: no az login'));
    await expect(provide()).rejects.toThrow(/No Entra token for https:\/\/ns1\.servicebus\.windows\.net\/\.default: CredentialUnavailableError: no az login\. Sign in \(az login\)/);
    const empty: TokenCredential = { getToken: async () => null };
    await expect(oauthBearerProvider(empty, scope)()).rejects.toThrow(/the credential returned no token/);
    // an expired token is never handed out
    await provide();
    clock.now = 61 * MINUTE;
    fake.failOnce(new Error('offline'));
    await expect(provide()).rejects.toThrow(/offline/);
  });
});

describe('Event Hubs Kafka endpoint and storage targets for producers', () => {
  it('a namespace gets TLS on 9093 and OAUTHBEARER with a token for https://<namespace>.servicebus.windows.net/.default', async () => {
    const clock = { now: 0 };
    const fake = fakeCredential(clock);
    const { config, entityPath } = eventHubsKafka('contoso-batches', () => fake.credential, 'test-client');
    expect(config.brokers).toEqual(['contoso-batches.servicebus.windows.net:9093']);
    expect(config.ssl).toBe(true);
    expect(entityPath).toBeUndefined();
    const sasl = config.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    expect(sasl.mechanism).toBe('oauthbearer');
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'token-1' });
    expect(fake.calls[0].scopes).toBe('https://contoso-batches.servicebus.windows.net/.default');
    // host names are taken as they are (sovereign clouds, geo-DR alias host names)
    expect(eventHubsHost('ns.servicebus.chinacloudapi.cn')).toBe('ns.servicebus.chinacloudapi.cn');
    expect(eventHubsScope(eventHubsHost('sb://ns2.servicebus.windows.net/'))).toBe('https://ns2.servicebus.windows.net/.default');
    expect(() => eventHubsHost('not a namespace')).toThrow(/not an Event Hubs namespace/);
  });

  it('a connection string still gets SASL PLAIN (only where local auth is enabled) and never asks for a token', () => {
    const connection = 'Endpoint=sb://ns3.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc=;EntityPath=image-batches';
    const { config, entityPath, description } = eventHubsKafka(connection, () => {
      throw new Error('no credential must be created for a connection string');
    }, 'test-client');
    expect(config.brokers).toEqual(['ns3.servicebus.windows.net:9093']);
    expect(config.sasl).toEqual({ mechanism: 'plain', username: '$ConnectionString', password: connection });
    expect(entityPath).toBe('image-batches');
    expect(description).toMatch(/local authentication/);
  });

  it('a storage account name becomes its blob endpoint; URLs pass; anything else is refused', () => {
    expect(blobEndpoint('stcontoso01')).toBe('https://stcontoso01.blob.core.windows.net');
    expect(blobEndpoint('https://st1.privatelink.blob.core.windows.net')).toBe('https://st1.privatelink.blob.core.windows.net');
    expect(() => blobEndpoint('Bad_Name')).toThrow(/not a storage account name/);
  });
});
