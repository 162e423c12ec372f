import { describe, expect, it } from 'vitest';
import type { BatchDocument, RejectedRecord } from '../../src/lib/batch/batch-document';
import { deidentify, isDeidentified } from '../../src/lib/privacy/deidentify';
import { expiryCutoff } from '../../src/lib/privacy/retention';
import type { ImageDocument } from '../../src/lib/results/image-document';

const at = new Date('2026-12-09T11:00:00.000Z');

const image: ImageDocument = {
  id: 'b1_3',
  partitionKey: 'b1',
  schemaVersion: 1,
  type: 'image',
  batchId: 'b1',
  itemIndex: 3,
  status: 'succeeded',
  source: { container: 'batches', blob: 'b1/holiday-anna.jpg', fileName: 'holiday-anna.jpg', contentType: 'image/jpeg', bytes: 48213, sha256: 'ab'.repeat(32), uploadedAt: '2026-12-01T09:41:17.123Z' },
  metadata: { format: 'jpeg', width: 640, height: 480, bytes: 48213, hasAlpha: false, orientation: 6, camera: { make: 'Canon', model: 'EOS R6' }, takenAt: '2026-11-30T18:02:11+01:00' },
  analysis: { perceptualHash: 'f0e4c8c8d8981c3e', meanColour: '#7a6b5c', palette: [{ colour: '#2f3b45', share: 1 }], brightness: 0.43, contrast: 0.21, sharpness: 412.7 },
  derivatives: { thumbnail: { container: 'derived', blob: 'b1_3/thumbnail.jpg', contentType: 'image/jpeg', width: 256, height: 192, bytes: 9000 } },
  processing: { engine: 'sharp', durationMs: 61.2, finishedAt: '2026-12-01T09:41:18.500Z' },
  warnings: ['Premature end of JPEG file'],
  createdAt: '2026-12-01T09:41:17.200Z',
  updatedAt: '2026-12-01T09:41:18.500Z',
  owner: '5b0c2f43-9d1e-4a8b-a7e2-3f6d8c1b9e70',
};

const batch: BatchDocument = {
  id: 'b1',
  type: 'batch',
  schemaVersion: 1,
  status: 'completed',
  itemCount: 4,
  callbackUrl: 'https://hooks.example.test/done?token=s3cret',
  owner: '5b0c2f43-9d1e-4a8b-a7e2-3f6d8c1b9e70',
  ingestToken: 'q'.repeat(32),
  createdAt: '2026-12-01T09:41:10.000Z',
  updatedAt: '2026-12-01T09:42:00.000Z',
  startedAt: '2026-12-01T09:41:20.000Z',
  instanceId: 'b1',
  completedAt: '2026-12-01T09:42:00.000Z',
  summary: {
    itemCount: 4,
    counts: { succeeded: 3, failed: 1, pending: 0 },
    durationsMs: { p50: 60, p95: 80, max: 80, total: 200 },
    wallClockMs: 40000,
    formats: { jpeg: 3 },
    sizes: { totalBytes: 150000, minBytes: 40000, maxBytes: 60000, buckets: { '< 100 KB': 3 } },
    duplicateGroups: [{ perceptualHash: 'f0e4c8c8d8981c3e', items: [0, 3] }],
    failures: [{ index: 2, fileName: 'anna-passport.txt', reason: 'The bytes are not a JPEG, PNG, GIF, WebP, TIFF or BMP image.' }],
    startedAt: '2026-12-01T09:41:20.000Z',
    finishedAt: '2026-12-01T09:42:00.000Z',
  },
  callback: { delivered: false, status: 500, error: 'HTTP 500 from hooks.example.test', at: '2026-12-01T09:42:01.000Z' },
};

const rejected: RejectedRecord = {
  id: 'b1_rejected_0123',
  batchId: 'b1',
  index: 9,
  fileName: 'anna-extra.jpg',
  reason: 'ip-item-index 9 is outside the batch\'s 4 items.',
  headers: { 'ip-version': '1', 'ip-batch-id': 'b1', 'ip-file-name': 'anna-extra.jpg' },
  sha256: 'cd'.repeat(32),
  at: '2026-12-01T09:41:30.000Z',
};

