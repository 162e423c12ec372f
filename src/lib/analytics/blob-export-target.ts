import type { BlobStore } from '../storage/blob-store';
import type { ExportTarget } from './export';

const CONTENT_TYPES: Record<string, string> = { parquet: 'application/vnd.apache.parquet', json: 'application/json' };

/** Exports into a blob container: each file one upload, so a reader sees a day's old file or its new one, never half. */
export function blobExportTarget(blobs: BlobStore, container: string): ExportTarget {
  return {
    describe: `blob container ${container}`,
    write: (path, bytes) => blobs.put(container, path, bytes, { contentType: CONTENT_TYPES[path.split('.').pop() ?? ''] ?? 'application/octet-stream' }),
    read: async (path) => (await blobs.get(container, path))?.bytes,
    async *list(prefix) {
      for await (const blob of blobs.list(container, prefix)) yield blob.name;
    },
  };
}
