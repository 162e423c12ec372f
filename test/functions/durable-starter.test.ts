import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invocationStarter } from '../../src/functions/durable-starter';
import { startFakeDurableExtension } from './fake-durable-extension';

let extension: Awaited<ReturnType<typeof startFakeDurableExtension>>;
beforeAll(async () => {
  extension = await startFakeDurableExtension();
});
afterAll(() => extension?.stop());
beforeEach(() => extension.reset());
/** The starter as src/functions builds it: from an invocation registered with Durable's client input. */
function starter() {
  const input = df.input.durableClient();
  const context = new InvocationContext({ functionName: 'ingestBatchRecords', options: { trigger: { type: 'eventHubTrigger', name: 'trigger' }, extraInputs: [input], extraOutputs: [] } });
  context.extraInputs.set(input, extension.clientData);
  return invocationStarter(context);
}

describe('the Azure orchestration starter (durable-functions client against a fake extension)', () => {
  it('starts a new instance under the given id, with the input', async () => {
    expect(await starter().startOnce('batchOrchestrator', 'b1', { batchId: 'b1', itemCount: 3 })).toBe(true);
    expect(extension.instances.get('b1')).toMatchObject({ name: 'batchOrchestrator', input: { batchId: 'b1', itemCount: 3 } });
  });

  it.each(['Running', 'Completed', 'Failed', 'Terminated'])('never starts an instance that exists (%s): startNew would restart an ended one', async (runtimeStatus) => {
    extension.instances.set('b2', { name: 'batchOrchestrator', runtimeStatus, input: null, output: null });
    expect(await starter().startOnce('batchOrchestrator', 'b2', {})).toBe(false);
    expect(extension.posts).toEqual([]);
  });

  it('takes "already exists" from a racing trigger instance as started, and passes other errors on', async () => {
    extension.state.startError = { status: 400, message: 'An Orchestration instance with the status Running already exists.' };
    expect(await starter().startOnce('batchOrchestrator', 'b3', {})).toBe(false);
    extension.state.startError = { status: 500, message: 'The task hub is not reachable.' };
    await expect(starter().startOnce('batchOrchestrator', 'b4', {})).rejects.toThrow(/500.*task hub is not reachable/);
  });

  it('reads an instance state: absent, running, completed, failed with the reason', async () => {
    const s = starter();
    expect(await s.state('none')).toBeUndefined();
    for (const [runtimeStatus, output, expected] of [
      ['Pending', null, { status: 'running' }],
      ['Running', null, { status: 'running' }],
      ['Suspended', null, { status: 'running' }],
      ['Completed', { ok: true }, { status: 'completed' }],
      ['Failed', "Orchestrator function 'batchOrchestrator' failed: Cosmos DB answered 503", { status: 'failed', error: "Failed: Orchestrator function 'batchOrchestrator' failed: Cosmos DB answered 503" }],
      ['Terminated', 'stopped by an operator', { status: 'failed', error: 'Terminated: stopped by an operator' }],
    ] as const) {
      extension.instances.set('i', { name: 'batchOrchestrator', runtimeStatus, input: null, output });
      expect(await s.state('i'), runtimeStatus).toEqual(expected);
    }
  });

  it('purges the histories of ended instances created before the cutoff, through purgeInstanceHistoryBy', async () => {
    const old = '2026-11-01T10:00:00.000Z';
    for (const [id, runtimeStatus, createdTime] of [
      ['old-completed', 'Completed', old],
      ['old-failed', 'Failed', old],
      ['old-terminated', 'Terminated', old],
      ['old-running', 'Running', old],
      ['new-completed', 'Completed', '2026-11-20T10:00:00.000Z'],
    ] as const) {
      extension.instances.set(id, { name: 'batchOrchestrator', runtimeStatus, input: null, output: null, createdTime });
    }
    const s = starter();
    expect(await s.purgeEnded(new Date('2026-11-10T00:00:00.000Z'))).toBe(3);
    expect([...extension.instances.keys()].sort()).toEqual(['new-completed', 'old-running']);
    expect(extension.purges).toEqual([
      { createdTimeFrom: '1970-01-01T00:00:00.000Z', createdTimeTo: '2026-11-10T00:00:00.000Z', runtimeStatus: 'Completed,Failed,Terminated,Canceled' },
    ]);
    // Nothing left to purge: the extension answers 404, which is 0.
    expect(await s.purgeEnded(new Date('2026-11-10T00:00:00.000Z'))).toBe(0);
  });
});
