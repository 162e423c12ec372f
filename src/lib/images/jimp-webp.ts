import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface RgbaBitmap {
  data: Buffer;
  width: number;
  height: number;
}

let fetchShimInstalled = false;

/**
 * @jimp/wasm-webp (via @jsquash/webp) loads its .wasm with fetch(new URL('…wasm', import.meta.url)), and Node's fetch
 * does not implement file: URLs. This serves file: URLs from disk and passes every other request to the real fetch,
 * so it only adds behaviour where Node would have thrown "not implemented".
 */
function installFileFetch(): void {
  if (fetchShimInstalled) return;
  fetchShimInstalled = true;
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file:')) return realFetch(input, init);
    const bytes = await readFile(fileURLToPath(url));
    const type = url.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(bytes, { headers: { 'content-type': type } });
  };
}

type WebpFormat = { decode(data: Buffer): Promise<RgbaBitmap> };
let format: Promise<WebpFormat> | undefined;

/** Decodes a WebP (first frame) to RGBA with the official jimp WebP plugin; the package is ESM-only, hence import(). */
export async function decodeWebp(bytes: Buffer): Promise<RgbaBitmap> {
  installFileFetch();
  format ??= import('@jimp/wasm-webp').then((module) => module.default());
  return (await format).decode(bytes);
}
