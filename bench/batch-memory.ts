import { table, target } from './measure';
import { photoLike } from './photo';
import { startServerProcess } from './server-process';

/** 200 MB of files: under the web batch limit of 200 MiB with the multipart framing. */
const BATCH_BYTES = 200_000_000;

/**
 * RSS a large web batch adds to the local host: POST /api/batches with ~200 MB of 12 MP JPEGs (each over the inline
 * limit, so each goes to blob storage), from the request to its 202. The host's peak RSS starts again from its RSS
 * just before the request (Linux clear_refs), so the figure is what the upload itself added.
 */
export async function benchBatchMemory(): Promise<void> {
  const photo = await photoLike(4000, 3000, 'jpeg', 42);
  const files = Math.floor(BATCH_BYTES / photo.length);
  const host = await startServerProcess('host', { BLOB_WATCH_INTERVAL_MS: '5000' });
  try {
    const form = new FormData();
    for (let i = 0; i < files; i++) form.append('files', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), `photo-${i}.jpg`);
    await host.reset();
    const before = await host.stats();
    const response = await fetch(`${host.url}/batches`, { method: 'POST', body: form });
    if (response.status !== 202) throw new Error(`POST /api/batches answered ${response.status}: ${await response.text()}`);
    const after = await host.stats();
    const added = after.peakMb - before.rssMb;
    console.log(`\n# RSS of POST /api/batches: ${files} x 12 MP JPEG (${(photo.length / 1024 / 1024).toFixed(2)} MB) = ${((files * photo.length) / 1e6).toFixed(0)} MB`);
    console.log(table(['figure', 'MB'], [['host RSS before', before.rssMb.toFixed(0)], ['host peak RSS until the 202', after.peakMb.toFixed(0)], ['added', added.toFixed(0)]], 1));
    target({ what: 'RSS added by a 200 MB POST /api/batches', measured: added, limit: 100, unit: ' MB' });
  } finally {
    await host.stop();
  }
}
