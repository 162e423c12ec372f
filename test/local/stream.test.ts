import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRecord, parseRecord, type OutgoingRecord, type RawRecord } from '../../src/lib/batch/record';
import type { TriggerRetryPolicy } from '../../src/lib/orchestration/trigger-retry';
import { InProcessStream } from '../../src/local/stream';
import { retryInterval } from '../../src/local/trigger-retry';
import { quietLogger } from '../batch/host';

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

const records = (batchId: string, count: number): OutgoingRecord[] =>
  Array.from({ length: count }, (_, index) => buildRecord({ batchId, index, count, fileName: `${index}.png`, contentType: 'image/png', bytes: Buffer.from(`image ${index}`) }));

/** The (batch, index) pairs a handler saw, in order. */
const seen = (calls: RawRecord[][]) => calls.map((call) => call.map((record) => {
  const parsed = parseRecord(record);
  return parsed.ok ? `${parsed.batchId}/${parsed.index}` : 'unparsed';
}));

function recordingHandler(fail: (call: number) => boolean = () => false) {
  const calls: RawRecord[][] = [];
  return {
    calls,
    handler: async (batch: RawRecord[]) => {
      calls.push(batch);
      if (fail(calls.length)) throw new Error(`ingest failed (call ${calls.length})`);
    },
  };
}

const FAST_RETRY: TriggerRetryPolicy = { strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: 10 };

describe('in-process stream: the Event Hubs trigger\'s delivery semantics', () => {
  it('spaces retries as the Functions host does: a fixed delay, or doubling from the minimum up to the maximum', () => {
    expect([1, 2, 3].map((retry) => retryInterval(FAST_RETRY, retry))).toEqual([10, 10, 10]);
    const exponential: TriggerRetryPolicy = { strategy: 'exponentialBackoff', maxRetryCount: 6, minimumInterval: 2000, maximumInterval: 10_000 };
    expect([1, 2, 3, 4].map((retry) => retryInterval(exponential, retry))).toEqual([2000, 4000, 8000, 10_000]);
  });

  it('runs a throwing handler again per the retry policy, then moves on and never delivers those records again', async () => {
    const log = quietLogger();
    const { calls, handler } = recordingHandler((call) => call <= 3);
    const stream = await InProcessStream.open({ handler, log, retry: FAST_RETRY });
    await stream.publish(records('b1', 3));
    await stream.idle();
    await stream.publish(records('b2', 1));
    await stream.idle();
    await stream.close();
    // The first call and its two retries get the same records; then the stream has moved on.
    expect(seen(calls)).toEqual([['b1/0', 'b1/1', 'b1/2'], ['b1/0', 'b1/1', 'b1/2'], ['b1/0', 'b1/1', 'b1/2'], ['b2/0']]);
    expect(log.lines.filter((line) => line.startsWith('warn:'))).toHaveLength(2);
    expect(log.lines.some((line) => line.startsWith('error:') && line.includes('after 2 retries; moving on'))).toBe(true);
  });

  it('without a retry policy moves on after a single failed call', async () => {
    const { calls, handler } = recordingHandler((call) => call === 1);
    const stream = await InProcessStream.open({ handler, log: quietLogger() });
    await stream.publish(records('b1', 2));
    await stream.idle();
    await stream.publish(records('b1', 2).slice(1));
    await stream.idle();
    await stream.close();
    expect(seen(calls)).toEqual([['b1/0', 'b1/1'], ['b1/1']]);
  });

  it('with a folder, delivers after a restart what was accepted and not handled, once, and cuts a torn last line', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'stream-'));
    folders.push(folder);
    // The first host never gets to finish its handler call (as if killed mid-ingest).
    const stuck = await InProcessStream.open({ handler: () => new Promise<never>(() => undefined), log: quietLogger(), folder });
    await stuck.publish(records('b1', 3));
    await stuck.publish(records('b2', 2));
    const logs = (await readdir(folder)).filter((name) => name.endsWith('.log'));
    expect(logs.length).toBeGreaterThan(0);
    // A kill in the middle of an append leaves a partial line that no producer was told was accepted.
    await appendFile(join(folder, logs[0]), '{"key":"b3","headers":{');

    const second = recordingHandler();
    const restarted = await InProcessStream.open({ handler: second.handler, log: quietLogger(), folder });
    await restarted.idle();
    await restarted.close();
    expect(seen(second.calls).flat().sort()).toEqual(['b1/0', 'b1/1', 'b1/2', 'b2/0', 'b2/1']);

    const third = recordingHandler();
    const again = await InProcessStream.open({ handler: third.handler, log: quietLogger(), folder });
    await again.idle();
    await again.close();
    expect(third.calls).toEqual([]);
    // Everything was handled, so the logs start empty again.
    for (const log of logs) expect((await stat(join(folder, log))).size).toBe(0);
  });

  it('compacts: empties the logs of handled partitions while running, keeps what still waits, and a restart delivers nothing twice', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'stream-'));
    folders.push(folder);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const handled = recordingHandler();
    // Batch "held" waits in its partition until released; every other record is handled at once.
    const stream = await InProcessStream.open({ handler: async (batch) => (seen([batch])[0].some((r) => r.startsWith('held/')) ? held : handled.handler(batch)), log: quietLogger(), folder });
    await stream.publish(records('b1', 3));
    await stream.publish(records('held', 1));
    const logFiles = (await readdir(folder)).filter((name) => name.endsWith('.log'));
    while (seen(handled.calls).flat().length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await stream.compact();
    const sizes = Object.fromEntries(await Promise.all(logFiles.map(async (name) => [name, (await stat(join(folder, name))).size] as const)));
    // The held record's partition keeps it; every other log is empty.
    expect(Object.values(sizes).filter((size) => size > 0)).toHaveLength(1);
    // Records published after a compaction are delivered and committed as before.
    await stream.publish(records('b2', 2));
    release();
    await stream.idle();
    await stream.close();
    expect(seen(handled.calls).flat().sort()).toEqual(['b1/0', 'b1/1', 'b1/2', 'b2/0', 'b2/1']);

    const after = recordingHandler();
    const restarted = await InProcessStream.open({ handler: after.handler, log: quietLogger(), folder });
    await restarted.idle();
    await restarted.close();
    expect(after.calls).toEqual([]);
  });
});
