import type { BatchSummary } from './summary';

export const BATCH_SCHEMA_VERSION = 1;

/** receiving: records still arriving; processing: the orchestration runs; completed: the summary is written. */
export type BatchStatus = 'receiving' | 'processing' | 'completed';

/** One batch in the Cosmos `batches` container (partitioned by id). Item results live in `images`, partition = batch id. */
export interface BatchDocument {
  id: string;
  type: 'batch';
  schemaVersion: typeof BATCH_SCHEMA_VERSION;
  status: BatchStatus;
  /** From the first record (or the web upload); records that disagree become failed items. */
  itemCount: number;
  callbackUrl?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  summary?: BatchSummary;
  callback?: { delivered: boolean; status?: number; error?: string; at: string };
}

export function newBatch(id: string, itemCount: number, callbackUrl: string | undefined, now = new Date()): BatchDocument {
  return {
    id,
    type: 'batch',
    schemaVersion: BATCH_SCHEMA_VERSION,
    status: 'receiving',
    itemCount,
    ...(callbackUrl ? { callbackUrl } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
