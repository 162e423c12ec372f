import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { Kafka, logLevel, Partitioners, type KafkaConfig } from 'kafkajs';
import { BATCH_ID_PATTERN, buildRecord, headersAsBytes, itemBlobName, MAX_BATCH_ITEMS, MAX_INLINE_BYTES, type OutgoingRecord } from '../lib/batch/record';
import { progressBar } from './progress';
import { RequestGroup } from './request-group';

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.gif': 'image/gif', '.webp': 'image/webp',
  '.tif': 'image/tiff', '.tiff': 'image/tiff', '.bmp': 'image/bmp',
};

export interface SendOptions {
  paths: string[];
  kafka: KafkaConfig;
  topic: string;
  batchId?: string;
  callbackUrl?: string;
  /**
   * Registers the batch (PUT /api/batches/{id}) once the files are checked, before any record leaves, and returns its
   * ingest token, which every record carries. Without it the batch is sent unregistered and belongs to nobody.
   */
  register?: (batchId: string, itemCount: number) => Promise<string>;
  /** The `batches` container: files over the inline limit go there first; without it they are refused. */
  batches?: ContainerClient;
}

/** Files of the batch: each path a file, or a folder whose files (not sub-folders) are taken, in name order. */
export async function collectFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const entries = await readdir(path, { withFileTypes: true });
      files.push(...entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => join(path, e.name)).sort());
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Sends one batch as Kafka records (format v1, README); returns the batch id. */
export async function sendBatch(options: SendOptions, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<{ batchId: string; items: number }> {
  const files = await collectFiles(options.paths);
  if (!files.length) throw new Error('No files to send.');
  if (files.length > MAX_BATCH_ITEMS) throw new Error(`A batch holds at most ${MAX_BATCH_ITEMS} files; got ${files.length}.`);
  const batchId = options.batchId ?? randomUUID();
  if (!BATCH_ID_PATTERN.test(batchId)) throw new Error('--batch-id must be 1-100 letters, digits or hyphens.');
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const large = files.filter((_, i) => sizes[i] > MAX_INLINE_BYTES);
  if (large.length && !options.batches) {
    throw new Error(
      `${large.length} file(s) are over ${MAX_INLINE_BYTES} bytes, more than a Kafka record to Event Hubs may carry: ${large.slice(0, 3).map((f) => basename(f)).join(', ')}${large.length > 3 ? ', ...' : ''}. ` +
        'Pass --storage-account (Entra ID) or --storage-connection to upload them to blob storage first, or use POST /api/batches.',
    );
  }
  const batchToken = await options.register?.(batchId, files.length);
  const kafka = new Kafka({ ...options.kafka, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const bar = progressBar(`batch ${batchId}`, files.length);
  try {
    const send = (records: OutgoingRecord[]) =>
      producer.send({ topic: options.topic, messages: records.map((r) => ({ key: r.key, value: r.value, headers: headersAsBytes(r.headers) })) });
    const group = new RequestGroup<OutgoingRecord>((record) => record.value.length);
    for (const [index, file] of files.entries()) {
      const bytes = await readFile(file);
      const item = { batchId, index, count: files.length, fileName: basename(file), contentType: TYPES[extname(file).toLowerCase()], callbackUrl: options.callbackUrl, batchToken };
      let record: OutgoingRecord;
      if (bytes.length > MAX_INLINE_BYTES) {
        const blobName = itemBlobName(batchId, index);
        await options.batches!.getBlockBlobClient(blobName).uploadData(bytes, { blobHTTPHeaders: { blobContentType: item.contentType ?? 'application/octet-stream' } });
        record = buildRecord({ ...item, blobName });
      } else {
        record = buildRecord({ ...item, bytes });
      }
      const full = group.add(record);
      if (full) await send(full);
      bar.update(index + 1);
    }
    const rest = group.take();
    if (rest.length) await send(rest);
    bar.done('sent');
  } finally {
    await producer.disconnect();
  }
  log(`Sent batch ${batchId}: ${files.length} records to topic ${options.topic}.`);
  return { batchId, items: files.length };
}
