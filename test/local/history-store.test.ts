import { describe, expect, it } from 'vitest';
import { EVENT, type HistoryEvent } from '../../src/local/durable-engine';
import { MemoryHistoryStore, type InstanceRecord } from '../../src/local/history-store';

const event = (EventType: number, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({ EventType, EventId: -1, Timestamp: new Date(), IsPlayed: false, ...fields });
/** What a save must keep: the record as it was at that moment, as JSON gives it back. */
const snapshot = (record: InstanceRecord) => JSON.parse(JSON.stringify(record)) as InstanceRecord;

describe('the in-memory history store', () => {
  it('keeps each record as it was when saved, while saving only what a growing history added', async () => {
    const store = new MemoryHistoryStore();
    const record: InstanceRecord = {
      name: 'o',
      instanceId: 'i1',
      runtimeStatus: 'Running',
      createdTime: '2026-11-26T00:00:00.000Z',
      lastUpdatedTime: '2026-11-26T00:00:00.000Z',
      history: [event(EVENT.OrchestratorStarted), event(EVENT.ExecutionStarted, { Name: 'o', Input: '{"a":1}' })],
      actionOf: [],
    };
    await store.save(record);
    const first = snapshot(record);

    // The live record changes after the save: the store still has the saved one.
    record.history.push(event(EVENT.TaskScheduled, { EventId: 0, Name: 'act', Input: '1' }));
    record.actionOf.push(0);
    record.customStatus = { step: 1 };
    expect(await store.loadAll()).toEqual([first]);

    await store.save(record);
    record.history.push(event(EVENT.OrchestratorStarted), event(EVENT.TaskCompleted, { TaskScheduledId: 0, Result: '"done"' }));
    await store.save(record);
    const third = snapshot(record);
    expect(await store.loadAll()).toEqual([third]);

    // A different history array (a record loaded again, then saved) is saved whole, not appended to the old one.
    const reloaded = { ...snapshot(record), history: record.history.slice(0, 2), runtimeStatus: 'Completed' as const, output: 'done' };
    await store.save(reloaded);
    expect(await store.loadAll()).toEqual([snapshot(reloaded)]);

    await store.delete('i1');
    expect(await store.loadAll()).toEqual([]);
  });
});
