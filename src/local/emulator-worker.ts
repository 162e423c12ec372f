// The embedded emulators' thread (started by src/local/emulators.ts): Azurite and the Cosmos stand-in serve their
// loopback HTTP here, so their request handling never waits behind the host's handlers, nor theirs behind it.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { startAzurite } from './azurite';
import { startCosmosStandIn } from './cosmos-standin';

export interface EmulatorOptions {
  storage: boolean;
  cosmos: boolean;
  /** LOCAL_STORAGE_PATH: Azurite's files in it, the stand-in's journal in its `cosmos` folder. */
  storagePath?: string;
  cosmosFolder?: string;
  /** Containers whose writes the host is told of (`written`): the blob watcher lists only after one. */
  reportWrites?: string[];
}
export type EmulatorRequest = { type: 'compact'; id: number } | { type: 'stop'; id: number };
export type EmulatorReply =
  | { type: 'ready'; storage?: string; cosmos?: string; osThreadId?: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'done'; id: number }
  | { type: 'written'; container: string };

/** This thread's id in /proc/self/task (Linux; undefined elsewhere): the benchmarks read the emulators' CPU there. */
function osThreadId(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

async function main(options: EmulatorOptions): Promise<void> {
  const port = parentPort!;
  const stops: Array<() => Promise<void>> = [];
  const reply = (message: EmulatorReply) => port.postMessage(message);
  try {
    const reported = new Set(options.reportWrites);
    const onWrite = reported.size ? (container: string) => reported.has(container) && reply({ type: 'written', container }) : undefined;
    const azurite = options.storage ? await startAzurite(options.storagePath, onWrite) : undefined;
    if (azurite) stops.push(azurite.stop);
    const cosmos = options.cosmos ? await startCosmosStandIn(0, options.cosmosFolder) : undefined;
    if (cosmos) stops.push(cosmos.stop);
    port.on('message', async (message: EmulatorRequest) => {
      if (message.type === 'compact') cosmos?.compact?.();
      if (message.type === 'stop') for (const stop of stops) await stop();
      reply({ type: 'done', id: message.id });
    });
    reply({ type: 'ready', storage: azurite?.connectionString, cosmos: cosmos?.connectionString, osThreadId: osThreadId() });
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    reply({ type: 'failed', message: (error as Error).message, code: (error as NodeJS.ErrnoException).code });
  }
}

void main(workerData as EmulatorOptions);
