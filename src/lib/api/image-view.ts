import type { ImageDocument } from '../results/image-document';

/** The public shape of an image result: the document without storage internals, plus links. */
export function imageView(doc: ImageDocument, base: string) {
  const { partitionKey: _pk, type: _type, source, derivatives, ...rest } = doc;
  const { container: _c, blob: _b, ...upload } = source;
  return {
    ...rest,
    source: upload,
    derivatives: derivatives && Object.fromEntries(
      Object.entries(derivatives).map(([name, d]) => [name, { contentType: d.contentType, width: d.width, height: d.height, bytes: d.bytes, url: `${base}/images/${doc.id}/${name}` }]),
    ),
    links: { self: `${base}/images/${doc.id}` },
  };
}

export type ImageView = ReturnType<typeof imageView>;
