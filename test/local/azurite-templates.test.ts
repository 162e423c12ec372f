import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobServiceClient } from '../../src/lib/storage/azure-blob-store';
import { startAzurite, type EmbeddedAzurite } from '../../src/local/azurite';

type Match = (url: string, template: string) => boolean;
const utils = require('azurite/dist/src/blob/generated/utils/utils') as { isURITemplateMatch: Match };
/** Azurite's own matcher, taken before the embedded Azurite replaces it with one that compiles each template once. */
const azurites: Match = utils.isURITemplateMatch;
const specifications = require('azurite/dist/src/blob/generated/artifacts/specifications').default as Record<string, { path?: string }>;

describe('embedded Azurite with its URI templates compiled once', () => {
  let azurite: EmbeddedAzurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(() => azurite?.stop());

  it('matches request paths against every operation template exactly as Azurite does', () => {
    expect(utils.isURITemplateMatch).not.toBe(azurites);
    const templates = [...new Set(Object.values(specifications).map(({ path }) => (path ? `/${path}` : '/')))];
    expect(templates.length).toBeGreaterThanOrEqual(3);
    const paths = ['/', '', '/uploads', '/uploads/', '/uploads/a.jpg', '/uploads/batch/1/a b.jpg', '/$logs/x', '//a', '/uploads//a', '/derivatives/x/thumb.jpg?comp=list'];
    for (const template of templates) {
      for (const path of paths) {
        // Twice: a compiled template keeps nothing from one match to the next.
        expect([utils.isURITemplateMatch(path, template), utils.isURITemplateMatch(path, template)], `${path} against ${template}`).toEqual([azurites(path, template), azurites(path, template)]);
      }
    }
  });

  it('serves container and blob operations through the SDK', async () => {
    const container = blobServiceClient({ kind: 'connectionString', value: azurite.connectionString }).getContainerClient('templates');
    await container.create();
    await container.getBlockBlobClient('a/b c.txt').uploadData(Buffer.from('hello'));
    expect((await container.getBlobClient('a/b c.txt').downloadToBuffer()).toString()).toBe('hello');
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['a/b c.txt']);
    expect((await container.getBlobClient('a/b c.txt').deleteIfExists()).succeeded).toBe(true);
    expect(await container.getBlobClient('a/b c.txt').exists()).toBe(false);
  });
});
