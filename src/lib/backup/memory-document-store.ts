import { memoryPage } from '../memory-page';
import { appFields, documentKey, type ChangedPage, type ContainerSpec, type Document, type DocumentStore, type PartitionKeyValue, type VersionedDocument } from './document-store';

type Stored = VersionedDocument & { _seq: number };

// Through JSON, as a database stores it: undefined fields are dropped.
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** By change time, ties by write order: a total order, so a page resumes exactly where the last one ended. */
const byChange = (a: Stored, b: Stored) => a._ts - b._ts || a._seq - b._seq;

/**
 * DocumentStore in memory, for tests that inject faults around it (test/contracts/document-store.test.ts holds it
 * and the Cosmos adapter to one suite). `_ts` comes from `clock` (seconds), like Cosmos' own clock, so a test can
 * move time on; every write stamps the document, and a write ends the document's earlier version.
 */
export class MemoryDocumentStore implements DocumentStore {
  private readonly containers = new Map<string, Map<string, Stored>>();
  private sequence = 0;

  constructor(private readonly clock: () => number = () => Math.floor(Date.now() / 1000)) {}

  async missing(containers: readonly ContainerSpec[]): Promise<string[]> {
    return containers.filter(({ id }) => !this.containers.has(id)).map(({ id }) => id);
  }

  async ensure(containers: readonly ContainerSpec[]): Promise<void> {
    for (const { id } of containers) if (!this.containers.has(id)) this.containers.set(id, new Map());
  }

  async changed(container: ContainerSpec, range: { afterTs: number; untilTs: number }, page: { limit: number; continuationToken?: string }): Promise<ChangedPage> {
    const versions = [...this.documents(container).values()].filter((doc) => doc._ts > range.afterTs && doc._ts <= range.untilTs).sort(byChange);
    const { items, continuationToken } = memoryPage(versions, byChange, ({ _ts, _seq }) => ({ _ts, _seq }), page.limit, page.continuationToken);
    return { documents: items.map(({ _seq: _drop, ...doc }) => copy(doc)), continuationToken };
  }

  async create(container: ContainerSpec, doc: Document): Promise<boolean> {
    const docs = this.documents(container);
    if (docs.has(documentKey(container, doc))) return false;
    this.store(container, doc);
    return true;
  }

  async read(container: ContainerSpec, id: string, partitionKey: PartitionKeyValue): Promise<Document | undefined> {
    const doc = this.documents(container).get(JSON.stringify([partitionKey ?? null, id]));
    return doc && appFields(copy(doc));
  }

  async upsert(container: ContainerSpec, doc: Document): Promise<void> {
    this.store(container, doc);
  }

  private store(container: ContainerSpec, doc: Document): void {
    this.documents(container).set(documentKey(container, doc), { ...copy(appFields(doc)), _ts: this.clock(), _seq: this.sequence++ });
  }

  private documents(container: ContainerSpec) {
    const docs = this.containers.get(container.id);
    if (!docs) throw Object.assign(new Error(`Container ${container.id} does not exist (in memory)`), { code: 404 });
    return docs;
  }
}
