import { deadLetterName } from '../batch/dead-letter';
import type { Logger } from '../logger';
import { recordSweepDeletions } from '../metrics';
import { BLOB_CONTAINERS } from '../names';
import type { OrchestrationStarter } from '../orchestration/starter';
import { deidentify } from '../privacy/deidentify';
import { expiryCutoff } from '../privacy/retention';
import { derivativeBlobNames } from '../processing/store-derivatives';
import type { ImageDocument } from '../results/image-document';
import { errorMessage, withRetries } from '../retry';
import type { Services } from '../services';

export interface RetentionSweepDeps {
  services: Pick<Services, 'blobs' | 'images' | 'batches' | 'config'>;
  /** The engine whose ended orchestrations' histories are purged; absent where none is reachable (the operator CLI). */
  orchestrations?: Pick<OrchestrationStarter, 'purgeEnded'>;
  log: Logger;
  /** At most this many documents of each kind, and blobs of each container, per run; the next run carries on. */
  limit?: number;
}

export interface RetentionSweepOptions {
  /** The time the sweep runs as of (a later time expires more, which is how tests and operators look ahead). */
  asOf: Date;
  /** Count what would be done, change nothing. */
  dryRun?: boolean;
}

export interface RetentionSweepResult {
  asOf: string;
  /** Everything created before this is expired: RETENTION_DAYS before asOf, less one sweep period. */
  cutoff: string;
  dryRun: boolean;
  /** Documents de-identified (in a dry run: that would be). */
  images: number;
  batches: number;
  rejections: number;
  /**
   * Blobs deleted: the expired documents' own, then whatever else the containers held from before the cutoff. In a
   * dry run, the blobs created before the cutoff (an expired image's derivatives made later are not among them).
   */
  blobs: number;
  /** Orchestration histories purged; undefined without an engine, or in a dry run. */
  histories?: number;
  /** Documents or blobs that failed; the next run tries them again. */
  failures: number;
  /** A kind reached the limit: more may be expired, and the next run carries on. */
  more: boolean;
}

export const DEFAULT_SWEEP_LIMIT = 2000;
const PAGE = 100;
const CONCURRENCY = 8;

async function forEachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * The retention sweep (README "Privacy"): everything older than RETENTION_DAYS goes. Every blob of an expired image
 * (original or batch item, derivatives, dead letter) is deleted and its document de-identified; batch documents and
 * rejected records are de-identified; any blob in the app's containers created before the cutoff is deleted (dead
 * letters of unplaced records, blobs other clients wrote); ended orchestrations' histories are purged.
 *
 * Idempotent (a de-identified document is never selected again, a deleted blob is not listed), paged (keyset pages of
 * 100, oldest first), bounded per run (`limit` per kind) and safe to run while the app works. A document or blob that
 * fails is counted, logged by id and left for the next run; it never stops the others. Logs counts and ids only.
 */
