/**
 * One keyset page of `sorted` for the in-memory adapters: the items after the one `token` names, at most `limit`.
 * `compare` must be a total order (ties broken by id), so a page resumes exactly where the last one ended even when
 * items are added in between; the token names the page's last item by the fields `key` keeps.
 */
export function memoryPage<T>(sorted: T[], compare: (a: T, b: T) => number, key: (item: T) => Partial<T>, limit: number, token?: string): { items: T[]; continuationToken?: string } {
  const after = token ? (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T) : undefined;
  const start = after ? sorted.findIndex((item) => compare(item, after) > 0) : 0;
  if (start < 0) return { items: [] };
  const items = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return { items, continuationToken: more ? Buffer.from(JSON.stringify(key(items.at(-1)!))).toString('base64url') : undefined };
}

/**
 * The retention sweep's selection for the in-memory adapters, as the Cosmos query makes it: timed (`time`) before
 * `before` and after `after` when given, not yet de-identified, oldest first, at most `limit`.
 */
export function memoryExpired<T extends { deidentifiedAt?: string }>(docs: T[], time: (doc: T) => string, before: string, after: string | undefined, limit: number): T[] {
  return docs
    .filter((d) => time(d) < before && (after === undefined || time(d) > after) && d.deidentifiedAt === undefined)
    .sort((a, b) => time(a).localeCompare(time(b)))
    .slice(0, limit);
}
