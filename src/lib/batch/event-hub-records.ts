import type { RawRecord } from './record';

/** The parts of an Event Hubs trigger's metadata (cardinality many) the adapter reads. */
export interface EventHubTriggerMetadata {
  propertiesArray?: unknown[];
  systemPropertiesArray?: unknown[];
  partitionKeyArray?: unknown[];
  sequenceNumberArray?: unknown[];
  partitionContext?: unknown;
}

/** Event bodies as the Node worker hands them over: bytes for dataType binary, but be liberal in what we accept. */
function bodyBytes(body: unknown): Buffer {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body === undefined || body === null) return Buffer.alloc(0);
  // A JSON body (a blob reference) may already have been parsed by the worker.
  return Buffer.from(JSON.stringify(body), 'utf8');
}

const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});

/**
 * Event Hubs trigger input -> the record shape the ingest handler takes (the local Kafka and in-process streams
 * produce the same shape). Kafka headers arrive as application properties holding byte arrays; decoding them
 * is left to parseRecord, which is the one place that knows the header format.
 */
export function recordsFromEventHub(messages: unknown[], metadata: EventHubTriggerMetadata = {}): RawRecord[] {
  return messages.map((message, i) => {
    const system = record(metadata.systemPropertiesArray?.[i]);
    const key = metadata.partitionKeyArray?.[i] ?? system.PartitionKey ?? system['x-opt-partition-key'];
    const sequence = metadata.sequenceNumberArray?.[i] ?? system.SequenceNumber;
    return {
      key: typeof key === 'string' ? key : undefined,
      value: bodyBytes(message),
      headers: record(metadata.propertiesArray?.[i]),
      position: sequence === undefined ? undefined : `sequence ${String(sequence)}`,
    };
  });
}
