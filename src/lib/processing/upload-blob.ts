import type { ImageSource } from '../results/image-document';
import { sha256 } from '../hash';
import { BLOB_CONTAINERS } from '../names';
import type { TraceContext } from '../tracing';

export const IMAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const isImageId = (value: string) => IMAGE_ID_PATTERN.test(value);

/**
 * The image id for a blob in `uploads`: the name itself for our own uploads (a UUID), or a stable hash of the
 * name for blobs other clients wrote (their names may hold characters Cosmos ids cannot).
 */
export const imageIdForBlob = (name: string) => (isImageId(name) ? name : `blob-${sha256(Buffer.from(name)).slice(0, 32)}`);

/**
 * Blob metadata values must be ASCII, so the file name travels URI-encoded. The upload request's trace context
 * travels too: the blob trigger continues the same trace from it.
 */
export function uploadMetadata(source: Pick<ImageSource, 'fileName' | 'contentType' | 'uploadedAt'> & { sha256: string }, trace?: TraceContext): Record<string, string> {
  return {
    ...(source.fileName ? { filename: encodeURIComponent(source.fileName) } : {}),
    ...(source.contentType ? { contenttype: source.contentType } : {}),
    sha256: source.sha256,
    uploadedat: source.uploadedAt,
    ...(trace ? { traceparent: trace.traceparent, ...(trace.tracestate ? { tracestate: trace.tracestate } : {}) } : {}),
  };
}

/** The trace context an upload's blob carries (none for blobs from other clients). */
export const uploadTraceContext = (metadata: Record<string, string>): Partial<TraceContext> => ({ traceparent: metadata.traceparent, tracestate: metadata.tracestate });

/** The source description of an uploads blob, from its metadata where our API wrote it, else from the blob. */
export function sourceFromBlob(name: string, bytes: Buffer, metadata: Record<string, string>, contentType: string): ImageSource & { sha256: string } {
  let fileName = name.split('/').pop();
  try {
    if (metadata.filename) fileName = decodeURIComponent(metadata.filename);
  } catch {
    // keep the blob name when the metadata was not written by us
  }
  return {
    container: BLOB_CONTAINERS.uploads,
    blob: name,
    fileName,
    contentType: metadata.contenttype ?? contentType,
    bytes: bytes.length,
    sha256: sha256(bytes),
    uploadedAt: metadata.uploadedat ?? new Date().toISOString(),
  };
}

/**
 * The blob a blob trigger bound: its content, with its metadata and content type from the trigger's binding data
 * (`metadata`, `properties.contentType`), so processing does not download it again. Undefined when the binding data
 * lacks them: processUpload then reads the blob itself.
 */
export function boundBlob(content: unknown, triggerMetadata: Record<string, unknown> | undefined): { bytes: Buffer; metadata: Record<string, string>; contentType: string } | undefined {
  const { metadata, properties } = (triggerMetadata ?? {}) as { metadata?: Record<string, string>; properties?: { contentType?: unknown } };
  if (!Buffer.isBuffer(content) || !metadata || typeof metadata !== 'object' || typeof properties?.contentType !== 'string') return undefined;
  return { bytes: content, metadata, contentType: properties.contentType };
}
