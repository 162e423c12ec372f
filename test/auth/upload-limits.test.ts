import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemTypeUri } from '../../src/lib/problem';
import { startTestHost } from '../integration/local-host';
import { sampleImage } from '../support/images';
import { as, USERS, type TestUser } from '../support/principals';

// Per-user upload limits over HTTP against the local host (AUTH_MODE=easyauth), counted in the Cosmos stand-in's
// `usage` container as in Azure: 3 upload requests a minute, and a daily quota of two and a half images.

const SALT = 'upload-limits-test-salt-of-32-characters';

describe('upload limits per user', () => {
  let host: Awaited<ReturnType<typeof startTestHost>>;
  let png: Buffer;
  const upload = (user: TestUser, body: Uint8Array) =>
    fetch(`${host.apiUrl}/images?wait=30`, { method: 'POST', body, headers: { 'content-type': 'image/png', ...as(user) } });

  beforeAll(async () => {
    png = await sampleImage('png', 64, 48);
    host = await startTestHost({ AUTH_MODE: 'easyauth', OWNER_HASH_SALT: SALT, UPLOAD_RATE_PER_MINUTE: '3', UPLOAD_BYTES_PER_DAY: String(Math.floor(png.length * 2.5)) });
  });
  afterAll(() => host?.stop());

  it('refuses the 4th upload request in a minute with 429, Retry-After and a problem type; other users go on', async () => {
    // The counter is per UTC minute: start where the four requests cannot straddle two minutes.
    while (60 - new Date().getUTCSeconds() < 10) await sleep(250);
    // Refused uploads count too (empty bodies here, 400 each): a flood costs as much to refuse.
    for (let i = 0; i < 3; i++) expect((await upload(USERS.alice, new Uint8Array(0))).status).toBe(400);
    const refused = await upload(USERS.alice, new Uint8Array(png));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ type: problemTypeUri('upload-rate-exceeded'), status: 429, limit: 3 });
    // Reading is not limited, and nothing was stored.
    const listing = await fetch(`${host.apiUrl}/images`, { headers: as(USERS.alice) });
    expect([listing.status, ((await listing.json()) as { items: unknown[] }).items]).toEqual([200, []]);
    expect((await upload(USERS.olga, new Uint8Array(png))).status).toBe(200);
  });

  it('refuses an upload that would go over the daily quota, takes nothing for it, and says when to come back', async () => {
    expect((await upload(USERS.bob, new Uint8Array(png))).status).toBe(200);
    expect((await upload(USERS.bob, new Uint8Array(png))).status).toBe(200);
    const refused = await upload(USERS.bob, new Uint8Array(png));
    expect(refused.status).toBe(429);
    const now = new Date();
    const untilMidnight = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
    expect(Math.abs(Number(refused.headers.get('retry-after')) - untilMidnight)).toBeLessThan(30);
    expect(await refused.json()).toMatchObject({ type: problemTypeUri('upload-quota-exceeded'), limit: Math.floor(png.length * 2.5), used: 2 * png.length });
    const listing = (await (await fetch(`${host.apiUrl}/images`, { headers: as(USERS.bob) })).json()) as { items: unknown[] };
    expect(listing.items).toHaveLength(2);
    // The quota counts bytes per user: the same image is still fine for someone else.
    expect((await upload(USERS.olga, new Uint8Array(png))).status).toBe(200);
  });

  it('counts a web batch by its files\' bytes', async () => {
    const form = new FormData();
    for (const name of ['1.png', '2.png', '3.png']) form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
    const carol = { id: '0ca40100-0000-4000-8000-000000000006', name: 'Carol', roles: ['uploader'] };
    const refused = await fetch(`${host.apiUrl}/batches`, { method: 'POST', body: form, headers: as(carol) });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ type: problemTypeUri('upload-quota-exceeded'), used: 0 });
  });

  it('keeps the counters under the salted owner hash, never the object id', async () => {
    const connection = host.services.config.cosmos;
    if (connection?.kind !== 'connectionString') throw new Error('the test host runs the Cosmos stand-in');
    const client = new CosmosClient({ connectionString: connection.value, connectionPolicy: { enableEndpointDiscovery: false } });
    const { resources } = await client.database(host.services.config.cosmosDatabase).container('usage').items.readAll<{ id: string }>().fetchAll();
    const ids = resources.map((r) => r.id);
    // HMAC-SHA256 under OWNER_HASH_SALT, base64url: computed here, not by the code under test
    const hash = (objectId: string) => createHmac('sha256', SALT).update(objectId).digest('base64url');
    for (const user of [USERS.alice, USERS.bob, USERS.olga]) expect(ids.some((id) => id.includes(hash(user.id))), user.name).toBe(true);
    for (const user of [USERS.alice, USERS.bob, USERS.olga]) expect(ids.filter((id) => id.includes(user.id))).toEqual([]);
    client.dispose();
  });
});
