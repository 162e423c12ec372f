import { BLOB_CONTAINERS } from '../names';
import type { StoredDerivative } from '../results/image-document';
import type { BlobStore } from '../storage/blob-store';
import { DERIVATIVE_SIZES, type DerivativeName, type ProcessedImage } from '../images/processed-image';

export const derivativeBlobName = (imageId: string, name: DerivativeName) => `${imageId}/${name}.jpg`;

/** Writes the derivatives under the image id; same names every time, so reprocessing overwrites, never duplicates. */
export async function storeDerivatives(
  blobs: BlobStore,
  imageId: string,
  processed: ProcessedImage,
): Promise<Partial<Record<DerivativeName, StoredDerivative>>> {
  const stored = await Promise.all(
    processed.derivatives.map(async (d) => {
      const blob = derivativeBlobName(imageId, d.name);
      await blobs.put(BLOB_CONTAINERS.derived, blob, d.bytes, { contentType: d.contentType });
      const entry: StoredDerivative = { container: BLOB_CONTAINERS.derived, blob, contentType: d.contentType, width: d.width, height: d.height, bytes: d.bytes.length };
      return [d.name, entry] as const;
    }),
  );
  return Object.fromEntries(stored);
}

/** Deletes an image's derivatives (those storeDerivatives wrote), where they exist. */
export async function deleteDerivatives(blobs: BlobStore, imageId: string): Promise<void> {
  await Promise.all((Object.keys(DERIVATIVE_SIZES) as DerivativeName[]).map((name) => blobs.delete(BLOB_CONTAINERS.derived, derivativeBlobName(imageId, name))));
}
