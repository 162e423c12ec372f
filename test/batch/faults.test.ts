import { afterEach, describe, expect, it } from 'vitest';
import { retryBatch } from '../../src/lib/api/batches';
import { BATCH_ALREADY_ENDED, BATCH_STATUSES, type BatchDocument } from '../../src/lib/batch/batch-document';
import type { DeadLetter } from '../../src/lib/batch/dead-letter';
import type { ImageEngine } from '../../src/lib/images/engine';
import { buildRecord, headersAsBytes, itemDocumentId, type RawRecord } from '../../src/lib/batch/record';
import { BLOB_CONTAINERS } from '../../src/lib/names';
import { sweepBatches } from '../../src/lib/orchestration/batch-sweep';
import { ingestRecords } from '../../src/lib/orchestration/intake';
import type { OrchestrationStarter } from '../../src/lib/orchestration/starter';
import type { RetryPolicy } from '../../src/lib/retry';
import { failedImage, type ImageDocument } from '../../src/lib/results/image-document';
import { batchActivities } from '../../src/lib/orchestration/batch-activities';
import { BATCH_ACTIVITIES } from '../../src/lib/orchestration/batch-orchestrator';
import { collectingLogger, deliverAsEventHubs } from '../support/event-hub-trigger';
import { cosmosError, storageError } from '../support/faults';
import { encodeImage, solidRaster } from '../support/images';
import { memoryServices } from '../support/memory-services';
import { orchestrationEngine, type TestEngine } from '../support/orchestrations';

/** In-call retries as in production (3 tries), without the waits. */
const FAST_INGEST: RetryPolicy = { attempts: 3, firstDelayMs: 1, factor: 2 };
const COUNT = 4;
const BATCH = 'fault-batch';

const files = Promise.all(Array.from({ length: COUNT }, (_, i) => encodeImage(solidRaster(48, 32, [40 + 50 * i, 120, 200 - 40 * i]), 'png')));

function records(images: Buffer[], batchId = BATCH): RawRecord[] {
  return images.map((bytes, index) => {
    const record = buildRecord({ batchId, index, count: images.length, fileName: `photo-${index}.png`, contentType: 'image/png', bytes });
    return { key: record.key, value: record.value, headers: headersAsBytes(record.headers), position: `offset ${index}` };
  });
}

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** In-memory stores behind fault injectors, the batch orchestrations on an in-process engine, and the ingest handler. */
async function world() {
  const { services, memory, faults } = await memoryServices();
  const log = collectingLogger();
  const engine = orchestrationEngine(services, log);
  engines.push(engine);
  const ingest = (batch: RawRecord[], starter: OrchestrationStarter = engine.starter) => ingestRecords({ services, starter, log, retry: FAST_INGEST }, batch);
  /** The batch once its orchestration has ended: always in a documented status. */
  async function ended(instanceId = BATCH): Promise<BatchDocument> {
    await engine.ended(instanceId);
    const batch = (await memory.batches.get(BATCH))!;
    expect(BATCH_STATUSES).toContain(batch.status);
    return batch;
  }
  /** Every item processed (succeeded, or failed with a reason) or dead-lettered: nothing accepted is lost. */
  async function everyRecordAccountedFor(): Promise<void> {
    for (let index = 0; index < COUNT; index++) {
      const doc = await memory.images.get(itemDocumentId(BATCH, index), BATCH);
      const deadLettered = await memory.blobs.exists(BLOB_CONTAINERS.deadletter, `${BATCH}/${index}`);
      const processed = doc?.status === 'succeeded' || (doc?.status === 'failed' && Boolean(doc.error?.reason));
      expect(processed || deadLettered, `item ${index}: ${JSON.stringify(doc?.error ?? doc?.status)}`).toBe(true);
    }
  }
  const items = async () => Promise.all(Array.from({ length: COUNT }, async (_, index) => (await memory.images.get(itemDocumentId(BATCH, index), BATCH))!));
  return { services, memory, faults, log, engine, ingest, ended, everyRecordAccountedFor, items };
}

