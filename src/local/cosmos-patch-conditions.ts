/*
 * A conditional patch (`condition: "FROM c WHERE ..."`) holds on Cosmos DB when the document it patches, in its own
 * partition, satisfies the predicate. The stand-in (@vercel/cosmosdb-server) checks it by querying the whole container
 * for `c.id = @id AND (predicate)`: every document of the container is read for each patch (one per batch item: a
 * patch took 0.7 ms with 500-1000 images stored, 0.5 ms checked this way), and a document with the same id in another
 * partition can satisfy it. Here the stand-in's own check runs over the patched document alone.
 */

interface StandInItem {
  read(): ({ _rid: string } & Record<string, unknown>) | undefined;
}
interface StandInDocuments {
  _data: Map<string, StandInItem>;
  _toRid(keyPath: string, id: string, partition: unknown): string;
  query(params: unknown, options: unknown): unknown;
}
interface StandInCollection {
  documents: StandInDocuments;
}
interface PatchInput {
  id: string;
  partitionKey: string;
  condition?: string;
}
type PatchOperation = (collection: StandInCollection, input: PatchInput) => unknown;

let installed = false;

/** Call before the stand-in serves a request; once per process is enough (later calls do nothing). */
export function checkPatchConditionsOnTheirDocument(): void {
  if (installed) return;
  installed = true;
  // patch-document.js calls the function through the module's exports (compiled `(0, module.patchOperation)(...)`).
  const operations = require('@vercel/cosmosdb-server/lib/handler/_patch-operations') as { patchOperation: PatchOperation };
  const { parsePartitionKey } = require('@vercel/cosmosdb-server/lib/utils/get-partition-from-header') as { parsePartitionKey(header: string, id: string): unknown };
  const original = operations.patchOperation;
  operations.patchOperation = (collection, input) => {
    if (!input.condition) return original(collection, input);
    const documents = collection.documents;
    let target: StandInItem | undefined;
    try {
      target = documents._data.get(documents._toRid('/id', input.id, parsePartitionKey(input.partitionKey, input.id)));
    } catch {
      // A partition key header the stand-in cannot read: its own code answers it.
      return original(collection, input);
    }
    const query = documents.query;
    // The stand-in's query over a view of the documents that holds the target alone (the query only reads them), set
    // for this synchronous call only.
    const document = target?.read();
    const view = Object.create(documents, { _data: { value: new Map(document ? [[document._rid, target!]] : []) } }) as StandInDocuments;
    documents.query = (params, options) => query.call(view, params, options);
    try {
      return original(collection, input);
    } finally {
      delete (documents as Partial<StandInDocuments>).query;
    }
  };
}
