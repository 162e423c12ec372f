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
