/** A function-level retry policy in the shape of @azure/functions' RetryOptions (intervals in milliseconds). */
export type TriggerRetryPolicy =
  | { strategy: 'fixedDelay'; maxRetryCount: number; delayInterval: number }
  | { strategy: 'exponentialBackoff'; maxRetryCount: number; minimumInterval: number; maximumInterval: number };

/**
 * ingestBatchRecords' retry policy. The Event Hubs trigger moves its checkpoint on whether the function returned or
 * threw; only this policy runs the same records again first (2 s, 4 s, ... up to 5 retries), then the trigger moves
 * on. The local host's stream and Kafka consumer apply the same policy.
 */
export const INGEST_TRIGGER_RETRY: TriggerRetryPolicy = { strategy: 'exponentialBackoff', maxRetryCount: 5, minimumInterval: 2000, maximumInterval: 60_000 };