describe('faults during ingest, under the Event Hubs trigger (checkpoint moves on after the call; retry policy only)', () => {
  it('storage failing transiently: retried in the call, one invocation, the batch completes', async () => {
    const w = await world();
    w.faults.storage.fail(['put'], 2, () => storageError(503), (container) => container === BLOB_CONTAINERS.batches);
    const delivery = await deliverAsEventHubs(async () => w.ingest(records(await files)));
    expect(delivery).toMatchObject({ invocations: 1, errors: [], result: { accepted: COUNT, started: [BATCH] } });
    expect(w.faults.storage.injected).toHaveLength(2);
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT, failed: 0, pending: 0 } } });
  });

  it('storage failing for good for item blobs: each record dead-lettered with headers and reason, a failed item; the batch completes', async () => {
    const w = await world();
    const images = await files;
    w.faults.storage.fail(['put'], Infinity, () => storageError(500), (container) => container === BLOB_CONTAINERS.batches);
    const delivery = await deliverAsEventHubs(() => w.ingest(records(images)));
    expect(delivery).toMatchObject({ invocations: 1, errors: [], result: { accepted: 0, deadLettered: COUNT } });
    const letter = JSON.parse((await w.memory.blobs.get(BLOB_CONTAINERS.deadletter, `${BATCH}/2`))!.bytes.toString('utf8')) as DeadLetter;
    expect(letter).toMatchObject({ key: BATCH, position: 'offset 2', headers: { 'ip-batch-id': BATCH, 'ip-item-index': '2', 'ip-item-count': String(COUNT), 'ip-file-name': 'photo-2.png' } });
    expect(Buffer.from(letter.value, 'base64').equals(images[2])).toBe(true);
    expect(letter.reason).toMatch(/could not be stored \(Storage answered 500 \(injected\)\)/);
    const batch = await w.ended();
    expect(batch).toMatchObject({ status: 'completed', summary: { counts: { succeeded: 0, failed: COUNT, pending: 0 } } });
    expect(batch.summary!.failures[2]).toEqual({ index: 2, fileName: 'photo-2.png', reason: letter.reason });
    expect(letter.reason).toContain(`deadletter/${BATCH}/2`);
    await w.everyRecordAccountedFor();
  });

  it('storage down for good: the call throws, the retry policy delivers again, nothing is half-stored; after recovery the batch completes', async () => {
    const w = await world();
    w.faults.storage.fail(['put'], Infinity, () => storageError(503));
    const delivery = await deliverAsEventHubs(async () => w.ingest(records(await files)), {
      retries: 3,
      beforeRetry: async (retry) => {
        // Neither a queued item without its blob, nor a failed item without its dead letter.
        expect(await w.memory.batches.countItems(BATCH, COUNT)).toBe(0);
        if (retry === 3) w.faults.storage.heal();
      },
    });
    expect(delivery.invocations).toBe(4);
    expect(delivery.errors).toHaveLength(3);
    expect(String((delivery.errors[0] as Error).message)).toMatch(/the trigger's retry policy runs the call again/);
    expect(delivery.result).toMatchObject({ accepted: COUNT, deadLettered: 0 });
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
  });

  it('Cosmos failing transiently: retried in the call, the batch completes', async () => {
    const w = await world();
    w.faults.cosmos.fail(['ensure'], 1, () => cosmosError(503)).fail(['create', 'createMany'], 2, () => cosmosError(429)).fail(['countItems'], 1, () => cosmosError(408));
    const delivery = await deliverAsEventHubs(async () => w.ingest(records(await files)));
    expect(delivery).toMatchObject({ invocations: 1, errors: [], result: { accepted: COUNT } });
    expect(w.faults.cosmos.injected).toHaveLength(4);
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
  });

  it('Cosmos down for good: the call throws until Cosmos answers, then the batch completes; nothing is dead-lettered', async () => {
    const w = await world();
    w.faults.cosmos.fail(['ensure', 'get', 'itemsAt', 'create', 'createMany', 'update', 'updateAndRead', 'countItems'], Infinity, () => cosmosError(503));
    const delivery = await deliverAsEventHubs(async () => w.ingest(records(await files)), { retries: 2, beforeRetry: (retry) => (retry === 2 ? w.faults.cosmos.heal() : undefined) });
    expect(delivery).toMatchObject({ invocations: 3, result: { accepted: COUNT } });
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
    for await (const blob of w.memory.blobs.list(BLOB_CONTAINERS.deadletter)) expect.unreachable(`dead letter ${blob.name}`);
  });

  it('item documents failing after the dead letter is written: the call throws, and the retry policy\'s next delivery accounts for every record', async () => {
    const w = await world();
    // Item blobs fail for good (so records go to the dead letter) and so do item documents.
    w.faults.storage.fail(['put'], Infinity, () => storageError(500), (container) => container === BLOB_CONTAINERS.batches);
    w.faults.cosmos.fail(['create'], 4 * COUNT, () => cosmosError(503));
    const delivery = await deliverAsEventHubs(async () => w.ingest(records(await files)), { retries: 1 });
    expect(delivery.errors).toHaveLength(1);
    expect(delivery.result).toMatchObject({ deadLettered: COUNT });
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { failed: COUNT } } });
    await w.everyRecordAccountedFor();
  });
});

