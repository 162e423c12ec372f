import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryEvent } from './durable-engine';

export type RuntimeStatus = 'Running' | 'Completed' | 'Failed';

/** One orchestration instance as the local Durable backend keeps it: its history, and what it ended with. */
export interface InstanceRecord {
  name: string;
  instanceId: string;
  parentInstanceId?: string;
  runtimeStatus: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  history: HistoryEvent[];
  /**
   * For each task id (the EventId of TaskScheduled, SubOrchestrationInstanceCreated, TimerCreated), the index of
   * the orchestrator action it serves: a retried activity's attempts and retry timers share their action's index.
   */
  actionOf: number[];
  output?: unknown;
  failure?: string;
  customStatus?: unknown;
}

/** Where histories live: each save replaces the instance's record as one unit. */
export interface HistoryStore {
  readonly description: string;
  save(record: InstanceRecord): Promise<void>;
  loadAll(): Promise<InstanceRecord[]>;
  /** Removes the instance's record (a purge); nothing when there is none. */
  delete(instanceId: string): Promise<void>;
}

/** What the memory store keeps of a record: JSON text, so later changes to the live record never reach it. */
interface SavedRecord {
  /** The record without its history. */
  rest: string;
  /** The history, an event at a time. */
  events: string[];
  /** The running instance's history array last saved, to tell whether it only grew since (an ended one's is let go). */
  history?: HistoryEvent[];
}

/**
 * In memory (the default): gone with the process, like everything else the local host keeps in memory. A history only
 * grows while its instance runs (events are appended, never changed), so a save serialises only the events added since
 * the last save of the same history: saving after every episode costs what the episode added, not the whole history.
 */
export class MemoryHistoryStore implements HistoryStore {
  readonly description = 'in memory';
  private readonly records = new Map<string, SavedRecord>();

  async save(record: InstanceRecord): Promise<void> {
    const { history, ...rest } = record;
    const saved = this.records.get(record.instanceId);
    const events = saved?.history === history && saved.events.length <= history.length ? saved.events : [];
    for (let i = events.length; i < history.length; i++) events.push(JSON.stringify(history[i]));
    this.records.set(record.instanceId, { rest: JSON.stringify(rest), events, history: record.runtimeStatus === 'Running' ? history : undefined });
  }

  async loadAll(): Promise<InstanceRecord[]> {
    return [...this.records.values()].map(({ rest, events }) => ({ ...(JSON.parse(rest) as Omit<InstanceRecord, 'history'>), history: JSON.parse(`[${events.join(',')}]`) as HistoryEvent[] }));
  }

  async delete(instanceId: string): Promise<void> {
    this.records.delete(instanceId);
  }
}

/**
 * One JSON file per instance under `folder`, replaced atomically (written aside, then renamed over), so a kill at
 * any moment leaves either the previous or the new history, never a torn one.
 */
export class FileHistoryStore implements HistoryStore {
  readonly description: string;

  constructor(private readonly folder: string) {
    this.description = `on disk in ${folder}`;
  }

  private file(instanceId: string): string {
    return join(this.folder, `${encodeURIComponent(instanceId)}.json`);
  }

  async save(record: InstanceRecord): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const file = this.file(record.instanceId);
    await writeFile(`${file}.tmp`, JSON.stringify(record));
    await rename(`${file}.tmp`, file);
  }

  async loadAll(): Promise<InstanceRecord[]> {
    await mkdir(this.folder, { recursive: true });
    const names = (await readdir(this.folder)).filter((name) => name.endsWith('.json'));
    return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(this.folder, name), 'utf8')) as InstanceRecord));
  }

  async delete(instanceId: string): Promise<void> {
    await rm(this.file(instanceId), { force: true });
  }
}
