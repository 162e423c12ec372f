// Large images decode on worker threads: the event loop spends little of the CPU a 7000x7000 BMP costs, a damaged BMP
// still fails with the reader's own reason, and a worker that dies fails only its task.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bilevelBmp } from '../../bench/photo.js';
import { BmpError, decodeBmp } from '../../src/lib/images/bmp.js';
import { ENGINES } from '../../src/lib/images/engines.js';
import { ImageWorkerPool, imageWorkers } from '../../src/lib/images/worker-pool.js';
import { processImage } from '../../src/lib/processing/process-image.js';

const LIMITS = { maxBytes: 50_000_000, maxPixels: 50_000_000 };
const SIDE = 7000;

/** CPU time of the calling thread so far, ms (Linux: /proc/thread-self; USER_HZ is 100 on every Linux Node supports). */
function threadCpuMs(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The share of the process's CPU (every thread: workers, libuv, GC) that this thread, the event loop, spent while
 * `work` ran. CPU time, not wall time: a loaded machine delays a thread but does not make it spend more.
 */
async function eventLoopShare(work: () => Promise<unknown>): Promise<{ loopMs: number; processMs: number }> {
  const loopBefore = threadCpuMs();
  const processBefore = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(processBefore);
  return { loopMs: threadCpuMs() - loopBefore, processMs: (user + system) / 1000 };
}

/** A 4x2 RLE8 BMP whose RLE stream stops after one run, without its end-of-bitmap marker: a header that validates. */
function rle8WithoutEnd(): Buffer {
  const rle = Buffer.from([0x04, 0x01]);
  const file = Buffer.alloc(14 + 40 + 8 + rle.length);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(14 + 40 + 8, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(4, 18);
  file.writeInt32LE(2, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(8, 28);
  file.writeUInt32LE(1, 30); // BI_RLE8
  file.writeUInt32LE(rle.length, 34);
  file.writeUInt32LE(2, 46);
  file.writeUInt32LE(0x00ffffff, 58);
  rle.copy(file, 62);
  return file;
}

afterAll(() => imageWorkers().close());

describe.each(['jimp', 'sharp'] as const)('a 7000x7000 1-bit BMP with the %s engine', (name) => {
  it('is decoded off the event loop: the loop spends under a tenth of the CPU its processing takes', async () => {
    const bmp = bilevelBmp(SIDE, SIDE, 3);
    let processed: Awaited<ReturnType<typeof processImage>> | undefined;
    const { loopMs, processMs } = await eventLoopShare(async () => (processed = await processImage(bmp, ENGINES[name], LIMITS)));
    expect(processed?.metadata).toMatchObject({ format: 'bmp', width: SIDE, height: SIDE });
    // Decoding on the event loop puts nearly all of it there (the BMP reader alone allocates 147 MB of RGB).
    expect(loopMs / processMs).toBeLessThan(0.1);
  });
});

describe('the image worker pool', () => {
  it('fails a damaged BMP with the reason the reader gives on the main thread', async () => {
    const damaged = rle8WithoutEnd();
    const expected = (() => {
      try {
        decodeBmp(damaged, LIMITS.maxPixels);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(expected).toBeInstanceOf(BmpError);
    for (const engine of Object.values(ENGINES)) {
      await expect(processImage(damaged, engine, LIMITS)).rejects.toThrow(`The BMP image cannot be decoded: ${expected?.message}`);
    }
  });

  it('fails the task of a worker that dies and starts a new worker for the next one', async () => {
    const pool = new ImageWorkerPool(1);
    try {
      const running = pool.run({ op: 'sharpBmp', bytes: bilevelBmp(SIDE, SIDE), options: { format: 'bmp', maxPixels: LIMITS.maxPixels, maxSide: 1024 } });
      // Terminating the only worker while it decodes stands in for a crash.
      await new Promise((resolve) => setTimeout(resolve, 50));
      void pool.close();
      await expect(running).rejects.toThrow(/the image worker stopped/);
      const raster = await pool.run<{ width: number; height: number }>({ op: 'sharpBmp', bytes: bilevelBmp(8, 4), options: { format: 'bmp', maxPixels: LIMITS.maxPixels, maxSide: 1024 } });
      expect([raster.width, raster.height]).toEqual([8, 4]);
    } finally {
      await pool.close();
    }
  });
});
