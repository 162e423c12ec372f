import { BLOB_CONTAINERS } from '../names';
import type { ImageDocument, StoredDerivative } from '../results/image-document';
import type { BlobStore } from '../storage/blob-store';
import { DERIVATIVE_SIZES, type DerivativeName, type ProcessedImage } from '../images/processed-image';

/** The one blob that holds an image's derivatives, one after another (each one's range is in its document). */
const derivativesBlobName = (imageId: string) => `${imageId}/derivatives`;
const DERIVATIVES_CONTENT_TYPE = 'application/octet-stream';

/** Where each derivative had a blob of its own (documents written before the shared blob still point there). */
const ownDerivativeBlobName = (imageId: string, name: DerivativeName) => `${imageId}/${name}.jpg`;

/** Every blob name processing uses or used for an image's derivatives. */
export const derivativeBlobNames = (imageId: string) => [derivativesBlobName(imageId), ...(Object.keys(DERIVATIVE_SIZES) as DerivativeName[]).map((name) => ownDerivativeBlobName(imageId, name))];

/** A derivative's range as the shared blob's metadata records it (`<offset>,<length>`), so the blob describes itself. */
const rangeText = (offset: number, length: number) => `${offset},${length}`;

/**
 * Where the derivative is in the shared blob as that blob's metadata says, when it disagrees with `entry`: the blob was
 * written again (new content processed under the same id) after the document was read. Undefined when they agree.
 */
export function movedRange(metadata: Record<string, string>, name: DerivativeName, entry: { offset: number; bytes: number }): { offset: number; bytes: number } | undefined {
  const recorded = metadata[name];
  const match = recorded === undefined ? null : /^(\d+),(\d+)$/.exec(recorded);
  if (!match || recorded === rangeText(entry.offset, entry.bytes)) return undefined;
  return { offset: Number(match[1]), bytes: Number(match[2]) };
}

/**
 * Writes the derivatives with one request: their bytes one after another in one blob under the image id, each
 * derivative's offset and length (`bytes`) in its entry and in the blob's metadata. Same name every time, so
 * reprocessing overwrites, never duplicates.
 */
export async function storeDerivatives(
  blobs: BlobStore,
  imageId: string,
  processed: ProcessedImage,
): Promise<Partial<Record<DerivativeName, StoredDerivative>>> {
  const blob = derivativesBlobName(imageId);
  const entries: Partial<Record<DerivativeName, StoredDerivative>> = {};
  let offset = 0;
  for (const d of processed.derivatives) {
    entries[d.name] = { container: BLOB_CONTAINERS.derived, blob, offset, bytes: d.bytes.length, contentType: d.contentType, width: d.width, height: d.height };
    offset += d.bytes.length;
  }
  const metadata = Object.fromEntries(Object.entries(entries).map(([name, e]) => [name, rangeText(e.offset!, e.bytes)]));
  await blobs.put(BLOB_CONTAINERS.derived, blob, Buffer.concat(processed.derivatives.map((d) => d.bytes)), { contentType: DERIVATIVES_CONTENT_TYPE, metadata });
  return entries;
}

/** Deletes an image's derivatives, where they exist: the shared blob storeDerivatives writes. */
export async function deleteDerivatives(blobs: BlobStore, imageId: string): Promise<void> {
  await blobs.delete(BLOB_CONTAINERS.derived, derivativesBlobName(imageId));
}

/**
 * Deletes the blobs an image's previous result named for its derivatives that its new result does not (a document
 * from before the shared blob processed again, or a result that failed this time); no request when there are none.
 */
export async function deleteReplacedDerivatives(blobs: BlobStore, previous: ImageDocument | undefined, final: ImageDocument): Promise<void> {
  const kept = new Set(Object.values(final.derivatives ?? {}).map((d) => `${d.container}/${d.blob}`));
  const replaced = new Map(Object.values(previous?.derivatives ?? {}).map((d) => [`${d.container}/${d.blob}`, d] as const));
  await Promise.all([...replaced].filter(([key]) => !kept.has(key)).map(([, d]) => blobs.delete(d.container, d.blob)));
}
