import type { OutgoingRecord } from './record';

/** Port for publishing batch records: Event Hubs in Azure, Kafka or the in-process stream locally. */
export interface BatchStream {
  /** For logs and the local host's console. */
  readonly description: string;
  /** Resolves once the transport has accepted every record (in order, per key). */
  publish(records: OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}
