/** Longest file name kept, in UTF-8 bytes: what file systems allow, and plenty for a label. */
export const MAX_FILE_NAME_BYTES = 255;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A file name as given, or shortened to MAX_FILE_NAME_BYTES of UTF-8 when longer: cut between whole characters
 * (never inside a UTF-8 sequence, surrogate pair or combining sequence), keeping a short extension such as `.jpg`.
 */
export function safeFileName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES) return name;
  const extension = /\.[A-Za-z0-9]{1,15}$/.exec(name)?.[0] ?? '';
  let budget = MAX_FILE_NAME_BYTES - extension.length;
  let kept = '';
  for (const { segment } of graphemes.segment(name.slice(0, name.length - extension.length))) {
    budget -= Buffer.byteLength(segment);
    if (budget < 0) break;
    kept += segment;
  }
  return kept + extension;
}
