import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, type OutgoingRecord } from '../../src/lib/batch/record';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { startTestHost } from '../integration/local-host';
import { sampleImage } from '../support/images';
import { as, principalHeader, USERS, type TestUser } from '../support/principals';

// Who owns a batch that arrives as Kafka records. Event Hubs does not tell the trigger who sent an event, so no header
// of a record can say who it is from. A batch is registered through the authenticated API (PUT /api/batches/{id}),
// which records the owner and hands back an ingest token; only records carrying it join the batch. Records of a batch
// nobody registered join it, and it belongs to nobody (operators see it). Here a producer forges every owner header it
// can think of, and nothing changes.

let host: Awaited<ReturnType<typeof startTestHost>>;
let png: Buffer;

const FORGED = (victim: TestUser) => ({
  'ip-owner': victim.id,
  'ip-batch-owner': victim.id,
  'x-ms-client-principal': principalHeader(victim),
  'x-ms-client-principal-id': victim.id,
  owner: victim.id,
});

async function api(user: TestUser | undefined, method: string, path: string, body?: unknown) {
  const response = await fetch(`${host.apiUrl}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { ...as(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });
  return { status: response.status, body: (await response.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const record = (batchId: string, index: number, count: number, extra: Record<string, string> = {}, batchToken?: string): OutgoingRecord => {
  const built = buildRecord({ batchId, index, count, fileName: `${index}.png`, contentType: 'image/png', bytes: png, batchToken });
  return { ...built, headers: { ...built.headers, ...extra } };
};

const publish = (records: OutgoingRecord[]) => host.services.batchStream!.publish(records);

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 300; i++) {
    last = await read();
    if (done(last)) return last;
    await sleep(100);
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

const ended = (user: TestUser, id: string) => until(`batch ${id}`, () => api(user, 'GET', `/batches/${id}`), ({ body }) => ['completed', 'incomplete', 'failed'].includes(body.status));

async function unplacedLetters(): Promise<Array<{ reason: string; headers: Record<string, string> }>> {
  const letters = [];
  for await (const { name } of host.services.blobs.list(BLOB_CONTAINERS.deadletter, 'unplaced/')) {
    letters.push(JSON.parse((await host.services.blobs.get(BLOB_CONTAINERS.deadletter, name))!.bytes.toString('utf8')));
  }
  return letters;
}

describe('who owns a batch sent as Kafka records (AUTH_MODE=easyauth)', () => {
  beforeAll(async () => {
    host = await startTestHost({ AUTH_MODE: 'easyauth', UPLOAD_RATE_PER_MINUTE: '0' });
    png = await sampleImage('png', 40, 30);
  });
  afterAll(() => host?.stop());

  it('a registered batch and its items belong to whoever registered it, whatever owner the records claim', async () => {
    const id = `kafka-${randomUUID()}`;
    const registered = await api(USERS.alice, 'PUT', `/batches/${id}`, { itemCount: 2 });
    expect(registered.status).toBe(201);
    await publish([0, 1].map((i) => record(id, i, 2, FORGED(USERS.bob), registered.body.ingestToken)));
    const batch = await ended(USERS.alice, id);
    expect(batch.body).toMatchObject({ status: 'completed', owner: USERS.alice.id, succeeded: 2 });
    const items = await api(USERS.alice, 'GET', `/batches/${id}/items`);
    expect(items.body.items.map((item: { owner: string }) => item.owner)).toEqual([USERS.alice.id, USERS.alice.id]);
    expect((await api(USERS.bob, 'GET', `/batches/${id}`)).status).toBe(404);
    expect((await api(USERS.bob, 'GET', `/images/${id}_0`)).status).toBe(404);
    // Registering again: the owner gets the same token back (a restarted producer); anyone else is told the id is taken.
    expect(await api(USERS.alice, 'PUT', `/batches/${id}`, { itemCount: 2 })).toMatchObject({ status: 200, body: { ingestToken: registered.body.ingestToken } });
    expect(await api(USERS.bob, 'PUT', `/batches/${id}`, { itemCount: 2 })).toMatchObject({ status: 409, body: { type: 'urn:image-pipeline:problem:batch-exists' } });
  });

  it("records without the batch's token cannot join it, nor show on it; they are kept for operators", async () => {
    const id = `kafka-${randomUUID()}`;
    const { body } = await api(USERS.alice, 'PUT', `/batches/${id}`, { itemCount: 2 });
    await publish([record(id, 0, 2, {}, body.ingestToken)]);
    // Someone with send rights on the hub, but not the registrant: no token, a guessed one, Alice's claimed identity.
    await publish([record(id, 1, 2), record(id, 1, 2, {}, 'guessed-token-guessed-token-guess'), record(id, 1, 2, FORGED(USERS.alice))]);
    await until('the refused records', unplacedLetters, (letters) => letters.filter((l) => l.headers['ip-batch-id'] === id).length === 3);
    const waiting = await until('the first item', () => api(USERS.alice, 'GET', `/batches/${id}`), (answer) => answer.body.received === 1);
    expect(waiting.body).toMatchObject({ status: 'receiving', received: 1, rejected: [] });
    for (const letter of (await unplacedLetters()).filter((l) => l.headers['ip-batch-id'] === id)) {
      expect(letter.reason).toMatch(/does not carry its ingest token \(ip-batch-token\): only whoever registered the batch may add to it/);
    }
    await publish([record(id, 1, 2, {}, body.ingestToken)]);
    expect((await ended(USERS.alice, id)).body).toMatchObject({ status: 'completed', succeeded: 2, rejected: [] });
  });

  it('a batch nobody registered belongs to nobody: its records name Alice, yet only operators see it', async () => {
    const id = `kafka-${randomUUID()}`;
    await publish([0, 1].map((i) => record(id, i, 2, FORGED(USERS.alice))));
    const batch = await ended(USERS.olga, id);
    expect(batch.body).toMatchObject({ status: 'completed', owner: 'unattributed' });
    expect((await api(USERS.olga, 'GET', `/images/${id}_1`)).body.owner).toBe('unattributed');
    expect((await api(USERS.alice, 'GET', `/batches/${id}`)).status).toBe(404);
    expect((await api(USERS.alice, 'GET', `/images/${id}_0`)).status).toBe(404);
    // Too late to claim it: the id is taken.
    expect((await api(USERS.alice, 'PUT', `/batches/${id}`, { itemCount: 2 })).status).toBe(409);
  });

  it("a record the owner sent that cannot join shows on the batch, without the batch's token", async () => {
    const id = `kafka-${randomUUID()}`;
    const { body } = await api(USERS.alice, 'PUT', `/batches/${id}`, { itemCount: 1 });
    await publish([record(id, 0, 1, {}, body.ingestToken), { ...record(id, 0, 1, {}, body.ingestToken), value: Buffer.from('other bytes') }]);
    const batch = await ended(USERS.alice, id);
    expect(batch.body.rejected).toHaveLength(1);
    expect(batch.body.rejected[0].headers['ip-batch-id']).toBe(id);
    expect(batch.body.rejected[0].headers).not.toHaveProperty('ip-batch-token');
    expect(JSON.stringify(batch.body)).not.toContain(body.ingestToken);
  });
});
