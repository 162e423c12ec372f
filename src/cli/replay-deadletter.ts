import type { ContainerClient } from '@azure/storage-blob';
import { errorMessage } from '../lib/retry';

/** What Event Grid adds to an event it dead-letters; the webhook gets the event as it was first sent. */
const DEAD_LETTER_PROPERTIES = ['deadLetterReason', 'deliveryAttempts', 'lastDeliveryOutcome', 'lastHttpStatusCode', 'publishTime', 'lastDeliveryAttemptTime'];

export interface ReplayOptions {
  /** The dead-letter container (eventgrid-dead-letters). */
  container: ContainerClient;
  /** The blob extension webhook of processUpload, with its key in Azure. */
  webhook: string;
  dryRun?: boolean;
  log: (line: string) => void;
}

export interface ReplayResult {
  /** Dead-letter blobs found, and how many were delivered whole (and deleted). */
  blobs: number;
  replayed: number;
  events: number;
  /** Blobs kept, with why: a malformed blob, or an event the webhook did not accept. */
  failed: Array<{ blob: string; reason: string }>;
}

/**
 * Re-delivers the BlobCreated events Event Grid dead-lettered (the app did not accept them for 24 hours, the longest
 * time-to-live Event Grid has) to the blob extension webhook, one event per request as the subscription sends them
 * (maxEventsPerBatch 1), and deletes a dead-letter blob once every event in it was accepted. The blob trigger is
 * idempotent, so an event whose upload was processed meanwhile changes nothing; a run that stops half way is run again.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const result: ReplayResult = { blobs: 0, replayed: 0, events: 0, failed: [] };
  const names: string[] = [];
  for await (const blob of options.container.listBlobsFlat()) if (blob.name.endsWith('.json')) names.push(blob.name);
  for (const name of names.sort()) {
    result.blobs++;
    let events: Array<Record<string, unknown>>;
    try {
      const parsed = JSON.parse((await options.container.getBlobClient(name).downloadToBuffer()).toString('utf8')) as unknown;
      events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
      if (!events.every((event) => event && typeof event === 'object' && typeof event.subject === 'string')) throw new Error('an entry is not an Event Grid event');
    } catch (error) {
      result.failed.push({ blob: name, reason: `not a dead-lettered event array: ${errorMessage(error)}` });
      continue;
    }
    const reason = await deliver(events);
    if (reason) {
      result.failed.push({ blob: name, reason });
      continue;
    }
    result.events += events.length;
    if (options.dryRun) {
      options.log(`would re-deliver ${name}: ${events.map((e) => e.subject).join(', ')}`);
      continue;
    }
    await options.container.getBlobClient(name).deleteIfExists();
    result.replayed++;
    options.log(`re-delivered ${name}: ${events.map((e) => e.subject).join(', ')}`);
  }
  return result;

  /** Undefined when the webhook accepted every event (2xx), else why not. */
  async function deliver(events: Array<Record<string, unknown>>): Promise<string | undefined> {
    if (options.dryRun) return undefined;
    for (const event of events) {
      const original = Object.fromEntries(Object.entries(event).filter(([key]) => !DEAD_LETTER_PROPERTIES.includes(key)));
      try {
        const response = await fetch(options.webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
          body: JSON.stringify([original]),
          redirect: 'error',
          signal: AbortSignal.timeout(120_000),
        });
        if (!response.ok) return `event ${String(event.id)} (${String(event.subject)}): the webhook answered ${response.status} ${(await response.text()).slice(0, 300)}`;
      } catch (error) {
        return `event ${String(event.id)} (${String(event.subject)}): ${errorMessage(error)}`;
      }
    }
    return undefined;
  }
}
