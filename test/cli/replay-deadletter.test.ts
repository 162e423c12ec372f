// image-pipeline replay-deadletter against the local host: dead-lettered Event Grid events (in the shape Event Grid
// writes them: a JSON array per blob, under <SUBSCRIPTION>/<y>/<m>/<d>/<h>/) re-delivered to the blob extension
// webhook the local host serves as the Functions host does. The blob watcher looks only once a minute here, so an
// upload that gets processed was processed through the webhook.
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_WEBHOOK, EVENT_GRID_DEAD_LETTER_CONTAINER } from '../../src/lib/names';
import { startBatchHost } from '../batch/host';
import { cli } from '../support/cli';
import { sampleImage } from '../support/images';

type Host = Awaited<ReturnType<typeof startBatchHost>>;

const deadLettered = (blob: string) => ({
  id: randomUUID(),
  topic: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st',
  subject: `/blobServices/default/containers/uploads/blobs/${blob}`,
  eventType: 'Microsoft.Storage.BlobCreated',
  eventTime: '2026-11-24T10:00:00Z',
  data: { api: 'PutBlob', contentType: 'image/png', blobType: 'BlockBlob', url: `https://st.blob.core.windows.net/uploads/${blob}` },
  dataVersion: '',
  metadataVersion: '1',
  deadLetterReason: 'TimeToLiveExceeded',
  deliveryAttempts: 30,
  lastDeliveryOutcome: 'Probation',
  publishTime: '2026-11-24T10:00:01Z',
  lastDeliveryAttemptTime: '2026-11-25T09:59:00Z',
});

describe('image-pipeline replay-deadletter', () => {
  let host: Host;
  let port: string;
  let deadLetters: ContainerClient;
  let uploads: ContainerClient;

  beforeAll(async () => {
    host = await startBatchHost({ BLOB_WATCH_INTERVAL_MS: '60000' });
    port = new URL(host.apiUrl).port;
    const service = BlobServiceClient.fromConnectionString((host.services.config.storage as { value: string }).value);
    deadLetters = service.getContainerClient(EVENT_GRID_DEAD_LETTER_CONTAINER);
    await deadLetters.create();
    uploads = service.getContainerClient('uploads');
  });
  afterAll(() => host?.stop());

  const put = (container: ContainerClient, name: string, body: Buffer | string) => container.getBlockBlobClient(name).uploadData(Buffer.from(body));
  const status = async (id: string) => (await fetch(`${host.apiUrl}/images/${id}`)).status;
  const deadLetterNames = async () => {
    const names: string[] = [];
    for await (const blob of deadLetters.listBlobsFlat()) names.push(blob.name);
    return names.sort();
  };

  it('re-delivers each dead-lettered event to processUpload and deletes the dead letter; keeps one it cannot read', async () => {
    await sleep(200); // past the watcher's first look at start
    await put(uploads, 'missed-upload-1', await sampleImage('png', 32, 24));
    await put(uploads, 'missed-upload-2', await sampleImage('jpeg', 32, 24));
    await put(deadLetters, 'UPLOADS-BLOB-CREATED/2026/11/25/9/a.json', JSON.stringify([deadLettered('missed-upload-1')]));
    await put(deadLetters, 'UPLOADS-BLOB-CREATED/2026/11/25/9/b.json', JSON.stringify([deadLettered('missed-upload-2'), deadLettered('gone-after-7-days')]));
    await put(deadLetters, 'UPLOADS-BLOB-CREATED/2026/11/25/9/c.json', 'not json');

    const dry = await cli('replay-deadletter', '--local-port', port, '--dry-run');
    expect(dry.out).toContain('replay-deadletter (dry run): 3 events in 2 of 3 dead-letter blobs would be re-delivered');
    expect(await status('missed-upload-1')).toBe(404);
    expect(await deadLetterNames()).toHaveLength(3);

    const run = await cli('replay-deadletter', '--local-port', port);
    expect(run.out).toContain('re-delivered UPLOADS-BLOB-CREATED/2026/11/25/9/a.json: /blobServices/default/containers/uploads/blobs/missed-upload-1');
    expect(run.out).toContain('replay-deadletter: 3 events re-delivered from 2 of 3 dead-letter blobs (deleted)');
    expect(run.err).toMatch(/^kept UPLOADS-BLOB-CREATED\/2026\/11\/25\/9\/c\.json: not a dead-lettered event array: /);
    expect(run.code).toBe(1);
    for (const id of ['missed-upload-1', 'missed-upload-2']) {
      const image = (await (await fetch(`${host.apiUrl}/images/${id}`)).json()) as { status: string };
      expect(image.status).toBe('succeeded');
    }
    expect(await deadLetterNames()).toEqual(['UPLOADS-BLOB-CREATED/2026/11/25/9/c.json']);
  });

  it('keeps a dead letter whose event the webhook refuses', async () => {
    await put(deadLetters, 'UPLOADS-BLOB-CREATED/2026/11/25/10/d.json', JSON.stringify([{ ...deadLettered('x'), subject: '/blobServices/default/containers/derived/blobs/x' }]));
    const run = await cli('replay-deadletter', '--local-port', port);
    expect(run.err).toMatch(/kept UPLOADS-BLOB-CREATED\/2026\/11\/25\/10\/d\.json: event .* the webhook answered 400 .*is not a BlobCreated event in uploads\//);
    expect(await deadLetterNames()).toContain('UPLOADS-BLOB-CREATED/2026/11/25/10/d.json');
  });

  it('answers Event Grid subscription validation and refuses other functions, as the Functions host does', async () => {
    const webhook = `${host.apiUrl.replace('/api', '')}${BLOB_WEBHOOK.path}`;
    const validation = await fetch(`${webhook}?functionName=${BLOB_WEBHOOK.processUpload}`, {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation', 'content-type': 'application/json' },
      body: JSON.stringify([{ id: '1', eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', subject: '', data: { validationCode: 'abc-123' } }]),
    });
    expect(await validation.json()).toEqual({ validationResponse: 'abc-123' });
    const other = await fetch(`${webhook}?functionName=Host.Functions.other`, { method: 'POST', body: '[]' });
    expect(other.status).toBe(404);
  });
});
