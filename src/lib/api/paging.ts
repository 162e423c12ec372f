import type { Config } from '../config';
import { badRequest } from '../problem';
import { isStatus } from '../results/cosmos';
import { readToken, signToken } from './signed-token';

/**
 * The API's continuation tokens for one listing (`scope`) with these filter values: the store's token, signed
 * (signed-token.ts), so a token can be neither forged nor replayed against a different listing or filters.
 */
export function continuationTokens(config: Pick<Config, 'continuationTokenKey'>, scope: string, filter: unknown[]) {
  const tokenScope = `${scope}:${JSON.stringify(filter)}`;
  return {
    encode: (token: string) => signToken(config, tokenScope, token),
    decode(raw: string | null): string | undefined {
      if (raw === null || raw === '') return undefined;
      const token = readToken(config, tokenScope, raw);
      if (typeof token !== 'string') throw badRequest('continuationToken is not one this API issued; start again without it.', 'invalid-continuation-token');
      return token;
    },
  };
}

/** A listing's links: `first`, and `next` when there is a next page; `query` holds the filters and limit as sent. */
export function pageLinks(path: string, query: URLSearchParams, token: string | undefined): { first: string; next?: string } {
  const first = `${path}${query.size ? `?${query}` : ''}`;
  if (!token) return { first };
  const next = new URLSearchParams(query);
  next.set('continuationToken', token);
  return { first, next: `${path}?${next}` };
}

/** Runs a store's listing; a token that decodes but that the store cannot resume from (expired, another account) is a 400. */
export async function resumable<T>(continuationToken: string | undefined, list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (continuationToken && isStatus(error, 400)) throw badRequest('continuationToken can no longer be used; start again without it.', 'invalid-continuation-token');
    throw error;
  }
}