describe('deidentify', () => {
  it('keeps of an image its status, format, dimensions, bytes, analysis, timings, batch and day; nothing personal', () => {
    expect(deidentify(image, at)).toEqual({
      id: 'b1_3',
      partitionKey: 'b1',
      schemaVersion: 1,
      type: 'image',
      batchId: 'b1',
      itemIndex: 3,
      status: 'succeeded',
      source: { container: 'batches', blob: '', contentType: 'image/jpeg', bytes: 48213, uploadedAt: '2026-12-01T00:00:00.000Z' },
      metadata: { format: 'jpeg', width: 640, height: 480, bytes: 48213, hasAlpha: false, orientation: 6 },
      analysis: image.analysis,
      processing: { engine: 'sharp', durationMs: 61.2, finishedAt: '2026-12-01T00:00:00.000Z' },
      warnings: ['Premature end of JPEG file'],
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:00.000Z',
      deidentifiedAt: '2026-12-09T11:00:00.000Z',
    });
  });

  it('keeps of a batch its counts, summary without file names, and whether its callback was delivered; never the URL', () => {
    const out = deidentify(batch, at);
    expect(out).toEqual({
      id: 'b1',
      type: 'batch',
      schemaVersion: 1,
      status: 'completed',
      itemCount: 4,
      createdAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:00.000Z',
      startedAt: '2026-12-01T00:00:00.000Z',
      instanceId: 'b1',
      completedAt: '2026-12-01T00:00:00.000Z',
      summary: { ...batch.summary, failures: [{ index: 2, reason: 'The bytes are not a JPEG, PNG, GIF, WebP, TIFF or BMP image.' }], startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:00:00.000Z' },
      callback: { delivered: false, status: 500, at: '2026-12-01T00:00:00.000Z' },
      deidentifiedAt: '2026-12-09T11:00:00.000Z',
    });
    // A callback asked for but never sent stays visible as undelivered; a batch without one has none.
    const { callback: _c, ...unsent } = batch;
    expect(deidentify(unsent, at).callback).toEqual({ delivered: false, at: '2026-12-01T00:00:00.000Z' });
    const { callbackUrl: _u, callback: _n, ...none } = batch;
    expect(deidentify(none, at).callback).toBeUndefined();
  });

  it('keeps of a rejected record its batch, index, reason and day; no file name, headers or hash', () => {
    expect(deidentify(rejected, at)).toEqual({ id: 'b1_rejected_0123', batchId: 'b1', index: 9, reason: rejected.reason, headers: {}, at: '2026-12-01T00:00:00.000Z', deidentifiedAt: '2026-12-09T11:00:00.000Z' });
  });

  it('is idempotent, and marks what it produced', () => {
    for (const doc of [image, batch, rejected] as const) {
      const once = deidentify(doc as never, at) as { deidentifiedAt?: string };
      expect(isDeidentified(doc)).toBe(false);
      expect(isDeidentified(once)).toBe(true);
      expect(deidentify(once as never, new Date('2026-12-10T00:00:00Z'))).toEqual({ ...once, deidentifiedAt: '2026-12-10T00:00:00.000Z' });
    }
  });

  it('drops a field it does not know (an allow-list: a new field stays out until someone decides it may stay)', () => {
    const withNew = { ...image, source: { ...image.source, uploaderIp: '203.0.113.9' }, uploaderEmail: 'anna@example.test' } as ImageDocument;
    expect(JSON.stringify(deidentify(withNew, at))).not.toMatch(/203\.0\.113\.9|anna@example/);
  });
});

describe('expiryCutoff', () => {
  it('expires what is older than RETENTION_DAYS less one hourly sweep period, so the hourly sweep is never late', () => {
    expect(expiryCutoff(new Date('2026-12-09T11:00:00.000Z'), 7).toISOString()).toBe('2026-12-02T12:00:00.000Z');
    expect(expiryCutoff(new Date('2026-12-09T11:00:00.000Z'), 1).toISOString()).toBe('2026-12-08T12:00:00.000Z');
  });
});
