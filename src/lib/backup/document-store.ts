/** A Cosmos container as the backup knows it: its id and partition key path (src/lib/names.ts). */
export interface ContainerSpec {
  id: string;
  partitionKeyPath: string;
}

/** A document as the app wrote it: no system properties. */
export type Document = { id: string } & Record<string, unknown>;

/** A stored version of a document: the app's fields and `_ts`, the second of its last change (Cosmos' own clock). */
export type VersionedDocument = Document & { _ts: number };

export interface ChangedPage {
  documents: VersionedDocument[];
  /** Opaque; pass it back with the same range for the next page. Absent on the last page. */
  continuationToken?: string;
}

/**
 * Port for the backup: every document of a container, read by change time (`_ts`) and written back as it was.
 * Cosmos DB (CosmosDocumentStore) in Azure and on the local host; MemoryDocumentStore for fault-injection tests.
 * test/contracts/document-store.test.ts holds both to one suite. Throttling (429) and other errors come through as
 * the store raised them; the backup decides how long to wait.
 */
export interface DocumentStore {
  /** The containers that do not exist (a backup of a missing container would look like an empty one). */
  missing(containers: readonly ContainerSpec[]): Promise<string[]>;
  /** Creates the database and containers that are missing; fails, naming them, where the connection may not. */
  ensure(containers: readonly ContainerSpec[]): Promise<void>;
  /** Versions with `afterTs < _ts <= untilTs`, in `_ts` order, at most `limit` a page; `_ts` kept, other system properties dropped. */
  changed(container: ContainerSpec, range: { afterTs: number; untilTs: number }, page: { limit: number; continuationToken?: string }): Promise<ChangedPage>;
  /** Creates the document (any `_ts` in it is ignored); false when one with its id and partition key exists. */
  create(container: ContainerSpec, doc: Document): Promise<boolean>;
  /** The stored document without system properties; undefined when there is none. */
  read(container: ContainerSpec, id: string, partitionKey: PartitionKeyValue): Promise<Document | undefined>;
  /** Creates or replaces the document. */
  upsert(container: ContainerSpec, doc: Document): Promise<void>;
}

export type PartitionKeyValue = string | number | boolean | null | undefined;

/** The partition key value of `doc` under `path` (`/partitionKey`, `/id`, or nested like `/a/b`). */
export function partitionKeyOf(doc: Record<string, unknown>, path: string): PartitionKeyValue {
  let value: unknown = doc;
  for (const part of path.split('/').filter(Boolean)) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value as PartitionKeyValue;
}

/** Identity of a document within its container: partition key and id. */
export const documentKey = (container: ContainerSpec, doc: Record<string, unknown>) => JSON.stringify([partitionKeyOf(doc, container.partitionKeyPath) ?? null, doc.id]);

/** The app's fields only: Cosmos' system properties (`_rid`, `_etag`, `_ts`, ...) start with an underscore. */
export function appFields<T extends Record<string, unknown>>(doc: T): Document {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_'))) as Document;
}