describe('faults during item processing (activities, retried by the orchestrator)', () => {
  it('an item activity run again after its item ended changes nothing; one whose item failed meanwhile leaves no derivatives', async () => {
    const w = await world();
    await w.ingest(records(await files));
    await w.ended();
    const processItem = batchActivities(w.services, w.log)[BATCH_ACTIVITIES.processItem];
    const before = await w.items();
    // Durable runs an activity again when a crash lost its result: the item's result is written once.
    expect(await processItem({ batchId: BATCH, index: 0 })).toEqual({ index: 0, status: 'succeeded' });
    expect(await w.items()).toEqual(before);
    // A late run of an item its chunk gave up on (failed, without derivatives): what it wrote is removed again.
    await w.memory.images.upsert(failedImage(before[1], 'Processing kept failing after 4 attempts: timeout', 'sharp'));
    await w.memory.blobs.delete(BLOB_CONTAINERS.derived, `${before[1].id}/derivatives`);
    expect(await processItem({ batchId: BATCH, index: 1 })).toEqual({ index: 1, status: 'failed' });
    expect(await w.memory.blobs.exists(BLOB_CONTAINERS.derived, `${before[1].id}/derivatives`)).toBe(false);
    expect((await w.items())[1]).toMatchObject({ status: 'failed', error: { reason: expect.stringMatching(/^Processing kept failing/) } });
  });

  it('an item whose document holds other content than its blob is processed once, not again when the conditional write fails', async () => {
    const w = await world();
    // Ingest stores the items; no orchestration runs, so they stay queued for the activity called here.
    const idle: OrchestrationStarter = { startOnce: async () => true, state: async () => undefined, purgeEnded: async () => 0 };
    await w.ingest(records(await files), idle);
    const [queued] = await w.items();
    // The fault: the document names other content (sha256) than the item blob's metadata, so finishQueued's condition fails.
    await w.memory.images.upsert({ ...queued, source: { ...queued.source, sha256: 'f'.repeat(64) } });
    let decodes = 0;
    const base = w.services.engine;
    const engine: ImageEngine = { ...base, decode: (bytes, options) => (decodes++, base.decode(bytes, options)) };
    const processItem = batchActivities({ ...w.services, engine }, w.log)[BATCH_ACTIVITIES.processItem];
    expect(await processItem({ batchId: BATCH, index: 0 })).toEqual({ index: 0, status: 'succeeded' });
    expect(decodes).toBe(1);
    const [done] = await w.items();
    expect(done).toMatchObject({ status: 'succeeded', metadata: { width: 48, height: 32, format: 'png' }, source: { sha256: 'f'.repeat(64) } });
    expect(done.derivatives?.thumbnail).toMatchObject({ width: 48, height: 32 });
    expect(await w.memory.blobs.exists(BLOB_CONTAINERS.derived, done.derivatives!.thumbnail!.blob)).toBe(true);
  });

  it('storage failing transiently: the activity retries, every item succeeds', async () => {
    const w = await world();
    w.faults.storage.fail(['get'], 3, () => storageError(503), (container) => container === BLOB_CONTAINERS.batches);
    await w.ingest(records(await files));
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT, failed: 0 } } });
    expect(w.faults.storage.injected).toHaveLength(3);
  });

  it('storage failing for good for one image: that item fails with the reason, the batch completes', async () => {
    const w = await world();
    w.faults.storage.fail(['get'], Infinity, () => storageError(503), (container, name) => container === BLOB_CONTAINERS.batches && name === `${BATCH}/2`);
    await w.ingest(records(await files));
    const batch = await w.ended();
    expect(batch).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT - 1, failed: 1, pending: 0 } } });
    expect(batch.summary!.failures).toEqual([{ index: 2, fileName: 'photo-2.png', reason: expect.stringMatching(/kept failing after 4 attempts: .*Storage answered 503/) }]);
    await w.everyRecordAccountedFor();
  });

  it('Cosmos failing transiently: the activity retries, every item succeeds', async () => {
    const w = await world();
    w.faults.cosmos.fail(['finishQueued', 'upsert'], 3, () => cosmosError(503));
    await w.ingest(records(await files));
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
    expect(w.faults.cosmos.injected).toHaveLength(3);
  });

  it('Cosmos failing for good for item results: the batch ends failed with the reason; a retry after recovery completes it', async () => {
    const w = await world();
    w.faults.cosmos.fail(['finishQueued', 'upsert'], Infinity, () => cosmosError(503));
    await w.ingest(records(await files));
    const failed = await w.ended();
    expect(failed).toMatchObject({ status: 'failed', failure: { reason: expect.stringMatching(/^The batch orchestration failed: .*Cosmos DB answered 503/) } });
    expect((await w.items()).map((doc) => doc.status)).toEqual(Array(COUNT).fill('queued'));

    w.faults.cosmos.heal();
    const request = { method: 'POST', url: `http://localhost/api/batches/${BATCH}/retry`, headers: new Headers(), params: { id: BATCH }, body: null };
    const operator = { principal: { id: 'operator-1', name: 'Olga', roles: ['operator' as const] }, everyOwner: true };
    const retry = () => retryBatch(request, w.services, () => w.engine.starter, operator);
    const [response, concurrent] = await Promise.allSettled([retry(), retry()]);
    // Of two retries at once, one goes through; the other is told the batch is no longer ended.
    expect(concurrent).toMatchObject({ status: 'rejected', reason: { status: 409 } });
    if (response.status !== 'fulfilled') throw response.reason;
    await expect(retry()).rejects.toMatchObject({ status: 409, detail: `Batch ${BATCH} is processing; only an ended batch (completed, incomplete or failed) can be retried.` });
    expect(response.value.status).toBe(202);
    expect(JSON.parse(String(response.value.body))).toMatchObject({ status: 'processing', retries: 1, instanceId: `${BATCH}:retry:1` });
    const retried = await w.ended(`${BATCH}:retry:1`);
    expect(retried).toMatchObject({ status: 'completed', retries: 1, failure: null, summary: { counts: { succeeded: COUNT, failed: 0 } } });
    await w.everyRecordAccountedFor();
  });
});

