import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, type AddressInfo } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulators } from '../../src/local/emulators';
import { startTestHost } from '../integration/local-host';
import { until } from '../support/until';

/*
 * The embedded Azurite and Cosmos stand-in run in a worker thread of their own (src/local/emulators.ts). These tests
 * prove they really serve from there, and what happens when that thread dies: the host says so and stops serving
 * (no request hangs), and with LOCAL_STORAGE_PATH an upload it had accepted is still there after a restart.
 */
const folders: string[] = [];
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

const png = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#208040' } }).png().toBuffer();

describe('the emulator thread', () => {
  it('tells the host of each write Azurite answered to a container it asked about, whoever sent it', async () => {
    const emulators = await startEmulators({ storage: true, cosmos: false, reportWrites: ['uploads'] });
    try {
      const written: string[] = [];
      emulators.onWrite((container) => written.push(container));
      const service = BlobServiceClient.fromConnectionString(emulators.storage!);
      for (const name of ['uploads', 'derived']) await service.getContainerClient(name).create();
      await service.getContainerClient('derived').getBlockBlobClient('a').uploadData(Buffer.from('a'));
      await service.getContainerClient('uploads').getBlockBlobClient('b').uploadData(Buffer.from('b'));
      await service.getContainerClient('uploads').getBlockBlobClient('b').download(); // a read is no write
      await until(() => written.length >= 2);
      // The container's creation and the blob: never the other container.
      expect(written).toEqual(['uploads', 'uploads']);
    } finally {
      await emulators.stop();
    }
  });

  it('serves Azurite and the Cosmos stand-in off the main thread, over the same HTTP connection strings', async () => {
    const emulators = await startEmulators({ storage: true, cosmos: true });
    try {
      // Neither emulator's listening socket is a handle of this (the main) thread's event loop: they live in the worker.
      const ports = [emulators.storage, emulators.cosmos].map((connection) => Number(/127\.0\.0\.1:(\d+)/.exec(connection!)![1]));
      const mainThreadServers = (process as unknown as { _getActiveHandles(): unknown[] })
        ._getActiveHandles()
        .filter((handle): handle is Server => handle instanceof Server && handle.listening)
        .map((server) => (server.address() as AddressInfo).port);
      expect(ports.every((port) => port > 0 && !mainThreadServers.includes(port))).toBe(true);
      expect(emulators.storage).toMatch(/^DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;.*BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;$/);
      expect(emulators.cosmos).toMatch(/^AccountEndpoint=http:\/\/127\.0\.0\.1:\d+\/;AccountKey=/);
      // Azurite answers an unauthenticated request with its own error, from the thread.
      const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(emulators.storage!)![1];
      const response = await fetch(`${blobEndpoint}?comp=list`);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('AuthorizationFailure');
    } finally {
      await emulators.stop();
    }
    // Stopped: the ports are closed.
    await expect(fetch(`${/BlobEndpoint=([^;]+)/.exec(emulators.storage!)![1]}?comp=list`)).rejects.toThrow();
  }, 120_000);

  it('stops the host, loudly and without hanging requests, when the thread dies; a restart keeps the accepted upload', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'emulator-thread-'));
    folders.push(folder);
    const first = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '60000' });
    const image = await png();
    const accepted = await fetch(`${first.apiUrl}/images`, { method: 'POST', body: image, headers: { 'content-type': 'image/png' } });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };

    // The thread dies (as an uncaught error in an emulator would end it).
    const emulatorThread = first.emulatorsForTests;
    expect(emulatorThread, 'the host exposes its emulator thread to tests').toBeDefined();
    await emulatorThread!.worker.terminate();
    const error = await first.failed;
    expect(error.message).toMatch(/The embedded emulators \(Azurite, Cosmos DB stand-in\) stopped: its thread exited/);
    expect(first.log.lines.join('\n')).toMatch(new RegExp(`error: The embedded emulators .* stopped: .*The local host stops serving; every upload and batch it acknowledged is kept in ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // No longer serving: a request is refused at once rather than left waiting on stores that are gone.
    await expect(fetch(`${first.apiUrl}/images/${id}`, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow(/fetch failed/);
    await first.stop();

    const second = await startTestHost({ LOCAL_STORAGE_PATH: folder, BLOB_WATCH_INTERVAL_MS: '50' });
    try {
      let status: string | undefined;
      for (let i = 0; i < 400 && status !== 'succeeded'; i++) {
        const response = await fetch(`${second.apiUrl}/images/${id}`);
        expect(response.status).toBe(200);
        status = ((await response.json()) as { status: string }).status;
        if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe('succeeded');
      expect((await second.services.blobs.get('uploads', id))?.bytes.equals(image)).toBe(true);
    } finally {
      await second.stop();
    }
  }, 240_000);
});

