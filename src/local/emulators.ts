import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EmulatorOptions, EmulatorReply, EmulatorRequest } from './emulator-worker';

/**
 * The compiled worker entry: next to this module once built (dist/src/local), and under vitest, which runs the
 * TypeScript sources but cannot load TypeScript in a worker thread, the build's copy (as src/lib/images/worker-pool.ts).
 */
function workerFile(): string {
  const sibling = join(__dirname, 'emulator-worker.js');
  if (existsSync(sibling)) return sibling;
  const built = join(__dirname.replace(`${sep}src${sep}local`, `${sep}dist${sep}src${sep}local`), 'emulator-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`No compiled emulator worker at ${sibling} or ${built}: run npm run build first.`);
}

export interface EmbeddedEmulators {
  /** Azurite's connection string, when it was asked for. */
  storage?: string;
  /** The Cosmos stand-in's connection string, when it was asked for. */
  cosmos?: string;
  /** Rewrites the stand-in's journal as a snapshot (with a folder). */
  compact(): Promise<void>;
  /**
   * Settles when the emulators' thread ends without being stopped: every store request would then fail, so the
   * host stops serving (src/local/host.ts) rather than answer errors, or hang in the SDKs' retries, for ever.
   */
  lost: Promise<Error>;
  /** Calls `listener` after each write Azurite answered to a container of `reportWrites`. */
  onWrite(listener: (container: string) => void): void;
  /** The thread itself: fault-injection tests terminate it. */
  worker: Worker;
  /** The thread's id in /proc/self/task (Linux only): the benchmarks read its CPU time there. */
  osThreadId?: number;
  stop(): Promise<void>;
}

/** Azurite and/or the Cosmos stand-in in one worker thread, off the host's event loop; same HTTP, same ports. */
export async function startEmulators(options: EmulatorOptions): Promise<EmbeddedEmulators> {
  const worker = new Worker(workerFile(), { workerData: options });
  const pending = new Map<number, () => void>();
  const writeListeners: Array<(container: string) => void> = [];
  let next = 1;
  let stopping = false;
  let gone = false;
  let reportLoss: (error: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (reportLoss = resolve));
  const ended = (why: string) => {
    const error = new Error(`The embedded emulators (${[options.storage && 'Azurite', options.cosmos && 'Cosmos DB stand-in'].filter(Boolean).join(', ')}) stopped: ${why}`);
    gone = true;
    for (const done of pending.values()) done();
    pending.clear();
    if (!stopping) reportLoss(error);
    return error;
  };
  const ready = new Promise<Extract<EmulatorReply, { type: 'ready' }>>((resolve, reject) => {
    worker.on('message', (message: EmulatorReply) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'written') for (const listener of writeListeners) listener(message.container);
      else if (message.type === 'failed') reject(Object.assign(new Error(message.message), { code: message.code }));
      else {
        pending.get(message.id)?.();
        pending.delete(message.id);
      }
    });
    worker.once('error', (error) => reject(ended(`its thread threw: ${error.message}`)));
    worker.once('exit', (code) => reject(ended(`its thread exited (code ${code})`)));
  });
  const call = (type: EmulatorRequest['type']) =>
    new Promise<void>((resolve) => {
      if (gone) return resolve();
      const id = next++;
      pending.set(id, resolve);
      worker.postMessage({ type, id } satisfies EmulatorRequest);
    });
  try {
    const { storage, cosmos, osThreadId } = await ready;
    return {
      storage,
      cosmos,
      osThreadId,
      compact: () => call('compact'),
      onWrite: (listener) => void writeListeners.push(listener),
      lost,
      worker,
      stop: async () => {
        if (stopping) return;
        stopping = true;
        await call('stop');
        await worker.terminate();
      },
    };
  } catch (error) {
    stopping = true;
    await worker.terminate();
    throw error;
  }
}
