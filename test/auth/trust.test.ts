import { describe, expect, it } from 'vitest';
import { handle, ROUTES, WEB_ROUTES } from '../../src/lib/api/routes';
import { loadConfig, type Env } from '../../src/lib/config';
import { problemTypeUri } from '../../src/lib/problem';
import { memoryServices } from '../support/memory-services';
import { as, USERS } from '../support/principals';

// When the app may believe X-MS-CLIENT-PRINCIPAL: only where App Service Authentication is known to be in front
// (WEBSITE_AUTH_ENABLED, which App Service sets), since Easy Auth replaces any copy a client sends. Anywhere else the
// header could be anyone's, so a forged operator header must get nowhere.

const route = (name: string) => [...ROUTES, ...WEB_ROUTES].find((r) => r.name === name)!;
const quiet = { info() {}, warn() {}, error() {} };

async function send(env: Env, name: string, path: string, headers: Record<string, string>) {
  const { services } = await memoryServices();
  services.config = loadConfig(env);
  const request = { method: 'GET', url: `https://app.example.net/api/${path}`, headers: new Headers(headers), params: { file: 'index.html' }, body: null };
  const answer = await handle(route(name), request, services, quiet);
  return { status: answer.status, headers: answer.headers ?? {}, body: answer.body ? JSON.parse(String(answer.body)) : undefined };
}

describe('trusting X-MS-CLIENT-PRINCIPAL', () => {
  it('AUTH_MODE=easyauth without App Service Authentication (the default): nothing is served, a forged operator header included', async () => {
    for (const [name, path] of [['listBatches', 'batches'], ['whoAmI', 'me'], ['webFile', 'web/index.html']]) {
      const answer = await send({}, name!, path!, as(USERS.olga));
      expect(answer.status, name).toBe(503);
      expect(answer.body).toMatchObject({ type: problemTypeUri('authentication-not-configured') });
    }
  });

  it('with App Service Authentication on (WEBSITE_AUTH_ENABLED=True): the principal Easy Auth injected', async () => {
    const answer = await send({ WEBSITE_AUTH_ENABLED: 'True' }, 'whoAmI', 'me', as(USERS.olga));
    expect([answer.status, answer.body.id, answer.body.roles]).toEqual([200, USERS.olga.id, ['operator']]);
    expect((await send({ WEBSITE_AUTH_ENABLED: 'True' }, 'whoAmI', 'me', {})).status).toBe(401);
    // The platform's flag, not anything a request carries: a header of that name changes nothing.
    expect((await send({}, 'whoAmI', 'me', { ...as(USERS.olga), 'website-auth-enabled': 'True', 'x-ms-auth-enabled': 'True' })).status).toBe(503);
  });

  it('AUTH_MODE=open: every caller is the one local user with every role, whatever header it sends', async () => {
    const answer = await send({ AUTH_MODE: 'open' }, 'whoAmI', 'me', as(USERS.bob));
    expect(answer.body).toEqual({ id: 'local-user', name: 'Local user (AUTH_MODE=open)', roles: ['uploader', 'analyst', 'operator'], authMode: 'open' });
  });
});
