import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/cli/connections';
import { readLocalHostFile } from '../../src/local/local-host-file';
import { startLocalHost, type LocalHost } from '../../src/local/host';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('which stores an operator command works on', () => {
  let host: LocalHost;
  let port: number;

  beforeAll(async () => {
    host = await startLocalHost({ PORT: '0' }, silent);
    port = Number(new URL(host.apiUrl).port);
  });
  afterAll(() => host?.stop());

  it('the running local host, found by its port, with its embedded emulators', () => {
    const { config, source } = resolveConfig({}, port);
    expect(source).toBe(`the local host at ${host.apiUrl} (pid ${process.pid})`);
    // The same stores the host itself uses.
    expect(config.storage).toEqual(host.services.config.storage);
    expect(config.cosmos).toEqual(host.services.config.cosmos);
  });

  it('the configured settings when both are set, and never a mix', () => {
    const env = { AzureWebJobsStorage__accountName: 'acct', COSMOS_CONNECTION__accountEndpoint: 'https://db.documents.azure.com:443/' };
    const { config, source } = resolveConfig(env, port);
    expect(source).toBe('the configured AzureWebJobsStorage and COSMOS_CONNECTION');
    expect(config.storage).toEqual({ kind: 'identity', endpoint: 'https://acct.blob.core.windows.net' });
    expect(() => resolveConfig({ COSMOS_CONNECTION__accountEndpoint: 'https://db.documents.azure.com:443/' }, port)).toThrow(
      'Set both AzureWebJobsStorage and COSMOS_CONNECTION (only COSMOS_CONNECTION is set), or neither to use a running local host.',
    );
  });

  it('says what to do when nothing is configured and no host runs on the port; forgets a host once it stops', async () => {
    expect(() => resolveConfig({}, 1)).toThrow(/no local host running on port 1: set AzureWebJobsStorage and COSMOS_CONNECTION, or start one with npm start/);
    const other = await startLocalHost({ PORT: '0' }, silent);
    const otherPort = Number(new URL(other.apiUrl).port);
    expect(readLocalHostFile(otherPort)?.apiUrl).toBe(other.apiUrl);
    await other.stop();
    expect(readLocalHostFile(otherPort)).toBeUndefined();
  });
});
