import { describe, expect, it } from 'vitest';
import { recordsFromEventHub } from '../../src/lib/batch/event-hub-records';
import { BLOB_REF_CONTENT_TYPE, buildRecord, decodeHeaders, headersAsBytes, parseRecord, type RawRecord } from '../../src/lib/batch/record';
import { summarise } from '../../src/lib/batch/summary';
import type { ImageDocument } from '../../src/lib/results/image-document';

const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
const base = (overrides: Partial<Parameters<typeof buildRecord>[0]> = {}) =>
  buildRecord({ batchId: 'batch-1', index: 2, count: 5, fileName: 'café.jpg', contentType: 'image/jpeg', bytes: jpeg, ...overrides });
const raw = (record = base(), headers: Record<string, unknown> = headersAsBytes(record.headers)): RawRecord => ({ key: record.key, value: record.value, headers });

describe('batch record headers', () => {
  const text = base().headers;

  it('decodes the byte-array shapes a Kafka header can arrive in', () => {
    const asBuffer = headersAsBytes(text);
    const asArrays = Object.fromEntries(Object.entries(asBuffer).map(([k, v]) => [k, [...v]]));
    const asSerialisedBuffers = JSON.parse(JSON.stringify(asBuffer));
    const asUint8 = Object.fromEntries(Object.entries(asBuffer).map(([k, v]) => [k, new Uint8Array(v)]));
    const asBase64 = Object.fromEntries(Object.entries(asBuffer).map(([k, v]) => [k, v.toString('base64')]));
    for (const shape of [asBuffer, asArrays, asSerialisedBuffers, asUint8, asBase64, text]) {
      expect(decodeHeaders(shape)).toEqual(text);
    }
    expect(decodeHeaders({ ...asBuffer, 'IP-FILE-NAME': Buffer.from('x.png'), other: Buffer.from('ignored') })['ip-file-name']).toBe('x.png');
  });

  it('maps an Event Hubs trigger batch (cardinality many) to records', () => {
    const record = base();
    const [mapped] = recordsFromEventHub([new Uint8Array(record.value)], {
      propertiesArray: [JSON.parse(JSON.stringify(headersAsBytes(record.headers)))],
      systemPropertiesArray: [{ PartitionKey: 'batch-1', SequenceNumber: 42 }],
    });
    expect(mapped).toMatchObject({ key: 'batch-1', position: 'sequence 42' });
    expect(mapped.value.equals(jpeg)).toBe(true);
    expect(parseRecord(mapped)).toMatchObject({ ok: true, batchId: 'batch-1', index: 2, count: 5, fileName: 'café.jpg', declaredType: 'image/jpeg' });
    // A JSON body the worker already parsed is turned back into bytes.
    const ref = buildRecord({ batchId: 'batch-1', index: 0, count: 1, blobName: 'batch-1/big' });
    const [parsedRef] = recordsFromEventHub([{ blob: 'batches/batch-1/big' }], { propertiesArray: [ref.headers] });
    expect(parseRecord(parsedRef)).toMatchObject({ ok: true, payload: { kind: 'blob', container: 'batches', name: 'batch-1/big' } });
  });
});

describe('parseRecord', () => {
  it('accepts inline bytes and blob references under the batch', () => {
    expect(parseRecord(raw())).toMatchObject({ ok: true, payload: { kind: 'bytes' } });
    const ref = buildRecord({ batchId: 'batch-1', index: 0, count: 1, blobName: 'batch-1/0', callbackUrl: 'https://example.test/cb' });
    expect(ref.headers['ip-content-type']).toBe(BLOB_REF_CONTENT_TYPE);
    expect(parseRecord(raw(ref))).toMatchObject({ ok: true, callbackUrl: 'https://example.test/cb', payload: { kind: 'blob', name: 'batch-1/0' } });
  });

  it('keeps a valid image whose ip-file-name is over 255 bytes, with the name shortened', () => {
    const parsed = parseRecord(raw(base({ fileName: `${'ж'.repeat(300)}.jpeg` })));
    expect(parsed).toMatchObject({ ok: true, fileName: `${'ж'.repeat(125)}.jpeg` });
  });

  it('cannot place a record without batch id, index or count', () => {
    const record = base();
    const { 'ip-batch-id': _omit, ...headers } = record.headers;
    const parsed = parseRecord(raw(record, headers));
    expect(parsed.ok).toBe(false);
    expect(parsed).not.toHaveProperty('placement');
    expect(parseRecord(raw(base({ index: 5 })))).toMatchObject({ ok: false, reason: expect.stringContaining('not below') });
    expect(parseRecord(raw(record, { ...record.headers, 'ip-item-index': '-1' })).ok).toBe(false);
  });

  it('turns other envelope errors into reasons for a failed item', () => {
    const record = base();
    const placement = { batchId: 'batch-1', index: 2, count: 5 };
    const cases: Array<[RawRecord, string]> = [
      [raw(record, { ...record.headers, 'ip-version': '2' }), 'ip-version'],
      [{ ...raw(), key: 'another-batch' }, 'record key'],
      [raw(record, { ...record.headers, 'ip-callback-url': 'file:///etc/passwd' }), 'http or https'],
      [raw(buildRecord({ ...placement, blobName: 'other-batch/0' })), 'under batches/batch-1/'],
      [raw(buildRecord({ ...placement, blobName: 'batch-1/../other/0' })), 'under batches/batch-1/'],
      [{ ...raw(buildRecord({ ...placement, blobName: 'x' })), value: Buffer.from('{"url":"https://x"}') }, 'blob reference'],
    ];
    for (const [input, reason] of cases) {
      expect(parseRecord(input)).toMatchObject({ ok: false, placement, reason: expect.stringContaining(reason) });
    }
  });
});

