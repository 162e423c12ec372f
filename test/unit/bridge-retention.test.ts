import { describe, expect, it } from 'vitest';
import { PRIVACY_RETENTION_MS, retentionWarning } from '../../src/cli/bridge';

const DAY = 24 * 60 * 60 * 1000;

describe('in-house topic retention against the 7-day privacy policy', () => {
  it('accepts up to 7 days', () => {
    expect(PRIVACY_RETENTION_MS).toBe(7 * DAY);
    expect(retentionWarning('image-batches', 7 * DAY)).toBeUndefined();
    expect(retentionWarning('image-batches', 3 * DAY)).toBeUndefined();
  });

  it('warns about longer or unlimited retention, with the command that fixes it', () => {
    expect(retentionWarning('image-batches', 7 * DAY + 1)).toMatch(/keeps records for 7\.0 days, longer than the 7-day privacy policy/);
    expect(retentionWarning('image-batches', 30 * DAY)).toBe(
      'bridge: WARNING in-house topic image-batches keeps records for 30.0 days, longer than the 7-day privacy policy; shorten it: ' +
        'kafka-configs.sh --alter --entity-type topics --entity-name image-batches --add-config retention.ms=604800000',
    );
    expect(retentionWarning('t', -1)).toMatch(/keeps records for ever/);
  });
});
