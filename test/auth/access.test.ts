import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RULES } from '../../src/lib/api/access';
import { handle, ROUTES, WEB_ROUTES, type Route } from '../../src/lib/api/routes';
import { problemTypeUri } from '../../src/lib/problem';
import { startTestHost } from '../integration/local-host';
import { sampleImage } from '../support/images';
import { memoryServices } from '../support/memory-services';
import { as, USERS, type TestUser, type UserName } from '../support/principals';

// The access rules over HTTP, against the local host with AUTH_MODE=easyauth (which enforces what Azure does): two
// uploaders, an analyst, an operator, someone signed in without a role and nobody signed in, on every route.

type Caller = UserName | 'anonymous';
const CALLERS: Caller[] = ['alice', 'bob', 'ann', 'nobody', 'anonymous', 'olga']; // the operator last: its retry changes the batch

interface Own {
  image: string;
  batch: string;
}
const own = {} as Record<'alice' | 'bob', Own>;
let host: Awaited<ReturnType<typeof startTestHost>>;
let origin: string;
let png: Buffer;

const userOf = (caller: Caller): TestUser | undefined => (caller === 'anonymous' ? undefined : USERS[caller]);

async function call(caller: Caller, method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${origin}${path}`, { method, redirect: 'manual', body: init.body, headers: { ...as(userOf(caller)), ...init.headers } });
  const text = await response.text();
  let body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}
type Answer = Awaited<ReturnType<typeof call>>;

const batchForm = () => {
  const form = new FormData();
  for (const name of ['a.png', 'b.png']) form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
  return form;
};

async function waitUntilEnded(owner: 'alice' | 'bob', batch: string) {
  for (let i = 0; i < 300; i++) {
    const { body } = await call(owner, 'GET', `/api/batches/${batch}`);
    if (['completed', 'incomplete', 'failed'].includes(body?.status)) return;
    await sleep(100);
  }
  throw new Error(`batch ${batch} did not end`);
}

/** What each caller gets on one route: a status, and for some what the body must show. */
interface RouteCase {
  send: (caller: Caller) => Promise<Answer>;
  expect: Record<Caller, number>;
  check?: (caller: Caller, answer: Answer) => void | Promise<void>;
}

const UPLOADERS_AND_OPERATOR = (ok: number) => ({ alice: ok, bob: ok, ann: 403, nobody: 403, anonymous: 401, olga: ok });
/** Alice's resource: hers and the operator's; Bob gets the 404 of an id nobody has. */
const ALICES = { alice: 200, bob: 404, ann: 403, nobody: 403, anonymous: 401, olga: 200 };
const OPERATOR_ONLY = (ok: number) => ({ alice: 403, bob: 403, ann: 403, nobody: 403, anonymous: 401, olga: ok });
const ANYONE_SIGNED_IN = (ok: number) => ({ alice: ok, bob: ok, ann: ok, nobody: ok, anonymous: 401, olga: ok });
const PAGE = { alice: 200, bob: 200, ann: 200, nobody: 200, anonymous: 302, olga: 200 };

const ownersOf = (items: Array<{ owner?: string }>) => new Set(items.map((item) => item.owner));

const CASES: Record<string, RouteCase> = {
  uploadImage: {
    send: (c) => call(c, 'POST', '/api/images?wait=30', { body: new Uint8Array(png), headers: { 'content-type': 'image/png' } }),
    expect: UPLOADERS_AND_OPERATOR(200),
    check: (c, { body }) => expect(body.owner).toBe(USERS[c as UserName].id),
  },
  listImages: {
    send: (c) => call(c, 'GET', '/api/images?limit=100'),
    expect: { alice: 200, bob: 200, ann: 403, nobody: 403, anonymous: 401, olga: 200 },
    check: (c, { body }) => {
      const ids = body.items.map((item: { id: string }) => item.id);
      if (c === 'olga') {
        expect(ids).toEqual(expect.arrayContaining([own.alice.image, own.bob.image, `${own.alice.batch}_0`, `${own.bob.batch}_1`]));
        return;
      }
      const mine = own[c as 'alice' | 'bob'];
      const theirs = own[c === 'alice' ? 'bob' : 'alice'];
      expect([...ownersOf(body.items)]).toEqual([USERS[c as UserName].id]);
      expect(ids).toEqual(expect.arrayContaining([mine.image, `${mine.batch}_0`, `${mine.batch}_1`]));
      expect(ids).not.toContain(theirs.image);
    },
  },
  getImage: {
    send: (c) => call(c, 'GET', `/api/images/${own.alice.image}`),
    expect: ALICES,
    check: (c, { body }) => {
      if (c === 'bob') expect(body).toMatchObject({ type: problemTypeUri('not-found'), detail: `No image with id "${own.alice.image}".` });
      else expect(body).toMatchObject({ id: own.alice.image, owner: USERS.alice.id });
    },
  },
  getImageDerivative: {
    send: (c) => call(c, 'GET', `/api/images/${own.alice.batch}_1/thumbnail`),
    expect: ALICES,
    check: (c, answer) => {
      if (c === 'bob') expect(answer.body).toMatchObject({ type: problemTypeUri('not-found'), detail: `No image with id "${own.alice.batch}_1".` });
      else expect(answer.headers.get('content-type')).toBe('image/jpeg');
    },
  },
  getSimilarImages: {
    send: (c) => call(c, 'GET', `/api/images/${own.alice.image}/similar`),
    expect: ALICES,
    check: (c, { body }) => {
      if (c === 'bob') return expect(body).toMatchObject({ type: problemTypeUri('not-found') });
      // Everyone uploaded the same picture: Alice's near-duplicates are her own copies only, the operator's everyone's.
      expect(body.degenerate).toBeNull();
      const ids = body.items.map((item: { id: string }) => item.id);
      expect(ids).toContain(`${own.alice.batch}_0`);
      if (c === 'alice') expect(ids).not.toContain(own.bob.image);
      else expect(ids).toContain(own.bob.image);
    },
  },
  getStats: {
    send: (c) => call(c, 'GET', '/api/stats'),
    expect: { alice: 403, bob: 403, ann: 200, nobody: 403, anonymous: 401, olga: 200 },
    check: (_c, { body }) => expect(body.images).toBeGreaterThanOrEqual(6),
  },
  openApiDocument: {
    send: (c) => call(c, 'GET', '/api/openapi.json'),
    expect: ANYONE_SIGNED_IN(200),
    check: (_c, { body }) => expect(body.openapi).toBe('3.1.0'),
  },
  uploadBatch: {
    send: (c) => call(c, 'POST', '/api/batches', { body: batchForm() }),
    expect: UPLOADERS_AND_OPERATOR(202),
    check: async (c, { body }) => {
      const batch = await call(c, 'GET', `/api/batches/${body.id}`);
      expect([batch.status, batch.body.owner]).toEqual([200, USERS[c as UserName].id]);
    },
  },
  registerBatch: {
    send: (c) => call(c, 'PUT', `/api/batches/reg-${c}-${randomUUID()}`, { body: JSON.stringify({ itemCount: 2 }), headers: { 'content-type': 'application/json' } }),
    expect: UPLOADERS_AND_OPERATOR(201),
    check: (c, { body }) => {
      expect(body).toMatchObject({ owner: USERS[c as UserName].id, status: 'receiving', itemCount: 2, recordHeader: 'ip-batch-token' });
      expect(body.ingestToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    },
  },
  listBatches: {
    send: (c) => call(c, 'GET', '/api/batches?limit=100'),
    expect: { alice: 200, bob: 200, ann: 403, nobody: 403, anonymous: 401, olga: 200 },
    check: (c, { body }) => {
      const ids = body.items.map((item: { id: string }) => item.id);
      for (const item of body.items) expect(item).not.toHaveProperty('ingestToken');
      if (c === 'olga') return expect(ids).toEqual(expect.arrayContaining([own.alice.batch, own.bob.batch]));
      expect([...ownersOf(body.items)]).toEqual([USERS[c as UserName].id]);
      expect(ids).toContain(own[c as 'alice' | 'bob'].batch);
    },
  },
  getBatch: {
    send: (c) => call(c, 'GET', `/api/batches/${own.alice.batch}`),
    expect: ALICES,
    check: (c, { body }) => {
      if (c === 'bob') return expect(body).toMatchObject({ type: problemTypeUri('not-found'), detail: `No batch with id "${own.alice.batch}".` });
      expect(body).toMatchObject({ id: own.alice.batch, owner: USERS.alice.id, succeeded: 2 });
      expect(body).not.toHaveProperty('ingestToken');
    },
  },
  listBatchItems: {
    send: (c) => call(c, 'GET', `/api/batches/${own.alice.batch}/items`),
    expect: ALICES,
    check: (c, { body }) => {
      if (c !== 'bob') expect(body.items.map((item: { owner: string }) => item.owner)).toEqual([USERS.alice.id, USERS.alice.id]);
    },
  },
  retryBatch: {
    send: (c) => call(c, 'POST', `/api/batches/${own.alice.batch}/retry`),
    expect: OPERATOR_ONLY(202),
  },
  sweepBatches: {
    send: (c) => call(c, 'POST', '/api/batch-sweep'),
    expect: OPERATOR_ONLY(200),
    check: (_c, { body }) => expect(body).toEqual({ closed: expect.any(Array), resumed: expect.any(Array), failed: expect.any(Array) }),
  },
  whoAmI: {
    send: (c) => call(c, 'GET', '/api/me'),
    expect: ANYONE_SIGNED_IN(200),
    check: (c, { body }) => {
      const user = USERS[c as UserName];
      expect(body).toEqual({ id: user.id, name: user.name, roles: user.roles, authMode: 'easyauth', signOut: '/.auth/logout?post_logout_redirect_uri=/api/web/' });
    },
  },
  webIndex: {
    send: (c) => call(c, 'GET', '/api/web'),
    expect: { alice: 302, bob: 302, ann: 302, nobody: 302, anonymous: 302, olga: 302 },
    check: (c, answer) => expect(answer.headers.get('location')).toBe(c === 'anonymous' ? '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fweb' : '/api/web/index.html'),
  },
  webFile: {
    send: (c) => call(c, 'GET', '/api/web/results.html?x=1'),
    expect: PAGE,
    check: (c, answer) => {
      if (c === 'anonymous') expect(answer.headers.get('location')).toBe('/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fweb%2Fresults.html%3Fx%3D1');
      else expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    },
  },
};

describe('every route has an access rule and is tested here', () => {
  const names = [...ROUTES, ...WEB_ROUTES].map((route) => route.name).sort();

  it('the access-rule table and this test cover exactly the route table', () => {
    expect(Object.keys(ACCESS_RULES).sort()).toEqual(names);
    expect(Object.keys(CASES).sort()).toEqual(names);
  });

  it('a route without a rule is refused to everybody, an operator in open mode included', async () => {
    const { services } = await memoryServices();
    services.config = { ...services.config, auth: { mode: 'open', principalHeaderTrusted: false } };
    let ran = false;
    const unruled: Route = { name: 'somethingNew', method: 'GET', route: 'new', handler: async () => ((ran = true), { status: 200 }) };
    const request = { method: 'GET', url: 'http://localhost/api/new', headers: new Headers(), params: {}, body: null };
    const answer = await handle(unruled, request, services, { info() {}, warn() {}, error() {} });
    expect(answer.status).toBe(403);
    expect(JSON.parse(String(answer.body))).toMatchObject({ type: problemTypeUri('forbidden'), detail: 'The route somethingNew has no access rule, so nobody may use it.' });
    expect(ran).toBe(false);
  });
});

describe('the access rules over HTTP, AUTH_MODE=easyauth on the local host', () => {
  beforeAll(async () => {
    host = await startTestHost({ AUTH_MODE: 'easyauth', UPLOAD_RATE_PER_MINUTE: '0', UPLOAD_BYTES_PER_DAY: '0' });
    origin = new URL(host.apiUrl).origin;
    png = await sampleImage('png', 48, 32);
    for (const owner of ['alice', 'bob'] as const) {
      const image = await call(owner, 'POST', '/api/images?wait=30', { body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
      const batch = await call(owner, 'POST', '/api/batches', { body: batchForm() });
      expect([image.status, batch.status]).toEqual([200, 202]);
      own[owner] = { image: image.body.id, batch: batch.body.id };
      await waitUntilEnded(owner, batch.body.id);
    }
  }, 120_000);
  afterAll(() => host?.stop());

  it.each(Object.keys(CASES))('%s', async (name) => {
    const route = CASES[name]!;
    for (const caller of CALLERS) {
      const answer = await route.send(caller);
      expect(answer.status, `${name} as ${caller}: ${JSON.stringify(answer.body)?.slice(0, 300)}`).toBe(route.expect[caller]);
      if (answer.status === 401) {
        expect(answer.body).toMatchObject({ type: problemTypeUri('unauthorized') });
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      } else if (answer.status === 403) {
        expect(answer.body).toMatchObject({ type: problemTypeUri('forbidden') });
      } else {
        await route.check?.(caller, answer);
      }
    }
  });

  it("someone else's images are 404 exactly like an id nobody has; a batch filter on someone else's batch lists nothing", async () => {
    const theirs = await call('bob', 'GET', `/api/images/${own.alice.image}/preview`);
    const nobodys = await call('bob', 'GET', '/api/images/0000aaaa-0000-4000-8000-000000000000/preview');
    expect([theirs.status, nobodys.status]).toEqual([404, 404]);
    expect(theirs.body.detail.replace(own.alice.image, 'ID')).toBe(nobodys.body.detail.replace('0000aaaa-0000-4000-8000-000000000000', 'ID'));
    expect(Object.keys(theirs.body).sort()).toEqual(Object.keys(nobodys.body).sort());
    const filtered = await call('bob', 'GET', `/api/images?batch=${own.alice.batch}`);
    expect([filtered.status, filtered.body.items]).toEqual([200, []]);
    const items = await call('bob', 'GET', `/api/batches/${own.alice.batch}/items`);
    expect(items.status).toBe(404);
  });

  it("a continuation token from one user's listing does not page through another's", async () => {
    const page = await call('alice', 'GET', '/api/images?limit=1');
    expect(page.body.continuationToken).toBeTruthy();
    const replayed = await call('bob', 'GET', `/api/images?limit=1&continuationToken=${encodeURIComponent(page.body.continuationToken)}`);
    expect([replayed.status, replayed.body.type]).toEqual([400, problemTypeUri('invalid-continuation-token')]);
  });

  it('a principal header that is not what Easy Auth writes, or names no object id, is nobody', async () => {
    for (const value of ['not base64 json', Buffer.from('{"claims":"x"}').toString('base64'), Buffer.from(JSON.stringify({ claims: [{ typ: 'roles', val: 'operator' }] })).toString('base64')]) {
      const answer = await fetch(`${origin}/api/images`, { headers: { 'x-ms-client-principal': value } });
      expect(answer.status, value).toBe(401);
    }
  });
});
