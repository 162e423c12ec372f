import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackRefusal, isForbiddenCallbackAddress, postCallback } from '../../src/lib/orchestration/callback';

let server: Server;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('batch callbacks', () => {
  it('POST the summary to an http receiver', async () => {
    const { port } = server.address() as AddressInfo;
    const result = await postCallback(`http://127.0.0.1:${port}/done`, { batchId: 'b1' });
    expect(result).toMatchObject({ delivered: true, status: 200 });
    expect(received).toContain('{"batchId":"b1"}');
  });

  // Only the check runs here, never a request: these addresses must not be contacted from a test either.
  it.each(['http://169.254.169.254/metadata/identity/oauth2/token', 'http://[fe80::1]/x', 'http://[::ffff:169.254.169.254]/x', 'http://168.63.129.16/machine'])(
    'never reach link-local or platform addresses: %s',
    async (url) => {
      expect(await callbackRefusal(url)).toMatch(/are not allowed \(link-local or platform address\)/);
    },
  );

  it('tell forbidden addresses from ordinary ones', () => {
    expect(['169.254.169.254', '168.63.129.16', 'fe80::1', '::ffff:a9fe:a9fe'].map(isForbiddenCallbackAddress)).toEqual([true, true, true, true]);
    expect(['127.0.0.1', '10.1.2.3', '192.168.0.1', '2001:db8::1', '::1'].map(isForbiddenCallbackAddress)).toEqual([false, false, false, false, false]);
  });

  it('refuse schemes other than http and https', async () => {
    expect(await postCallback('file:///etc/passwd', {})).toMatchObject({ delivered: false, error: 'only http and https callbacks are allowed' });
  });
});
