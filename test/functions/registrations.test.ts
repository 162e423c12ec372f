import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordRegistrations, type Registration } from './functions-core';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';

// Registrations must be recorded before the app modules call app.*.
const registrations = recordRegistrations();
let azurite: EmbeddedAzurite;
let cosmos: CosmosStandIn;
let functions: typeof import('@azure/functions');

beforeAll(async () => {
  [azurite, cosmos] = await Promise.all([startAzurite(), startCosmosStandIn()]);
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.COSMOS_CONNECTION = cosmos.connectionString;
  functions = await import('@azure/functions');
  await import('../../src/functions/http.js');
  await import('../../src/functions/process-upload.js');
});
afterAll(async () => {
  await azurite?.stop();
  await cosmos?.stop();
});

const trigger = (name: string) => {
  const registration = registrations.get(name);
  expect(registration, `function ${name} registered`).toBeDefined();
  return Object.values(registration!.metadata.bindings).find((binding) => binding.direction === 'in' && String(binding.type).endsWith('Trigger'))!;
};

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
  it('declare the HTTP routes with function-level keys', () => {
    expect(trigger('uploadImage')).toMatchObject({ type: 'httpTrigger', route: 'images', methods: ['POST'], authLevel: 'function' });
    expect(trigger('getImage')).toMatchObject({ type: 'httpTrigger', route: 'images/{id}', methods: ['GET', 'HEAD'], authLevel: 'function' });
    expect(trigger('getImageDerivative')).toMatchObject({ type: 'httpTrigger', route: 'images/{id}/{derivative}', methods: ['GET', 'HEAD'] });
  });

  it('declare the blob trigger on uploads with the Event Grid source Flex Consumption needs', () => {
    expect(trigger('processUpload')).toMatchObject({ type: 'blobTrigger', path: 'uploads/{name}', connection: 'AzureWebJobsStorage', source: 'EventGrid' });
  });

  it('run an upload end to end through the registered handlers, as the worker would call them', async () => {
    const image = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ff8800' } }).jpeg().toBuffer();
    const upload = new functions.HttpRequest({
      method: 'POST',
      url: 'https://app.example.net/api/images',
      headers: { 'content-type': 'image/jpeg', 'content-length': String(image.length) },
      body: { bytes: image },
    });
    const accepted = await call(registrations.get('uploadImage')!, upload, context('uploadImage'));
    expect(accepted.status).toBe(202);
    const { id } = JSON.parse(accepted.body);
    expect(accepted.headers.location).toBe(`https://app.example.net/api/images/${id}`);

    const blobContext = context('processUpload', { name: id });
    await registrations.get('processUpload')!.handler(image, blobContext);

    const read = new functions.HttpRequest({ method: 'GET', url: `https://app.example.net/api/images/${id}`, params: { id } });
    const result = await call(registrations.get('getImage')!, read, context('getImage'));
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ id, status: 'succeeded', metadata: { width: 300, height: 200 }, analysis: { meanColour: '#ff8800' } });
  });

  it('log a failed image on the invocation context and return normally', async () => {
    const { AzureBlobStore, blobServiceClient } = await import('../../src/lib/storage/azure-blob-store.js');
    const blobs = new AzureBlobStore(blobServiceClient({ kind: 'connectionString', value: azurite.connectionString }));
    await blobs.put('uploads', 'not-an-image', Buffer.from('hello'), { contentType: 'image/png' });
    const blobContext = context('processUpload', { name: 'not-an-image' });
    await registrations.get('processUpload')!.handler(Buffer.from('hello'), blobContext);
    expect(blobContext.lines.some((line) => line.startsWith('error: image processing failed for not-an-image'))).toBe(true);
  });
});
