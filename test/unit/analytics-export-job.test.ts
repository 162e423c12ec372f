// The daily analytics export as the maintenance timer runs it: into the analytics container, only the days that
// changed since its last run, and a run that fails part way is made good by the next. The files are read back by
// DuckDB, not by the writer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { recordImageEnd } from '../../src/lib/analytics/record';
import { isDue, maintenanceJobs } from '../../src/lib/jobs/maintenance';
import { ANALYTICS_CONTAINER } from '../../src/lib/names';
import { queuedImage, type ImageDocument } from '../../src/lib/results/image-document';
import { storageError } from '../support/faults';
import { memoryLogger } from '../integration/local-host';
import { memoryServices } from '../support/memory-services';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const MINUTE = 60_000;

function succeeded(id: string, day: string): ImageDocument {
  const source = { container: 'uploads', blob: id, fileName: `${id}.jpg`, contentType: 'image/jpeg', bytes: 1000, sha256: 'a'.repeat(64), uploadedAt: `${day}T10:00:00.000Z` };
  return {
    ...queuedImage({ id, partitionKey: id, source }, new Date(source.uploadedAt)),
    status: 'succeeded',
    metadata: { format: 'png', width: 100, height: 50, bytes: 1000, hasAlpha: false },
    // Hashes far apart, so no image is a near-duplicate of another.
    analysis: { perceptualHash: id === 'a' ? '3c5a9f0e1b2d4c6a' : id === 'b' ? 'c3a560f1e4d2b395' : '5a5a5a5aa5a5a5a5', meanColour: '#808080', palette: [], brightness: 0.5, contrast: 0.2, sharpness: 100 },
    processing: { engine: 'sharp', durationMs: 10, finishedAt: `${day}T10:00:01.000Z` },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'export-job-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

/** The image ids DuckDB reads from one exported facts file. */
async function idsIn(parquet: Buffer): Promise<string[]> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.parquet`);
  writeFileSync(file, parquet);
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await connection.runAndReadAll(`SELECT image_id FROM read_parquet('${file}') ORDER BY image_id`)).getRows();
  connection.closeSync();
  return rows.map(([id]) => String(id));
}

describe('the daily analytics export job', () => {
  it('exports the changed days to the analytics container, again after a failed run, and replaces a day that changes', async () => {
    // The store stamps aggregates with the clock (Cosmos DB's _ts), so the clock is set for each step.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const { services, memory, faults } = await memoryServices();
    const log = memoryLogger();
    const unusedStarter = { startOnce: () => Promise.reject(new Error('not used')), state: () => Promise.reject(new Error('not used')), purgeEnded: () => Promise.reject(new Error('not used')) };
    const job = maintenanceJobs({ services, starter: unusedStarter, log }).find((j) => j.name === 'analytics-export')!;
    expect(isDue(job, new Date('2026-11-26T00:00:00Z'))).toBe(true);
    expect(isDue(job, new Date('2026-11-26T12:00:00Z'))).toBe(false);

    const recorder = { analytics: services.analytics, duplicateDistance: 4, ownerHashOf: () => null };
    await recordImageEnd(recorder, succeeded('a', '2026-11-24'));
    await recordImageEnd(recorder, succeeded('b', '2026-11-25'));
    const file = async (path: string) => (await memory.blobs.get(ANALYTICS_CONTAINER, path))?.bytes;

    // The second file write fails: the run fails and leaves no progress behind.
    vi.setSystemTime(T0 + 10 * MINUTE);
    let puts = 0;
    faults.storage.fail(['put'], 1, () => storageError(503), () => puts++ === 1);
    await expect(job.run(new Date())).rejects.toThrow('503');
    expect(await file('_state/export.json')).toBeUndefined();

    // The next run writes both days.
    vi.setSystemTime(T0 + 20 * MINUTE);
    expect(await job.run(new Date())).toEqual([
      { day: '2026-11-24', facts: 1, batches: 0 },
      { day: '2026-11-25', facts: 1, batches: 0 },
    ]);
    expect(await idsIn((await file('facts/date=2026-11-24/part-0.parquet'))!)).toEqual(['a']);
    expect(await idsIn((await file('facts/date=2026-11-25/part-0.parquet'))!)).toEqual(['b']);
    expect(await file('batches/date=2026-11-25/part-0.parquet')).toBeDefined();
    expect(log.lines.join('\n')).toContain(`to blob container ${ANALYTICS_CONTAINER}`);

    // Nothing changed since: nothing written.
    vi.setSystemTime(T0 + 30 * MINUTE);
    expect(await job.run(new Date())).toEqual([]);

    // A new image on an earlier day: that day alone is written again, whole.
    vi.setSystemTime(T0 + 40 * MINUTE);
    await recordImageEnd(recorder, succeeded('c', '2026-11-24'));
    vi.setSystemTime(T0 + 50 * MINUTE);
    expect(await job.run(new Date())).toEqual([{ day: '2026-11-24', facts: 2, batches: 0 }]);
    expect(await idsIn((await file('facts/date=2026-11-24/part-0.parquet'))!)).toEqual(['a', 'c']);
    expect(faults.storage.injected).toEqual([`put(${ANALYTICS_CONTAINER})`]);
  });
});
