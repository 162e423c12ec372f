import type { TraceContext } from '../tracing';
import type { BatchSummary } from './summary';

export const BATCH_SCHEMA_VERSION = 1;

/**
 * receiving: records still arriving; processing: the orchestration runs; then one of the ended statuses:
 * completed (every item received and processed), incomplete (the receive window closed with items missing, each
 * listed as failed "never received"; the rest processed), failed (the orchestration failed; `failure` says why).
 */
export type BatchStatus = 'receiving' | 'processing' | 'completed' | 'incomplete' | 'failed';
export const BATCH_STATUSES: readonly BatchStatus[] = ['receiving', 'processing', 'completed', 'incomplete', 'failed'];
export const ENDED_STATUSES: readonly BatchStatus[] = ['completed', 'incomplete', 'failed'];
export const hasEnded = (status: BatchStatus) => ENDED_STATUSES.includes(status);

/** The reason of an item whose record had not arrived when the receive window closed. */
export const NEVER_RECEIVED = 'never received';
/** The reason a record for a batch whose receive window has closed (or that has ended) is rejected with. */
export const BATCH_ALREADY_ENDED = 'batch already ended';

/** One batch in the Cosmos `batches` container (partitioned by id). Item results live in `images`, partition = batch id. */
export interface BatchDocument {
  id: string;
  type: 'batch';
  schemaVersion: typeof BATCH_SCHEMA_VERSION;
  status: BatchStatus;
  /** From the first record (or the web upload); records that disagree are rejected. */
  itemCount: number;
  /**
   * Where the summary is POSTed. Kept only here: never returned by the API (it may carry a secret token), never
   * logged, never put into an orchestration's input (Durable keeps inputs in its history); removed by the sweep.
   */
  callbackUrl?: string;
  /**
   * Object id of the principal that registered the batch (PUT /api/batches/{id}) or uploaded it (POST /api/batches);
   * `unattributed` when its records came without registering it first. Never taken from a record.
   */
  owner?: string;
  /**
   * Registered batches only: the secret every record of the batch must carry in `ip-batch-token`, handed to the
   * owner when registering. Records without it cannot join the batch. Never shown by the API but to its owner.
   */
  ingestToken?: string;
  createdAt: string;
  /** Every change, and every ingest of a record while receiving: the receive timeout counts from here. */
  updatedAt: string;
  /** When processing started (all items in, or the receive window closed). */
  startedAt?: string;
  /** Set when the receive window closed before every item arrived. */
  closedAt?: string;
  /** The orchestration instance that processes the batch: its id, then `<id>:retry:<n>` for each retry. */
  instanceId?: string;
  retries?: number;
  /** When the batch ended (completed, incomplete or failed). */
  completedAt?: string;
  summary?: BatchSummary;
  /** Why the orchestration failed; cleared (null) when the batch is retried. */
  failure?: { reason: string; at: string } | null;
  callback?: { delivered: boolean; status?: number; error?: string; at: string };
  /** The trace the batch's work continues (the upload request's, or its first ingest's): one trace per batch. */
  trace?: TraceContext;
  /** Set when the retention sweep de-identified the batch (src/lib/privacy/deidentify.ts). */
  deidentifiedAt?: string;
}

/** A record that could not join its batch (index out of range, count disagreeing, batch ended), kept with the reason. */
export interface RejectedRecord {
  /** Deterministic from the record's content, so a redelivery is stored once. */
  id: string;
  batchId: string;
  index?: number;
  fileName?: string;
  reason: string;
  /** The record's `ip-*` headers as text, without `ip-callback-url` (never kept outside the batch document). */
  headers: Record<string, string>;
  /** sha256 of the record's value; removed when the record is de-identified. */
  sha256?: string;
  at: string;
  deidentifiedAt?: string;
}

export function newBatch(id: string, itemCount: number, callbackUrl: string | undefined, now = new Date(), trace?: TraceContext): BatchDocument {
  return {
    id,
    type: 'batch',
    schemaVersion: BATCH_SCHEMA_VERSION,
    status: 'receiving',
    itemCount,
    ...(callbackUrl ? { callbackUrl } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    ...(trace ? { trace } : {}),
  };
}
