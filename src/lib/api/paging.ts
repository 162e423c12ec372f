import type { Config } from '../config';
import { badRequest } from '../problem';
import { isStatus } from '../results/cosmos';
import { readToken, signToken } from './signed-token';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

// A date, or a date and time with an offset (Z or ±hh:mm); read as UTC when no time is given.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A time bound from the query, as the stored toISOString() form, so bounds compare correctly as strings. */
export function timestamp(name: string, raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  const time = TIMESTAMP.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(time)) throw badRequest(`${name} must be an ISO 8601 date (2024-05-01) or date-time with an offset (2024-05-01T12:00:00Z); got "${raw}".`, 'invalid-query');
  return new Date(time).toISOString();
}

export function readLimit(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}; got "${raw}".`, 'invalid-query');
  return limit;
}

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

/** Rejects query parameters a listing does not know (`code` is the function key in Azure). */
export function checkParameters(query: URLSearchParams, known: readonly string[]): void {
  const unknown = [...query.keys()].filter((key) => !known.includes(key) && key !== 'code');
  if (unknown.length) throw badRequest(`Unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')}; use ${known.join(', ')}.`, 'invalid-query');
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
