/**
 * Failure reasons are sentences for people ("The PNG file is truncated: ..."); analysts count categories. Each
 * category is recognised from the wording the code writes (test/unit/analytics.test.ts feeds it the real messages).
 */
const CATEGORIES = [
  ['empty', /is empty \(0 bytes\)/],
  ['too-large', /bytes; the limit is/],
  ['unsupported-type', /match none of those formats|is not a .* image/],
  ['unreadable-header', /header cannot be read|header gives no dimensions/],
  ['too-many-pixels', /MP\); the limit is/],
  ['truncated', /is truncated/],
  ['undecodable', /cannot be decoded/],
  ['never-received', /^never received$/],
  ['invalid-record', /^Invalid record headers|cannot be placed in a batch|is not below ip-item-count/],
  ['not-stored', /could not be stored/],
  ['image-gone', /The image blob .* is gone/],
  ['kept-failing', /kept failing after/],
  ['unfinished', /did not finish/],
] as const satisfies ReadonlyArray<readonly [string, RegExp]>;

export type FailureCategory = (typeof CATEGORIES)[number][0] | 'other';
export const FAILURE_CATEGORIES: readonly FailureCategory[] = [...CATEGORIES.map(([name]) => name), 'other'];

export function failureCategory(reason: string): FailureCategory {
  return CATEGORIES.find(([, pattern]) => pattern.test(reason))?.[0] ?? 'other';
}