export async function sweepRetention(deps: RetentionSweepDeps, { asOf, dryRun = false }: RetentionSweepOptions): Promise<RetentionSweepResult> {
  const { blobs, images, batches, config } = deps.services;
  const limit = deps.limit ?? DEFAULT_SWEEP_LIMIT;
  const cutoff = expiryCutoff(asOf, config.retentionDays).toISOString();
  const result: RetentionSweepResult = { asOf: asOf.toISOString(), cutoff, dryRun, images: 0, batches: 0, rejections: 0, blobs: 0, failures: 0, more: false };
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn);
  const failed = (what: string, error: unknown) => {
    result.failures++;
    // First line only: storage errors go on with request details.
    deps.log.warn(`retention sweep: ${what} failed, the next run tries again: ${errorMessage(error).split('\n')[0]}`);
  };

  const removeBlob = async (container: string, name: string) => {
    if (await retry(() => blobs.delete(container, name))) result.blobs++;
  };

  /**
   * Pages through expired documents oldest first (keyset on `time`, so one that keeps failing never holds up the
   * rest), handling each unless it is a dry run; at most `limit`. Returns how many were handled.
   */
  async function sweepDocuments<T extends { id: string }>(kind: string, list: (after: string | undefined, size: number) => Promise<T[]>, time: (doc: T) => string, handle: (doc: T) => Promise<void>): Promise<number> {
    let handled = 0;
    let taken = 0;
    let after: string | undefined;
    while (taken < limit) {
      const size = Math.min(PAGE, limit - taken);
      const page = await retry(() => list(after, size));
      taken += page.length;
      await forEachLimited(page, async (doc) => {
        try {
          if (!dryRun) await handle(doc);
          handled++;
        } catch (error) {
          failed(`${kind} ${doc.id}`, error);
        }
      });
      if (page.length < size) return handled;
      after = time(page.at(-1)!);
    }
    result.more = true;
    return handled;
  }

  /** Every blob of the image, then the document without its personal fields. */
  async function expireImage(doc: ImageDocument): Promise<void> {
    const owned = new Map<string, [string, string]>();
    const own = (container: string, name: string) => owned.set(`${container}/${name}`, [container, name]);
    if (doc.source.blob) own(doc.source.container, doc.source.blob);
    for (const stored of Object.values(doc.derivatives ?? {})) own(stored.container, stored.blob);
    // Also the names processing uses and used before (a blob per derivative), in case one was written without its
    // document, or left behind when an image from before the shared blob was processed again.
    for (const name of derivativeBlobNames(doc.id)) own(BLOB_CONTAINERS.derived, name);
    if (doc.batchId !== undefined && doc.itemIndex !== undefined) own(BLOB_CONTAINERS.deadletter, deadLetterName(doc.batchId, doc.itemIndex));
    for (const [container, name] of owned.values()) await removeBlob(container, name);
    await retry(() => images.upsert(deidentify(doc, asOf)));
  }

  result.images = await sweepDocuments('image', (after, n) => images.listExpired(cutoff, after, n), (d) => d.createdAt, expireImage);
  result.batches = await sweepDocuments('batch', (after, n) => batches.listExpired(cutoff, after, n), (d) => d.createdAt, (doc) => retry(() => batches.replace(deidentify(doc, asOf))));
  result.rejections = await sweepDocuments('rejected record', (after, n) => batches.listExpiredRejections(cutoff, after, n), (r) => r.at, (record) => retry(() => batches.replaceRejection(deidentify(record, asOf))));

  // Whatever the documents did not lead to: counted from creation, as the lifecycle rule counts.
  for (const container of Object.values(BLOB_CONTAINERS)) {
    let seen = 0;
    try {
      for await (const blob of blobs.list(container)) {
        if (blob.createdOn.toISOString() >= cutoff) continue;
        if (++seen > limit) {
          result.more = true;
          break;
        }
        if (dryRun) {
          result.blobs++;
          continue;
        }
        try {
          await removeBlob(container, blob.name);
        } catch (error) {
          failed(`a blob in ${container}`, error);
        }
      }
    } catch (error) {
      failed(`listing ${container}`, error);
    }
  }

  if (deps.orchestrations && !dryRun) {
    try {
      result.histories = await retry(() => deps.orchestrations!.purgeEnded(new Date(cutoff)));
    } catch (error) {
      failed('purging orchestration histories', error);
    }
  }
  reportSweep(result, deps.log);
  return result;
}

/** Reports what a run did, as counts only (a log line, and the sweep's metric unless it was a dry run). */
function reportSweep(result: RetentionSweepResult, log: Logger): void {
  if (!result.dryRun) {
    // Every kind, also with 0, so the workbook shows the sweep ran.
    for (const what of ['images', 'batches', 'rejections', 'blobs'] as const) recordSweepDeletions(result[what], what);
  }
  const verb = result.dryRun ? 'would de-identify' : 'de-identified';
  const histories = result.histories === undefined ? '' : `; purged ${result.histories} orchestration histories`;
  log.info(
    `retention sweep as of ${result.asOf} (expiring what was created before ${result.cutoff}): ${verb} ${result.images} images, ${result.batches} batches, ${result.rejections} rejected records; ${result.dryRun ? 'would delete' : 'deleted'} ${result.blobs} blobs${histories}; ${result.failures} failures${result.more ? '; more to do in the next run' : ''}`,
  );
}
