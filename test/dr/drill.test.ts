// The region-loss drill (drill/region-loss.ts, npm run drill) on the real local hosts: what it measures must hold.
import { describe, expect, it } from 'vitest';
import { runRegionLossDrill } from '../../drill/region-loss';

describe('disaster recovery drill: region A lost, region B started from the latest backup', () => {
  it('restores everything backed up, loses only what came after the recovery point, and re-runs the in-flight batch', async () => {
    const result = await runRegionLossDrill();
    // Only the upload made after the last backup is lost: its image document, its analytics fact and the day's
    // counters as it changed them; nothing else.
    const id = result.uploadAfterBackup;
    expect(result.lost).toEqual([`facts/image:${id}`, `images/${id}`, expect.stringMatching(/^stats\/day:\d{4}-\d{2}-\d{2}$/)]);
    // 2 uploads, the batch's 2 items, the batch; the 2 uploads' facts and the day's counters (the batch has not ended).
    expect(result.restored).toBe(2 + 2 + 1 + 2 + 1);
    expect(result.recoveryPoint.getTime()).toBeLessThan(result.lossAt.getTime());
    expect(result.recoverySeconds).toBeGreaterThan(0);
    expect(result.recoverySeconds).toBeGreaterThanOrEqual(result.hostStartSeconds);
    // The in-flight batch completed in region B without the 2 images region A stored, then the re-run got them all.
    expect(result.inFlight.ended).toMatchObject({ status: 'completed', succeeded: 2, failed: 2 });
    expect(result.inFlight.rerun).toMatchObject({ status: 'completed', succeeded: 4, failed: 0 });
    expect(result.lines.join('\n')).toMatch(/recovery point: \S+, [\d.]+ s before the loss; lost: 3 documents written after it/);
    expect(result.lines.join('\n')).toMatch(/recovery time: [\d.]+ s from the loss to region B serving the restored data \(host B started in [\d.]+ s, restore of 8 documents in [\d.]+ s\)/);
  }, 120_000);
});
