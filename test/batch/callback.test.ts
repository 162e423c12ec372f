import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callbackPolicy, checkCallbackUrl, type Resolver } from '../../src/lib/callback-address';
import { postCallback } from '../../src/lib/orchestration/callback';

// Tests never reach the network: requests go only to the loopback receiver below, and host names are answered by
// stub resolvers. Everything else is only checked, never called.
let server: Server;
let port: number;
const received: Array<{ url: string; host?: string; body: string; headers: IncomingHttpHeaders }> = [];
let answer = (res: import('node:http').ServerResponse) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ url: req.url!, host: req.headers.host, body, headers: req.headers });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  answer = (res) => res.writeHead(204).end();
});

const noDns: Resolver = async (hostname) => {
  throw Object.assign(new Error(`no DNS in tests (${hostname})`), { code: 'ENOTFOUND' });
};
const resolvesTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('callback address policy', () => {
  const none = callbackPolicy([]);

  it.each([
    'http://169.254.169.254/metadata/identity/oauth2/token',
    'http://[fe80::1]/x',
    'http://[::ffff:169.254.169.254]/x',
    'http://[::ffff:a9fe:a9fe]/x',
    'http://168.63.129.16/machine',
    'http://0.0.0.0:8080/',
    'http://[::]/x',
    'http://224.0.0.1/x',
    'http://255.255.255.255/x',
  ])('never reaches link-local, platform, unspecified or multicast addresses, even when listed: %s', async (url) => {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    for (const policy of [none, callbackPolicy([host, '0.0.0.0/0', '::/0'])]) {
      const check = await checkCallbackUrl(url, policy, noDns);
      expect(check).toMatchObject({ allowed: false, reason: expect.stringMatching(/link-local, platform, multicast or reserved/) });
    }
  });

  it.each(['http://127.0.0.1:9/x', 'http://127.1.2.3/', 'http://[::1]/x', 'http://2130706433/', 'http://0x7f000001/', 'http://[::ffff:127.0.0.1]/', 'http://10.1.2.3/', 'http://172.20.0.1/', 'http://192.168.1.1/', 'http://[fd00::1]/'])(
    'refuses loopback and private addresses unless CALLBACK_ALLOWED_HOSTS lists them: %s',
    async (url) => {
      expect(await checkCallbackUrl(url, none, noDns)).toMatchObject({ allowed: false, reason: expect.stringMatching(/loopback or private address; list the host in CALLBACK_ALLOWED_HOSTS/) });
      const listed = callbackPolicy(['127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.1.1', 'fd00::/8']);
      expect(await checkCallbackUrl(url, listed, noDns)).toMatchObject({ allowed: true });
    },
  );

  it('refuses a name when any of its addresses is refused, and allows listed names to private addresses', async () => {
    expect(await checkCallbackUrl('https://hooks.example.test/x', none, resolvesTo('203.0.113.7'))).toMatchObject({ allowed: true, address: '203.0.113.7', family: 4 });
    expect(await checkCallbackUrl('https://hooks.example.test/x', none, resolvesTo('203.0.113.7', '169.254.169.254'))).toMatchObject({ allowed: false });
    expect(await checkCallbackUrl('http://localhost:8080/x', none, resolvesTo('127.0.0.1'))).toMatchObject({ allowed: false });
    expect(await checkCallbackUrl('https://receiver.corp.test/x', callbackPolicy(['receiver.corp.test']), resolvesTo('10.0.0.5'))).toMatchObject({ allowed: true, address: '10.0.0.5' });
    expect(await checkCallbackUrl('https://other.corp.test/x', callbackPolicy(['receiver.corp.test']), resolvesTo('10.0.0.5'))).toMatchObject({ allowed: false });
  });

  it('refuses other schemes and credentials in the URL, and reports a name that does not resolve as unresolved', async () => {
    expect(await checkCallbackUrl('file:///etc/passwd', none)).toEqual({ allowed: false, reason: 'only http and https callbacks are allowed' });
    expect(await checkCallbackUrl('https://user:secret@hooks.example.test/', none, noDns)).toMatchObject({ allowed: false, reason: expect.stringMatching(/user name or password/) });
    expect(await checkCallbackUrl('https://nowhere.example.test/', none, noDns)).toMatchObject({ allowed: false, unresolved: true, reason: expect.stringMatching(/ENOTFOUND/) });
  });
});

describe('postCallback', () => {
  it('POSTs the summary to an allowed receiver', async () => {
    const result = await postCallback(`http://127.0.0.1:${port}/done`, { batchId: 'b1' }, callbackPolicy(['127.0.0.1']));
    expect(result).toMatchObject({ delivered: true, status: 204 });
    expect(received).toEqual([expect.objectContaining({ url: '/done', body: '{"batchId":"b1"}' })]);
  });

  it('sends nothing to a loopback receiver that is not listed', async () => {
    const result = await postCallback(`http://127.0.0.1:${port}/done`, { batchId: 'b1' }, callbackPolicy([]));
    expect(result).toMatchObject({ delivered: false, error: expect.stringMatching(/loopback or private/) });
    expect(received).toEqual([]);
  });

  it('connects to the address it checked: a name that resolves elsewhere the second time (DNS rebinding) is never looked up again', async () => {
    const lookups: string[] = [];
    // First answer: the (listed) receiver; any later answer: the metadata service.
    const rebinding: Resolver = async (hostname) => {
      lookups.push(hostname);
      return [{ address: lookups.length === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }];
    };
    const result = await postCallback(`http://rebind.example.test:${port}/hook`, { batchId: 'b2' }, callbackPolicy(['rebind.example.test']), rebinding);
    expect(result).toMatchObject({ delivered: true, status: 204 });
    expect(lookups).toEqual(['rebind.example.test']);
    // The request reached the checked address and still names the host it was meant for.
    expect(received).toEqual([expect.objectContaining({ url: '/hook', host: `rebind.example.test:${port}` })]);
  });

  it('does not follow redirects', async () => {
    answer = (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    const result = await postCallback(`http://127.0.0.1:${port}/moved`, {}, callbackPolicy(['127.0.0.1']));
    expect(result).toMatchObject({ delivered: false, status: 302 });
    expect(received.map((r) => r.url)).toEqual(['/moved']);
  });

  it('never throws: a refused scheme or a closed port is a result', async () => {
    expect(await postCallback('file:///etc/passwd', {}, callbackPolicy([]))).toMatchObject({ delivered: false, error: 'only http and https callbacks are allowed' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await postCallback(`http://127.0.0.1:${closedPort}/`, {}, callbackPolicy(['127.0.0.1']))).toMatchObject({ delivered: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });
});
