import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeAsWorker, recordRegistrations, type Registration } from './functions-core';
import { as, USERS } from '../support/principals';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { buildRecord, headersAsBytes } from '../../src/lib/batch/record';
import { startFakeDurableExtension } from './fake-durable-extension';

// Registrations must be recorded before the app modules call app.*.
const registrations = recordRegistrations();
let azurite: EmbeddedAzurite;
let cosmos: CosmosStandIn;
let functions: typeof import('@azure/functions');
let extension: Awaited<ReturnType<typeof startFakeDurableExtension>>;

beforeAll(async () => {
  [azurite, cosmos, extension] = await Promise.all([startAzurite(), startCosmosStandIn(), startFakeDurableExtension()]);
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.COSMOS_CONNECTION = cosmos.connectionString;
  // What App Service sets when its authentication is on (the Bicep turns it on); AUTH_MODE defaults to easyauth.
  process.env.WEBSITE_AUTH_ENABLED = 'True';
  functions = await import('@azure/functions');
  await import('../../src/functions/http.js');
  await import('../../src/functions/web.js');
  await import('../../src/functions/process-upload.js');
  await import('../../src/functions/ingest.js');
  await import('../../src/functions/maintenance.js');
});
afterAll(async () => {
  await azurite?.stop();
  await cosmos?.stop();
  await extension?.stop();
});

/** The name of a function's durable client input binding, which the worker fills with the client data. */
const durableClientBinding = (name: string) => Object.entries(registrations.get(name)!.metadata.bindings).find(([, binding]) => binding.type === 'durableClient')?.[0];

const trigger = (name: string) => {
  const registration = registrations.get(name);
  expect(registration, `function ${name} registered`).toBeDefined();
  return Object.values(registration!.metadata.bindings).find((binding) => binding.direction === 'in' && String(binding.type).endsWith('Trigger'))!;
};

/** The messages of the JSON log lines (src/lib/logger.ts) written at one level. */
const messagesAt = (lines: string[], level: string) =>
  lines.filter((line) => line.startsWith(`${level}: `)).map((line) => (JSON.parse(line.slice(level.length + 2)) as { message: string }).message);

/** The test's Azurite through the app's own blob store (imported once the registrations are recorded, as the app is). */
async function azuriteBlobs() {
  const { AzureBlobStore, blobServiceClient } = await import('../../src/lib/storage/azure-blob-store.js');
  return new AzureBlobStore(blobServiceClient({ kind: 'connectionString', value: azurite.connectionString }));
}

