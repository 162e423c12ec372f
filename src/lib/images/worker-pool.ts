import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BmpError } from './bmp';
import type { ImageTask, TaskReply } from './image-worker';

/**
 * The compiled worker entry: next to this module once built (dist/src/lib/images), and under vitest, which runs the
 * TypeScript sources but cannot load TypeScript in a worker thread, the build's copy (CI builds before testing).
 */
function workerFile(): string {
  const sibling = join(__dirname, 'image-worker.js');
  if (existsSync(sibling)) return sibling;
  const built = join(__dirname.replace(`${sep}src${sep}lib${sep}images`, `${sep}dist${sep}src${sep}lib${sep}images`), 'image-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`No compiled image worker at ${sibling} or ${built}: run npm run build first.`);
}

/** The worker's error as the caller would have got it on the main thread (same class for BMP, same message). */
function rebuild(error: { name: string; message: string }): Error {
  return error.name === 'BmpError' ? new BmpError(error.message) : new Error(error.message);
}

interface Queued {
  task: ImageTask;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A few worker threads that run the CPU-bound image work (jimp, the BMP reader) so the event loop keeps serving
 * requests while a large image decodes. One task per worker at a time; a worker that dies fails its task and is
 * replaced on the next one. Idle workers are unref'd, so they never keep a process alive.
 */
export class ImageWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Queued>();
  private readonly queue: Queued[] = [];

  // One core is left to the event loop (and libvips), or it competes with CPU-bound workers for every time slice.
  constructor(private readonly size = Math.max(1, availableParallelism() - 1)) {}

  run<T>(task: ImageTask): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (value: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; tasks in flight fail. */
  async close(): Promise<void> {
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.ref();
      // Inputs are copied, not transferred: the caller keeps using its bytes and rasters.
      worker.postMessage(job.task);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(workerFile());
    worker.on('message', (reply: TaskReply) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if (reply.ok) job?.resolve(reply.value);
      else job?.reject(rebuild(reply.error));
      this.dispatch();
    });
    const lost = (reason: string) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      job?.reject(new Error(`the image worker stopped: ${reason}`));
      this.dispatch();
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }
}

let shared: ImageWorkerPool | undefined;

/** The process's pool, started on first use. */
export const imageWorkers = (): ImageWorkerPool => (shared ??= new ImageWorkerPool());