describe('faults during the summary', () => {
  const summaryWrite = (_id: unknown, changes: unknown) => (changes as Partial<BatchDocument>).summary !== undefined;

  it('Cosmos failing transiently: the summary activity retries, the batch completes', async () => {
    const w = await world();
    w.faults.cosmos.fail(['update', 'updateAndRead'], 2, () => cosmosError(503), summaryWrite);
    await w.ingest(records(await files));
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
    expect(w.faults.cosmos.injected).toHaveLength(2);
  });

  it('Cosmos failing for good for the summary: the batch ends failed, with the reason', async () => {
    const w = await world();
    w.faults.cosmos.fail(['update', 'updateAndRead'], Infinity, () => cosmosError(503), summaryWrite);
    await w.ingest(records(await files));
    const batch = await w.ended();
    expect(batch).toMatchObject({ status: 'failed', failure: { reason: expect.stringMatching(/^The batch orchestration failed: .*Cosmos DB answered 503/) } });
    expect(batch.summary).toBeUndefined();
    expect(w.log.lines.some((line) => line.startsWith(`error: batch ${BATCH} failed: The batch orchestration failed`))).toBe(true);
    await w.everyRecordAccountedFor();
  });

  it('Cosmos down for good when the batch ends: the orchestration fails; once Cosmos answers, the sweep ends the batch failed', async () => {
    const w = await world();
    const endingWrite = (_id: unknown, changes: unknown) => ['completed', 'incomplete', 'failed'].includes(String((changes as Partial<BatchDocument>).status));
    w.faults.cosmos.fail(['listItems'], Infinity, () => cosmosError(503)).fail(['update', 'updateAndRead'], Infinity, () => cosmosError(503), endingWrite);
    await w.ingest(records(await files));
    await w.engine.ended(BATCH);
    expect(await w.engine.starter.state(BATCH)).toMatchObject({ status: 'failed', error: expect.stringMatching(/Cosmos DB answered 503/) });
    expect((await w.memory.batches.get(BATCH))!.status).toBe('processing');

    w.faults.cosmos.heal();
    const sweep = await sweepBatches({ services: w.services, starter: w.engine.starter, log: w.log, timeoutSeconds: 60 }, new Date(Date.now() + 61_000));
    expect(sweep).toEqual({ closed: [], resumed: [], failed: [BATCH] });
    expect(await w.memory.batches.get(BATCH)).toMatchObject({ status: 'failed', failure: { reason: expect.stringMatching(/^The batch orchestration failed: .*Cosmos DB answered 503/) } });
  });

  it('storage down for good once the items are processed: the summary needs no storage, the batch completes', async () => {
    const w = await world();
    const allProcessed = () => w.memory.images.documents().filter((doc) => doc.status === 'succeeded').length === COUNT;
    w.faults.storage.fail(['put', 'get', 'exists', 'list'], Infinity, () => storageError(503), allProcessed);
    await w.ingest(records(await files));
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
  });
});

