import { z } from 'zod';
import { MIME_TYPES, type ImageFormat } from '../images/sniff';
import type { ImageDocument } from '../results/image-document';

const timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 date-time (UTC).' });
const FORMATS = Object.keys(MIME_TYPES) as [ImageFormat, ...ImageFormat[]];

/** One derivative of an image: where to fetch its bytes. */
const DerivativeLink = z.strictObject({
  contentType: z.literal('image/jpeg'),
  width: z.int().min(1),
  height: z.int().min(1),
  bytes: z.int().min(0),
  url: z.url().meta({ description: 'GET it with the same key as the API.' }),
});

/** The public shape of an image result (GET /api/images/{id}), and of each item of a listing. */
export const ImageResult = z
  .strictObject({
    id: z.string().meta({ example: '3f2b8c1e-7a4d-4e0b-9c61-2d5e8f0a1b7c' }),
    schemaVersion: z.literal(1),
    status: z.enum(['queued', 'processing', 'succeeded', 'failed']),
    batchId: z.string().optional().meta({ description: 'Batch items only: the batch.' }),
    itemIndex: z.int().min(0).optional().meta({ description: 'Batch items only: the position in the batch.' }),
    source: z.strictObject({
      fileName: z.string().optional(),
      contentType: z.string().optional().meta({ description: 'The type sniffed from the bytes (or declared, for a record refused before).' }),
      bytes: z.int().min(0),
      sha256: z.string().optional().meta({ description: 'Hex sha256 of the image; empty for an item whose record never arrived; removed when the image is de-identified.' }),
      uploadedAt: timestamp,
    }),
    metadata: z
      .strictObject({
        format: z.enum(FORMATS),
        width: z.int().min(1).meta({ description: 'After EXIF orientation.' }),
        height: z.int().min(1),
        bytes: z.int().min(0),
        hasAlpha: z.boolean().meta({ description: 'Some pixel is not fully opaque.' }),
        orientation: z.int().min(1).max(8).optional(),
        camera: z.strictObject({ make: z.string().optional(), model: z.string().optional() }).optional(),
        takenAt: z.string().optional().meta({ description: 'Capture time as the camera recorded it, with its UTC offset when the file gives one.' }),
      })
      .optional(),
    analysis: z
      .strictObject({
        perceptualHash: z.string().regex(/^[0-9a-f]{16}$/).meta({ description: '64-bit difference hash (dHash), hex.' }),
        meanColour: z.string().regex(/^#[0-9a-f]{6}$/),
        palette: z.array(z.strictObject({ colour: z.string().regex(/^#[0-9a-f]{6}$/), share: z.number().min(0).max(1) })).max(5),
        brightness: z.number().min(0).max(1),
        contrast: z.number().min(0).max(0.5),
        sharpness: z.number().min(0),
      })
      .optional(),
    derivatives: z.strictObject({ thumbnail: DerivativeLink.optional(), preview: DerivativeLink.optional() }).optional(),
    processing: z.strictObject({ engine: z.string(), durationMs: z.number().min(0), finishedAt: timestamp }).optional(),
    error: z.strictObject({ reason: z.string() }).optional().meta({ description: 'Failed images: why.' }),
    warnings: z.array(z.string()).optional().meta({ description: 'What was wrong with a damaged file that could still be processed.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
    deidentifiedAt: timestamp.optional().meta({ description: 'Set when the retention sweep removed its blobs and personal fields (README "Privacy").' }),
    owner: z.string().optional().meta({ description: 'Object id of the principal it belongs to (a batch item: the batch owner); `unattributed` for blobs other clients wrote.' }),
    links: z.strictObject({ self: z.url() }),
  })
  .meta({ id: 'ImageResult', description: 'An image and its processing result.' });

export type ImageView = z.infer<typeof ImageResult>;

/** The public shape of an image result: the document without storage internals, plus links. */
export function imageView(doc: ImageDocument, base: string): ImageView {
  const { partitionKey: _pk, type: _type, source, derivatives, ...rest } = doc;
  const { container: _c, blob: _b, ...upload } = source;
  return {
    ...rest,
    source: upload,
    derivatives: derivatives && Object.fromEntries(
      Object.entries(derivatives).map(([name, d]) => [name, { contentType: d.contentType as 'image/jpeg', width: d.width, height: d.height, bytes: d.bytes, url: `${base}/images/${doc.id}/${name}` }]),
    ),
    links: { self: `${base}/images/${doc.id}` },
  };
}
