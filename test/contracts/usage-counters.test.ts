import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CosmosUsageCounters } from '../../src/lib/limits/cosmos-usage-counters';
import { MemoryUsageCounters } from '../../src/lib/limits/memory-usage-counters';
import { chargeUploadRequest, reserveUploadBytes } from '../../src/lib/limits/upload-limits';
import type { UsageCounters } from '../../src/lib/limits/usage-counters';
import { problemTypeUri } from '../../src/lib/problem';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { freshContainers } from './cosmos-standin';

let standIn: CosmosStandIn;
beforeAll(async () => {
  standIn = await startCosmosStandIn();
});
afterAll(() => standIn?.stop());

const adapters: Array<[string, () => Promise<UsageCounters>]> = [
  ['in memory', async () => new MemoryUsageCounters()],
  ['Cosmos DB (stand-in)', async () => new CosmosUsageCounters((await freshContainers(standIn)).usage)],
];

/** The one UsageCounters contract, held against every adapter. */
describe.each(adapters)('UsageCounters contract: %s', (_name, create) => {
  let counters: UsageCounters;
  beforeEach(async () => {
    counters = await create();
  });

  it('starts a counter at 0, adds and gives back, and keeps counters apart', async () => {
    expect(await counters.add('a', 5)).toBe(5);
    expect(await counters.add('a', 3)).toBe(8);
    expect(await counters.add('a', -8)).toBe(0);
    expect(await counters.add('b', 1)).toBe(1);
    expect(await counters.add('a', 2)).toBe(2);
  });

  it('loses no count when many instances add at once, the counter\'s creation included', async () => {
    // As many app instances would: nobody reads a total and writes it back.
    const totals = await Promise.all(Array.from({ length: 40 }, () => counters.add('busy', 1)));
    expect([...totals].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await counters.add('busy', 0)).toBe(40);
  });
});

describe('upload limits over the counters', () => {
  const limits = { requestsPerMinute: 3, bytesPerDay: 1000 };
  const at = new Date('2026-05-01T10:20:45.500Z');

  it('refuses the request after the limit in one UTC minute, until the next minute; per user', async () => {
    const counters = new MemoryUsageCounters();
    for (let i = 0; i < 3; i++) await chargeUploadRequest(counters, limits, 'alice', at);
    const refused = await chargeUploadRequest(counters, limits, 'alice', at).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 429, type: 'upload-rate-exceeded', headers: { 'retry-after': '15' }, extensions: { limit: 3 } });
    await chargeUploadRequest(counters, limits, 'bob', at);
    await chargeUploadRequest(counters, limits, 'alice', new Date('2026-05-01T10:21:00.000Z'));
    expect(problemTypeUri('upload-rate-exceeded')).toBe('urn:image-pipeline:problem:upload-rate-exceeded');
  });

  it('takes bytes from the daily quota; an upload that would go over is refused and takes nothing', async () => {
    const counters = new MemoryUsageCounters();
    await reserveUploadBytes(counters, limits, 'alice', 600, at);
    const refused = await reserveUploadBytes(counters, limits, 'alice', 500, at).catch((error: unknown) => error);
    // Retry-After: until midnight UTC, 13 h 39 min 14.5 s away, rounded up.
    expect(refused).toMatchObject({ status: 429, type: 'upload-quota-exceeded', headers: { 'retry-after': String(13 * 3600 + 39 * 60 + 15) }, extensions: { limit: 1000, used: 600 } });
    await reserveUploadBytes(counters, limits, 'alice', 400, at);
    await reserveUploadBytes(counters, limits, 'alice', 1000, new Date('2026-05-02T00:00:00.000Z'));
  });

  it('counts nothing with a limit of 0', async () => {
    const added: string[] = [];
    const counters: UsageCounters = { add: async (id) => (added.push(id), 0) };
    for (let i = 0; i < 10; i++) await chargeUploadRequest(counters, { requestsPerMinute: 0, bytesPerDay: 0 }, 'alice', at);
    await reserveUploadBytes(counters, { requestsPerMinute: 0, bytesPerDay: 0 }, 'alice', 10 ** 12, at);
    expect(added).toEqual([]);
  });
});