/** The bytes in pieces of `size`, as a client's body arrives. */
function* chunks(bytes: Buffer, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

function context(functionName: string, triggerMetadata?: Record<string, unknown>) {
  const lines: string[] = [];
  const invocation = new functions.InvocationContext({
    functionName,
    triggerMetadata,
    logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`),
  });
  return Object.assign(invocation, { lines });
}

type HttpResult = { status: number; headers: Record<string, string>; body: string };
const call = (registration: Registration, ...args: unknown[]) => registration.handler(...args) as Promise<HttpResult>;

describe('Azure registrations (src/functions)', () => {
  it('declare the HTTP routes anonymous at the Functions level: Easy Auth in front authenticates, the app authorises', () => {
    // Bodies reach the handlers as streams (a web batch is streamed to storage as it arrives), not buffered by the worker.
    expect(registrations.systemLog).toContain('debug system: HTTP streaming enabled.');
    expect(trigger('uploadImage')).toMatchObject({ type: 'httpTrigger', route: 'images', methods: ['POST'], authLevel: 'anonymous' });
    expect(trigger('getImage')).toMatchObject({ type: 'httpTrigger', route: 'images/{id}', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
    expect(trigger('getImageDerivative')).toMatchObject({ type: 'httpTrigger', route: 'images/{id}/{derivative}', methods: ['GET', 'HEAD'] });
    expect(trigger('registerBatch')).toMatchObject({ type: 'httpTrigger', route: 'batches/{id}', methods: ['PUT'], authLevel: 'anonymous' });
    expect(trigger('whoAmI')).toMatchObject({ type: 'httpTrigger', route: 'me', methods: ['GET', 'HEAD'], authLevel: 'anonymous' });
  });

  it('declare the blob trigger on uploads with the Event Grid source Flex Consumption needs', () => {
    expect(trigger('processUpload')).toMatchObject({ type: 'blobTrigger', path: 'uploads/{name}', connection: 'AzureWebJobsStorage', source: 'EventGrid' });
  });

  it('declare the batch ingest on Event Hubs: bytes, many at a time, the Durable client, and a retry policy that never gives up', () => {
    expect(trigger('ingestBatchRecords')).toMatchObject({ type: 'eventHubTrigger', connection: 'EVENTHUB_CONNECTION', eventHubName: '%EVENTHUB_NAME%', cardinality: 'many', dataType: 'binary' });
    expect(durableClientBinding('ingestBatchRecords')).toBeDefined();
    // The checkpoint moves on after a failed invocation; only this policy delivers the events again.
    expect(registrations.get('ingestBatchRecords')!.metadata).toMatchObject({ retryOptions: { retryStrategy: 'exponentialBackoff', maxRetryCount: -1 } });
  });

  it('declare one maintenance timer every minute with the Durable client, and the retry route with the client too', () => {
    expect(trigger('maintenance')).toMatchObject({ type: 'timerTrigger', schedule: '0 * * * * *' });
    expect(durableClientBinding('maintenance')).toBeDefined();
    expect(trigger('retryBatch')).toMatchObject({ type: 'httpTrigger', route: 'batches/{id}/retry', methods: ['POST'], authLevel: 'anonymous' });
    expect(durableClientBinding('retryBatch')).toBeDefined();
    expect(trigger('sweepBatches')).toMatchObject({ type: 'httpTrigger', route: 'batch-sweep', methods: ['POST'] });
    expect(durableClientBinding('sweepBatches')).toBeDefined();
    expect(trigger('listBatches')).toMatchObject({ type: 'httpTrigger', route: 'batches', methods: ['GET', 'HEAD'] });
    expect(durableClientBinding('getBatch')).toBeUndefined();
  });

  it('ingest a batch through the registered Event Hubs handler and start its orchestration once, through the Durable client', async () => {
    const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } }).png().toBuffer();
    const records = [0, 1].map((index) => buildRecord({ batchId: 'azure-batch', index, count: 2, contentType: 'image/png', bytes: image }));
    // As the host sends them to the worker (cardinality many, dataType binary): the bodies as a collection of bytes;
    // the Kafka headers, binary application properties, in PropertiesArray as JSON, where .NET writes byte arrays as
    // base64 strings; the partition keys and sequence numbers as typed collections. @azure/functions' own invocation
    // model converts it all, as in the worker.
    const request = {
      input: { collectionBytes: { bytes: records.map((r) => new Uint8Array(r.value)) } },
      triggerMetadata: {
        PartitionContext: { json: JSON.stringify({ ConsumerGroup: '$Default', EventHubName: 'images', FullyQualifiedNamespace: 'ns.servicebus.windows.net', PartitionId: '0' }) },
        PropertiesArray: { json: JSON.stringify(records.map((r) => Object.fromEntries(Object.entries(headersAsBytes(r.headers)).map(([name, value]) => [name, value.toString('base64')])))) },
        PartitionKeyArray: { collectionString: { string: records.map((r) => r.key) } },
        SequenceNumberArray: { collectionSint64: { sint64: [7, 8] } },
      },
      extraInputs: [{ name: durableClientBinding('ingestBatchRecords')!, data: { string: JSON.stringify(extension.clientData) } }],
    };
    const { log } = await invokeAsWorker(registrations, 'ingestBatchRecords', request);
    await invokeAsWorker(registrations, 'ingestBatchRecords', request); // redelivered
    expect(extension.posts).toEqual(['azure-batch']);
    expect(extension.instances.get('azure-batch')).toMatchObject({ name: 'batchOrchestrator', input: { batchId: 'azure-batch', itemCount: 2 } });
    expect(messagesAt(log, 'information')).toContain('ingested 2 records: 2 new, 0 redelivered, 0 rejected, 0 dead-lettered; started 1 batches');
  });

  it('run an upload end to end through the registered handlers, as the worker would call them, for the principal Easy Auth injected', async () => {
    const image = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ff8800' } }).jpeg().toBuffer();
    // As Easy Auth writes it after validating a token (base64 JSON of the token's claims).
    const claims = [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: '5a1e0000-0000-4000-8000-0000000000a1' },
      { typ: 'name', val: 'Alice' },
      { typ: 'roles', val: 'uploader' },
    ];
    const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims })).toString('base64');
    const upload = new functions.HttpRequest({
      method: 'POST',
      url: 'https://app.example.net/api/images',
      headers: { 'content-type': 'image/jpeg', 'content-length': String(image.length), 'x-ms-client-principal': principal },
      body: { bytes: image },
    });
    const anonymous = new functions.HttpRequest({ method: 'GET', url: 'https://app.example.net/api/images' });
    expect((await call(registrations.get('listImages')!, anonymous, context('listImages'))).status).toBe(401);
    const accepted = await call(registrations.get('uploadImage')!, upload, context('uploadImage'));
    expect(accepted.status).toBe(202);
    const { id } = JSON.parse(accepted.body);
    expect(accepted.headers.location).toBe(`https://app.example.net/api/images/${id}`);

    const blobContext = context('processUpload', { name: id });
    await registrations.get('processUpload')!.handler(image, blobContext);

    const read = new functions.HttpRequest({ method: 'GET', url: `https://app.example.net/api/images/${id}`, params: { id }, headers: { 'x-ms-client-principal': principal } });
    const result = await call(registrations.get('getImage')!, read, context('getImage'));
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ id, owner: claims[0]!.val, status: 'succeeded', metadata: { width: 300, height: 200 }, analysis: { meanColour: '#ff8800' } });

    // A page without a session: sent to Easy Auth's sign-in, back to the page afterwards.
    const page = new functions.HttpRequest({ method: 'GET', url: 'https://app.example.net/api/web/upload.html', params: { file: 'upload.html' } });
    const redirect = await call(registrations.get('webFile')!, page, context('webFile'));
    expect([redirect.status, redirect.headers.location]).toEqual([302, '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fweb%2Fupload.html']);
  });

  it('process the content the blob trigger bound, without reading the blob again', async () => {
    const image = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#0088ff' } }).png().toBuffer();
    const claims = [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: '5a1e0000-0000-4000-8000-0000000000b2' },
      { typ: 'name', val: 'Bea' },
      { typ: 'roles', val: 'uploader' },
    ];
    const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims })).toString('base64');
    const headers = { 'x-ms-client-principal': principal };
    const upload = new functions.HttpRequest({ method: 'POST', url: 'https://app.example.net/api/images', headers: { ...headers, 'content-type': 'image/png', 'content-length': String(image.length) }, body: { bytes: image } });
    const accepted = await call(registrations.get('uploadImage')!, upload, context('uploadImage'));
    expect(accepted.status, accepted.body).toBe(202);
    const { id } = JSON.parse(accepted.body) as { id: string };
    const blobs = await azuriteBlobs();
    const stored = (await blobs.get('uploads', id))!;
    // Gone from storage after the trigger bound it: only the bound content can be processed.
    await blobs.delete('uploads', id);
    // The binding data as the host sends it (BlobTrigger, Uri, Properties and Metadata, .NET objects as PascalCase
    // JSON, then the path's {name}), converted by @azure/functions' own invocation model as in the worker.
    const { log } = await invokeAsWorker(registrations, 'processUpload', {
      triggerMetadata: {
        BlobTrigger: { string: `uploads/${id}` },
        Uri: { json: JSON.stringify(`https://account.blob.core.windows.net/uploads/${id}`) },
        Properties: { json: JSON.stringify({ ContentType: stored.contentType, ContentLength: image.length, BlobType: 0, Metadata: stored.metadata }) },
        Metadata: { json: JSON.stringify(stored.metadata) },
        name: { string: id },
      },
      input: { bytes: image },
    });
    expect(log.filter((line) => line.startsWith('error'))).toEqual([]);
    const read = new functions.HttpRequest({ method: 'GET', url: `https://app.example.net/api/images/${id}`, params: { id }, headers });
    expect(JSON.parse((await call(registrations.get('getImage')!, read, context('getImage'))).body)).toMatchObject({ id, status: 'succeeded', metadata: { width: 120, height: 80 } });
  });

  it('take an upload as Flex Consumption delivers it: the body streamed through the worker HTTP proxy, the answer streamed back', async () => {
    // Large enough to arrive in many chunks: the handler reads it as it comes, from the proxy's request stream.
    const image = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    expect(image.length).toBeGreaterThan(1024 * 1024);
    const headers = { 'content-type': 'image/png', 'content-length': String(image.length), ...as(USERS.alice) };
    const { HttpUri } = await registrations.programmingModel!.getCapabilities({});
    const invocationId = randomUUID();
    // The host forwards the client's request to the proxy (the invocation id and the public host in headers), and
    // sends the invocation over RPC: the headers as trigger metadata, the HTTP input empty (the proxy carries it).
    const forwarded = fetch(new URL('api/images', HttpUri), {
      method: 'POST',
      headers: { ...headers, 'x-ms-invocation-id': invocationId, 'x-forwarded-host': 'app.example.net', 'x-forwarded-proto': 'https' },
      body: Readable.toWeb(Readable.from(chunks(image, 64 * 1024))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    await invokeAsWorker(registrations, 'uploadImage', { invocationId, triggerMetadata: { Headers: { json: JSON.stringify(headers) }, Query: { json: '{}' } }, input: { http: {} } });
    const response = await forwarded;
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    expect(response.headers.get('location')).toBe(`https://app.example.net/api/images/${id}`);
    const stored = await (await azuriteBlobs()).get('uploads', id);
    expect(stored && Buffer.compare(stored.bytes, image)).toBe(0);
  });

  it('log a failed image on the invocation context and return normally', async () => {
    const blobs = await azuriteBlobs();
    await blobs.put('uploads', 'not-an-image', Buffer.from('hello'), { contentType: 'image/png' });
    const blobContext = context('processUpload', { name: 'not-an-image' });
    await registrations.get('processUpload')!.handler(Buffer.from('hello'), blobContext);
    expect(messagesAt(blobContext.lines, 'error').some((message) => message.startsWith('image processing failed for not-an-image'))).toBe(true);
  });
});
