import { describe, expect, it } from 'vitest';
import { registeringAttribute } from '../../src/cli/bridge-record';

const placement = (batchId: string) => ({ batchId, index: 0, count: 3 });

describe("the bridge's batch registration", () => {
  it('registers a batch once and gives every record of it the same token', async () => {
    const calls: Array<[string, number]> = [];
    const attribute = registeringAttribute(async (id, count) => (calls.push([id, count]), `token-of-${id}`), () => undefined);
    const tokens = await Promise.all([attribute(placement('b1')), attribute(placement('b1')), attribute(placement('b2'))]);
    expect(tokens).toEqual(['token-of-b1', 'token-of-b1', 'token-of-b2']);
    expect(calls).toEqual([['b1', 3], ['b2', 3]]);
  });

  it("leaves someone else's batch alone (409), and tries again after the API was away", async () => {
    const log: string[] = [];
    let away = true;
    const attribute = registeringAttribute(async (id) => {
      if (id === 'theirs') throw Object.assign(new Error('taken'), { status: 409 });
      if (away) throw new Error('connect ECONNREFUSED');
      return 'fresh';
    }, (line) => log.push(line));
    expect(await attribute(placement('theirs'))).toBeUndefined();
    expect(log).toEqual(['bridge: batch theirs is already registered to someone else (or was sent unregistered); its records go as they are']);
    await expect(attribute(placement('mine'))).rejects.toThrow('ECONNREFUSED');
    away = false;
    expect(await attribute(placement('mine'))).toBe('fresh');
  });
});
