import { gunzipSync } from 'node:zlib';
import type { ContainerSpec, Document } from '../../src/lib/backup/document-store';
import { MemoryDocumentStore } from '../../src/lib/backup/memory-document-store';
import { MemoryTarget } from '../../src/lib/backup/memory-target';
import { runBackup, type BackupOptions } from '../../src/lib/backup/export';
import { COSMOS_CONTAINERS } from '../../src/lib/names';

export const IMAGES: ContainerSpec = COSMOS_CONTAINERS.images;
export const BATCHES: ContainerSpec = COSMOS_CONTAINERS.batches;
export const DAY = 24 * 3600;
export const T0 = Date.UTC(2026, 0, 5, 12) / 1000;

/** A Cosmos account and a backup destination in memory, on one clock the test moves (seconds). */
export function world() {
  const clock = { now: T0 };
  const store = new MemoryDocumentStore(() => clock.now);
  const target = new MemoryTarget();
  const waits: number[] = [];
  const backup = (extra: Partial<BackupOptions> = {}) =>
    runBackup({
      store,
      target,
      containers: [IMAGES, BATCHES],
      database: 'image-pipeline',
      source: 'memory',
      retentionDays: 7,
      settleSeconds: 1,
      partSize: 2,
      pageSize: 3,
      now: () => new Date(clock.now * 1000),
      backoff: { sleep: async (ms) => void waits.push(ms), attempts: 5 },
      ...extra,
    });
  /** Moves the clock on, so what was written before is older than the settle time. */
  const advance = (seconds: number) => void (clock.now += seconds);
  return { clock, store, target, waits, backup, advance };
}

const iso = (ts: number) => new Date(ts * 1000).toISOString();

/** A single upload's document as the app writes it, with the personal fields the privacy policy names. */
export const image = (id: string, createdTs: number, fileName = `${id}-holiday.jpg`): Document => ({
  id,
  partitionKey: id,
  type: 'image',
  status: 'succeeded',
  source: { container: 'uploads', blob: id, fileName, bytes: 1000, sha256: `sha-${id}`, uploadedAt: iso(createdTs) },
  metadata: { format: 'jpeg', width: 10, height: 10, camera: { make: 'Canon', model: `EOS ${id}` }, takenAt: '2025-12-24T18:00:00+01:00' },
  createdAt: iso(createdTs),
  updatedAt: iso(createdTs),
});

export const batch = (id: string, createdTs: number): Document => ({
  id,
  type: 'batch',
  status: 'completed',
  itemCount: 1,
  callbackUrl: `https://hooks.example/${id}?token=secret`,
  createdAt: iso(createdTs),
  updatedAt: iso(createdTs),
});

/** What the retention sweep (issue 9) leaves of a document: the same document without its personal fields. */
export function deidentified(doc: Document): Document {
  const { callbackUrl: _url, ...rest } = doc as Document & { callbackUrl?: string };
  const source = rest.source as Record<string, unknown> | undefined;
  const metadata = rest.metadata as Record<string, unknown> | undefined;
  return {
    ...rest,
    ...(source ? { source: { ...source, fileName: undefined, sha256: undefined } } : {}),
    ...(metadata ? { metadata: { ...metadata, camera: undefined, takenAt: undefined } } : {}),
    deidentified: true,
  };
}

/** Every document version held in any backup file of the target, as text (to search for personal data). */
export function everythingIn(target: MemoryTarget): string {
  return [...target.files.entries()].map(([name, bytes]) => (name.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8'))).join('\n');
}

/** The app's documents of a container, as the store has them now, by id. */
export async function contents(store: MemoryDocumentStore, container: ContainerSpec): Promise<Record<string, Document>> {
  const page = await store.changed(container, { afterTs: 0, untilTs: Number.MAX_SAFE_INTEGER }, { limit: 10_000 });
  return Object.fromEntries(page.documents.map(({ _ts: _drop, ...doc }) => [doc.id, JSON.parse(JSON.stringify(doc)) as Document]));
}