describe('summarise', () => {
  const doc = (index: number, fields: Partial<ImageDocument>): ImageDocument => ({
    id: `b_${index}`, partitionKey: 'b', schemaVersion: 1, type: 'image', batchId: 'b', itemIndex: index, status: 'succeeded',
    source: { container: 'batches', blob: `b/${index}`, bytes: 1000 * (index + 1), sha256: '', uploadedAt: '' },
    createdAt: '', updatedAt: '', ...fields,
  });
  const ok = (index: number, hash: string, format: 'jpeg' | 'png', durationMs: number, contrast = 0.2) =>
    doc(index, {
      metadata: { format, width: 1, height: 1, bytes: 1, hasAlpha: false },
      analysis: { perceptualHash: hash, meanColour: '#000000', palette: [], brightness: 0, contrast, sharpness: 0 },
      processing: { engine: 'sharp', durationMs, finishedAt: '' },
    });

  // A hash, the same with 4 bits flipped, one 2 bits from that (4 from the first), and an unrelated one.
  const [a, aNear, aNearer, other] = ['3c5a9f0e1b2d4c6a', '3c5a9f0e1b2d5d7b', '3c5a9f0e1b2d5d78', 'c3a560f1e4d2b395'];

  it('counts, percentiles, formats, sizes, duplicate groups and failures', () => {
    const items = [
      ok(0, a, 'jpeg', 10), ok(1, other, 'png', 20), ok(2, aNear, 'jpeg', 30), ok(3, '0000000000000000', 'jpeg', 40), ok(4, aNearer, 'png', 100),
      doc(5, { status: 'failed', source: { container: 'batches', blob: '', fileName: 'bad.txt', bytes: 3, sha256: '', uploadedAt: '' }, error: { reason: 'not an image' } }),
    ];
    const summary = summarise(items, 7, { startedAt: '2024-01-01T00:00:00.000Z', finishedAt: '2024-01-01T00:00:02.500Z' });
    expect(summary.counts).toEqual({ succeeded: 5, failed: 1, pending: 1 });
    expect(summary.durationsMs).toEqual({ p50: 30, p95: 100, max: 100, total: 200 });
    expect(summary.wallClockMs).toBe(2500);
    expect(summary.formats).toEqual({ jpeg: 3, png: 2 });
    expect(summary.sizes).toMatchObject({ totalBytes: 15000, minBytes: 1000, maxBytes: 5000, buckets: { '< 100 KB': 5 } });
    // 0-2 and 0-4 differ by 4 bits, 2-4 by 2; item 3's all-zero hash is never anyone's duplicate.
    expect(summary.duplicateGroups).toEqual([{ perceptualHash: a, items: [0, 2, 4] }]);
    expect(summarise(items, 7, {}, 3).duplicateGroups).toEqual([{ perceptualHash: aNear, items: [2, 4] }]);
    expect(summarise([...items, ok(6, '0000000000000000', 'png', 5), ok(7, other, 'png', 5, 0.01)], 8).duplicateGroups).toEqual([
      { perceptualHash: a, items: [0, 2, 4] },
    ]);
    expect(summary.failures).toEqual([{ index: 5, fileName: 'bad.txt', reason: 'not an image' }]);
  });
});
