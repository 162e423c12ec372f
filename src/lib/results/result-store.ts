import type { ImageDocument } from './image-document';

/** Port for result documents: Cosmos DB in Azure, the Cosmos stand-in locally. */
export interface ImageResults {
  /** False when a document with this id already exists in the partition. */
  create(doc: ImageDocument): Promise<boolean>;
  get(id: string, partitionKey: string): Promise<ImageDocument | undefined>;
  /** By id alone, for callers that do not know the partition (a batch item fetched by its image id). */
  find(id: string): Promise<ImageDocument | undefined>;
  upsert(doc: ImageDocument): Promise<void>;
}
