/** A function-level retry policy in the shape of @azure/functions' RetryOptions (intervals in milliseconds). */
export type TriggerRetryPolicy =
  | { strategy: 'fixedDelay'; maxRetryCount: number; delayInterval: number }
  | { strategy: 'exponentialBackoff'; maxRetryCount: number; minimumInterval: number; maximumInterval: number };

/**
 * ingestBatchRecords' retry policy. The Event Hubs trigger moves its checkpoint on whether the function returned or
 * threw; only this policy runs the same records again. The handler throws only when a record could neither be
 * stored nor dead-lettered (storage or Cosmos down), so it retries for ever (10 s doubling to 15 min): the partition
 * waits, and nothing accepted is dropped. The local host's stream and Kafka consumer apply the same policy.
 */
export const INGEST_TRIGGER_RETRY: TriggerRetryPolicy = { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: 10_000, maximumInterval: 15 * 60_000 };