describe('exactly once and idempotent by content', () => {
  it('a redelivery after the batch ended starts nothing, even on an engine that lost its instances', async () => {
    const w = await world();
    await w.ingest(records(await files));
    const completed = await w.ended();
    // An engine with no record of the batch's instance (history purged, or an in-memory engine restarted).
    const forgetful = orchestrationEngine(w.services, w.log);
    engines.push(forgetful);
    const again = await w.ingest(records(await files), forgetful.starter);
    expect(again).toMatchObject({ accepted: 0, duplicates: COUNT, started: [] });
    expect(await forgetful.starter.state(BATCH)).toBeUndefined();
    expect(await w.memory.batches.get(BATCH)).toEqual(completed);
  });

  it('records delivered twice at once, by two trigger instances, start the batch once', async () => {
    const w = await world();
    const [first, second] = await Promise.all([w.ingest(records(await files)), w.ingest(records(await files))]);
    expect([...first.started, ...second.started]).toEqual([BATCH]);
    expect(first.accepted + second.accepted).toBe(COUNT);
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });
  });

  it('a redelivered record whose blob was lost writes it again, and the item is processed', async () => {
    const w = await world();
    const batch = records(await files);
    await w.ingest(batch.slice(0, 3));
    w.memory.blobs.delete(BLOB_CONTAINERS.batches, `${BATCH}/1`);
    expect(await w.ingest([batch[1]])).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await w.memory.blobs.get(BLOB_CONTAINERS.batches, `${BATCH}/1`))!.bytes.equals((await files)[1])).toBe(true);
    await w.ingest([batch[3]]);
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT, failed: 0 } } });
  });

  it('a record for an index that holds other content is rejected with the reason, not taken for a redelivery', async () => {
    const w = await world();
    const batch = records(await files);
    await w.ingest([batch[0]]);
    const other = { ...batch[1], headers: batch[0].headers };
    expect(await w.ingest([other])).toMatchObject({ rejected: 1, duplicates: 0 });
    expect(await w.memory.batches.rejections(BATCH, 10)).toEqual([
      expect.objectContaining({ index: 0, reason: 'Item 0 already holds other content.' }),
    ]);
  });
});

