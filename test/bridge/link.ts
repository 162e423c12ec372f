import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/** Kafka request frames start with int32 size, int16 api key: Produce is key 0. */
const isProduceRequest = (chunk: unknown) => Buffer.isBuffer(chunk) && chunk.length >= 6 && chunk.readInt16BE(4) === 0;

/**
 * Fault injection for the network between the bridge and the cloud: a kafkajs socketFactory whose connections can be
 * cut (every open socket destroyed, new ones refused with ECONNREFUSED) and restored, as when the WAN link of the data
 * centre goes down. `cutAfterNextProduce` cuts right after a produce request has been handed to the kernel, so the
 * cloud may have appended the records while the bridge never sees the acknowledgement.
 */
export function cuttableLink() {
  const open = new Set<net.Socket>();
  let down = false;
  let armed = false;
  let cuts = 0;
  const cut = () => {
    down = true;
    cuts++;
    // What the client sees when a link drops: the connection is reset.
    for (const socket of open) socket.destroy(Object.assign(new Error('read ECONNRESET (link down)'), { code: 'ECONNRESET' }));
  };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (down) {
      const refused = new net.Socket();
      process.nextTick(() => refused.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (link down)`), { code: 'ECONNREFUSED' })));
      return refused;
    }
    const socket = net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const write = socket.write.bind(socket) as (chunk: unknown, encoding?: BufferEncoding, callback?: () => void) => boolean;
    socket.write = ((chunk: unknown, encoding?: BufferEncoding) => {
      if (!armed || !isProduceRequest(chunk)) return write(chunk, encoding);
      armed = false;
      return write(chunk, encoding, cut);
    }) as typeof socket.write;
    return socket;
  };
  return {
    socketFactory,
    cut,
    cutAfterNextProduce: () => void (armed = true),
    restore: () => void (down = false),
    get cuts() {
      return cuts;
    },
  };
}
