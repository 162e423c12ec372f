import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosmosClient } from '../../src/lib/results/cosmos';
import { AzureBlobStore, blobServiceClient } from '../../src/lib/storage/azure-blob-store';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';
import { startCosmosStandIn, type CosmosStandIn } from '../../src/local/cosmos-standin';
import { startTestHost } from './local-host';

let azurite: EmbeddedAzurite;
let cosmos: CosmosStandIn;

beforeAll(async () => {
  [azurite, cosmos] = await Promise.all([startAzurite(), startCosmosStandIn()]);
});
afterAll(async () => {
  await azurite?.stop();
  await cosmos?.stop();
});

describe('the local host with configured connections', () => {
  it('uses the storage and Cosmos DB it is pointed at instead of starting its own', async () => {
    const host = await startTestHost({ AzureWebJobsStorage: azurite.connectionString, COSMOS_CONNECTION: cosmos.connectionString });
    try {
      expect(host.describe()).toEqual(expect.arrayContaining(['Storage: AzureWebJobsStorage as configured', 'Cosmos DB: COSMOS_CONNECTION as configured']));
      const image = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#aa3300' } }).png().toBuffer();
      const response = await fetch(`${host.apiUrl}/images?wait=20`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image });
      expect(response.status).toBe(200);
      const { id } = (await response.json()) as { id: string };
      // Visible through independent clients of the configured services, so the data really went there.
      const blobs = new AzureBlobStore(blobServiceClient({ kind: 'connectionString', value: azurite.connectionString }));
      expect((await blobs.get('uploads', id))?.bytes.equals(image)).toBe(true);
      const { resource } = await cosmosClient({ kind: 'connectionString', value: cosmos.connectionString }).database('image-pipeline').container('images').item(id, id).read();
      expect(resource).toMatchObject({ id, status: 'succeeded' });
    } finally {
      await host.stop();
    }
  });

  it('fails fast with a clear message on a bad setting', async () => {
    await expect(startTestHost({ IMAGE_ENGINE: 'imagemagick' })).rejects.toThrow('IMAGE_ENGINE must be "sharp" or "jimp", got "imagemagick"');
  });
});