describe('records that cannot join a batch are kept with their reason', () => {
  it('index out of range, count disagreeing, unreadable batch id, batch already ended', async () => {
    const w = await world();
    const images = await files;
    const batch = records(images);
    await w.ingest(batch.slice(0, 1));
    const raw = (fields: Parameters<typeof buildRecord>[0]): RawRecord => {
      const record = buildRecord(fields);
      return { key: record.key, value: record.value, headers: headersAsBytes(record.headers) };
    };
    const outOfRange = raw({ batchId: BATCH, index: 6, count: 8, bytes: images[0] });
    const disagreeing = raw({ batchId: BATCH, index: 1, count: 5, fileName: 'wrong-count.png', bytes: images[1] });
    const noIndex = { ...raw({ batchId: BATCH, index: 0, count: 4, bytes: images[2] }), headers: { 'ip-version': Buffer.from('1'), 'ip-batch-id': Buffer.from(BATCH) } };
    const noBatch = { key: 'who-knows', value: Buffer.from('?'), headers: { 'ip-version': Buffer.from('1'), 'ip-batch-id': Buffer.from('not/a batch') } };
    expect(await w.ingest([outOfRange, disagreeing, noIndex, noBatch])).toMatchObject({ accepted: 0, rejected: 4 });
    expect((await w.memory.batches.rejections(BATCH, 10)).map((r) => [r.index, r.reason]).sort()).toEqual(
      [
        [6, `ip-item-index 6 is outside the batch's ${COUNT} items.`],
        [1, `ip-item-count 5 disagrees with the batch's item count ${COUNT}.`],
        [undefined, expect.stringMatching(/^The record cannot be placed in a batch: ip-item-index/)],
      ].sort(),
    );
    const unplaced: string[] = [];
    for await (const blob of w.memory.blobs.list(BLOB_CONTAINERS.deadletter, 'unplaced/')) unplaced.push(blob.name);
    expect(unplaced).toHaveLength(1);
    const letter = JSON.parse((await w.memory.blobs.get(BLOB_CONTAINERS.deadletter, unplaced[0]))!.bytes.toString('utf8')) as DeadLetter;
    expect(letter).toMatchObject({ key: 'who-knows', headers: { 'ip-batch-id': 'not/a batch' }, reason: expect.stringMatching(/ip-batch-id must be 1-100 letters/) });
    // The slot of the disagreeing record is still open: the right record fills it, and the batch completes.
    await w.ingest(batch.slice(1));
    expect(await w.ended()).toMatchObject({ status: 'completed', summary: { counts: { succeeded: COUNT } } });

    // A redelivered rejected record is kept once.
    expect(await w.ingest([outOfRange, noBatch])).toMatchObject({ rejected: 2 });
    expect(await w.memory.batches.rejections(BATCH, 10)).toHaveLength(3);
  });
});

