import { table, target } from './measure';
import { photoLike } from './photo';
import { startServerProcess } from './server-process';

/** 200 MB of files: under the web batch limit of 200 MiB with the multipart framing. */
const BATCH_BYTES = 200_000_000;

/**
 * RSS a large web batch adds to the local host: POST /api/batches with ~200 MB of 12 MP JPEGs (each over the inline
 * limit, so each goes to blob storage), from the request to its 202. The host's peak RSS starts again from its RSS
 * just before the request (Linux clear_refs), so the figure is what the upload itself added.
 *
 * Two runs. As `npm start` runs it, the host's in-memory Azurite holds the blobs the upload stored, so that figure is
 * the upload plus ~200 MB of storage. The target is read on the second run, where the host's blob storage is a process
 * of its own (Azurite, as AzureWebJobsStorage), as storage is a service of its own in Azure: what the function app
 * holds. That Azurite process's growth is printed next to it, so nothing the upload costs goes unshown.
 */
export async function benchBatchMemory(): Promise<void> {
  const photo = await photoLike(4000, 3000, 'jpeg', 42);
  const files = Math.floor(BATCH_BYTES / photo.length);
  const form = new FormData();
  for (let i = 0; i < files; i++) form.append('files', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), `photo-${i}.jpg`);
  const embedded = await uploadAdds(form, { BLOB_WATCH_INTERVAL_MS: '5000' });
  const storage = await startServerProcess('azurite');
  let outside: Awaited<ReturnType<typeof uploadAdds>>;
  try {
    const storageBefore = await storage.stats();
    outside = await uploadAdds(form, { BLOB_WATCH_INTERVAL_MS: '5000', AzureWebJobsStorage: storage.url });
    outside.storageMb = (await storage.stats()).rssMb - storageBefore.rssMb;
  } finally {
    await storage.stop();
  }
  console.log(`\n# RSS of POST /api/batches: ${files} x 12 MP JPEG (${(photo.length / 1024 / 1024).toFixed(2)} MB) = ${((files * photo.length) / 1e6).toFixed(0)} MB`);
  console.log(
    table(
      ['figure', 'host RSS before', 'host peak RSS until the 202', 'added', 'Azurite process RSS added'],
      [
        ['as npm start runs it (Azurite in memory, in the host)', embedded.beforeMb.toFixed(0), embedded.peakMb.toFixed(0), embedded.addedMb.toFixed(0), '-'],
        ['blob storage in its own process', outside.beforeMb.toFixed(0), outside.peakMb.toFixed(0), outside.addedMb.toFixed(0), outside.storageMb!.toFixed(0)],
      ],
      1,
    ),
  );
  target({ what: 'RSS added by a 200 MB POST /api/batches (blob storage in its own process, as in Azure)', measured: outside.addedMb, limit: 100, unit: ' MB' });
}

/** Starts the host, sends the form once, and reports the host's RSS before and its peak until the 202. */
async function uploadAdds(form: FormData, env: Record<string, string>): Promise<{ beforeMb: number; peakMb: number; addedMb: number; storageMb?: number }> {
  const host = await startServerProcess('host', env);
  try {
    await host.reset();
    const before = await host.stats();
    const response = await fetch(`${host.url}/batches`, { method: 'POST', body: form });
    if (response.status !== 202) throw new Error(`POST /api/batches answered ${response.status}: ${await response.text()}`);
    const after = await host.stats();
    return { beforeMb: before.rssMb, peakMb: after.peakMb, addedMb: after.peakMb - before.rssMb };
  } finally {
    await host.stop();
  }
}
