import { setPriority } from 'node:os';
import { parentPort, isMainThread, type MessagePort } from 'node:worker_threads';
import type { DecodeOptions, Raster } from './engine';
import { jimpEngine } from './jimp-engine';
import { decodeBmpWithSharp } from './sharp-engine';

/** What the pool asks a worker thread to do: the jimp engine's steps, and BMP decoding for the sharp engine. */
export type ImageTask =
  | { op: 'decode'; bytes: Uint8Array; options: DecodeOptions }
  | { op: 'resize'; image: Raster; maxSide: number }
  | { op: 'encodeJpeg'; image: Raster; quality: number }
  | { op: 'sharpBmp'; bytes: Uint8Array; options: DecodeOptions };

export type TaskReply = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string } };

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function perform(task: ImageTask): Promise<Raster | Uint8Array> | Raster {
  switch (task.op) {
    case 'decode':
      return jimpEngine.decode(asBuffer(task.bytes), task.options);
    case 'resize':
      return jimpEngine.resize(task.image, task.maxSide);
    case 'encodeJpeg':
      return jimpEngine.encodeJpeg(task.image, task.quality);
    case 'sharpBmp':
      return decodeBmpWithSharp(task.bytes, task.options);
  }
}

/** Pixels go back by transfer when they own their whole buffer (a pooled small Buffer shares it: that one is copied). */
function transferable(value: Raster | Uint8Array): ArrayBuffer[] {
  const data = value instanceof Uint8Array ? value : value.data;
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? [data.buffer] : [];
}

/**
 * Node 22 refuses to transfer an ArrayBuffer whose memory a native addon owns (sharp's output Buffers), and says so
 * only by throwing: such a reply goes by copy instead.
 */
function postReply(port: MessagePort, reply: TaskReply, transfer: ArrayBuffer[]): void {
  try {
    port.postMessage(reply, transfer);
  } catch (error) {
    if (transfer.length === 0 || !(error instanceof Error && error.name === 'DataCloneError')) throw error;
    port.postMessage(reply);
  }
}

/**
 * Linux keeps a nice value per thread: this worker's own yields the CPU to the event loop whenever both want it (two
 * cores, a multi-second BMP decode and the HTTP server), and still gets every cycle the loop leaves idle. Elsewhere
 * the call would lower the whole process, so it is made on Linux only.
 */
const WORKER_NICE = 10;

if (!isMainThread && parentPort) {
  if (process.platform === 'linux') setPriority(0, WORKER_NICE);
  const port = parentPort;
  port.on('message', async (task: ImageTask) => {
    try {
      const value = await perform(task);
      postReply(port, { ok: true, value }, transferable(value));
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ ok: false, error: { name, message } } satisfies TaskReply);
    }
  });
}