describe('the receive window (sweepBatches, as the timer runs it)', () => {
  const later = (seconds: number) => new Date(Date.now() + seconds * 1000);

  it('closes a batch with no record for the timeout: missing items fail as never received, the rest are processed, it ends incomplete', async () => {
    const w = await world();
    const batch = records(await files);
    await w.ingest([batch[0], batch[1], batch[3]]);
    const sweep = (now: Date) => sweepBatches({ services: w.services, starter: w.engine.starter, log: w.log, timeoutSeconds: 60 }, now);
    expect(await sweep(later(30))).toEqual({ closed: [], resumed: [], failed: [] });
    expect(await sweep(later(61))).toEqual({ closed: [BATCH], resumed: [], failed: [] });
    const ended = await w.ended();
    expect(ended).toMatchObject({ status: 'incomplete', closedAt: expect.any(String), summary: { counts: { succeeded: 3, failed: 1, pending: 0 } } });
    expect(ended.summary!.failures).toEqual([{ index: 2, reason: 'never received' }]);

    // The missing record, late: rejected and kept on the batch, which stays as it ended.
    expect(await w.ingest([batch[2]])).toMatchObject({ rejected: 1, accepted: 0, started: [] });
    expect(await w.memory.batches.rejections(BATCH, 10)).toEqual([expect.objectContaining({ index: 2, fileName: 'photo-2.png', reason: BATCH_ALREADY_ENDED })]);
    expect(await w.memory.batches.get(BATCH)).toEqual(ended);
    expect(await sweep(later(200))).toEqual({ closed: [], resumed: [], failed: [] });
  });

  it('a record racing the close is rejected as "batch already ended" and kept, never taken for a redelivery', async () => {
    const w = await world();
    const batch = records(await files);
    await w.ingest(batch.slice(0, 2));
    // The sweep closes the window just as item 2 is about to be written: its "never received" item wins the race.
    let closed = false;
    // Item documents are created in bulk (createMany) or one by one (create).
    w.faults.cosmos.fail(['create', 'createMany'], Infinity, () => cosmosError(500), (docOrDocs) => {
      const doc = ([docOrDocs].flat() as ImageDocument[]).find((d) => d.id === itemDocumentId(BATCH, 2));
      if (!closed && doc) {
        closed = true;
        void w.memory.batches.update(BATCH, { status: 'processing', closedAt: new Date().toISOString() });
        void w.memory.images.create({ ...(doc as ImageDocument), status: 'failed', error: { reason: 'never received' } });
      }
      return false;
    });
    expect(await w.ingest(batch.slice(2))).toMatchObject({ accepted: 1, rejected: 1, duplicates: 0 });
    expect(await w.memory.batches.rejections(BATCH, 10)).toEqual([expect.objectContaining({ index: 2, reason: BATCH_ALREADY_ENDED })]);
  });

  it('starts a batch left processing without an orchestration (a crash between closing and starting)', async () => {
    const w = await world();
    const batch = records(await files);
    await w.ingest(batch.slice(0, 3));
    const at = new Date().toISOString();
    await w.memory.batches.update(BATCH, { status: 'processing', closedAt: at, startedAt: at, updatedAt: at, instanceId: BATCH });
    const sweep = await sweepBatches({ services: w.services, starter: w.engine.starter, log: w.log, timeoutSeconds: 60 }, later(61));
    expect(sweep).toEqual({ closed: [], resumed: [BATCH], failed: [] });
    expect(await w.ended()).toMatchObject({ status: 'incomplete', summary: { counts: { succeeded: 3, failed: 1 }, failures: [{ index: 3, reason: 'never received' }] } });
  });
});
