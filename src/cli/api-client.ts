import type { TokenCredential } from '@azure/identity';
import { oauthBearerProvider } from './entra-token';

/** Headers that authenticate one call to the app's API. */
export type ApiAuth = () => Promise<Record<string, string>>;

/** The app's HTTP API as the commands call it: the base (`.../api`) and how each call authenticates. */
export interface ApiClient {
  base: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** The environment variable that gives `--api-scope` a default, for pipelines and bridges set up once. */
export const API_SCOPE_VARIABLE = 'IMAGE_PIPELINE_API_SCOPE';

/**
 * An Entra ID access token for the app registration (`--api-scope api://<client id>/.default`) from the CLI's
 * credential (az login, a service principal's client credentials or certificate, workload identity, a managed
 * identity), sent as `Authorization: Bearer`: App Service Authentication validates it and tells the app who calls and
 * with which app roles. Without a scope nothing is sent, which suits the local host (AUTH_MODE=open).
 */
export function entraAuth(scope: string | undefined, credential: () => TokenCredential): ApiAuth {
  if (!scope) return async () => ({});
  let token: (() => Promise<{ value: string }>) | undefined;
  return async () => {
    token ??= oauthBearerProvider(credential(), scope);
    return { authorization: `Bearer ${(await token()).value}` };
  };
}

export function apiClient(base: string, auth: ApiAuth): ApiClient {
  const root = base.replace(/\/+$/, '');
  return {
    base: root,
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      for (const [name, value] of Object.entries(await auth())) headers.set(name, value);
      return fetch(`${root}${path}`, { ...init, headers });
    },
  };
}

/** The problem `detail` of an error answer, or its start. */
export async function answerText(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as { detail?: string };
    if (problem.detail) return problem.detail;
  } catch {
    // not JSON
  }
  return text.slice(0, 300);
}

/**
 * Registers a batch to the caller (PUT /api/batches/{id}) and returns its ingest token, which every record of the
 * batch then carries (`ip-batch-token`): Event Hubs cannot say who sent a record, so this is how the batch and its
 * images come to belong to whoever the token for the API says it is.
 */
export async function registerBatch(api: ApiClient, batchId: string, itemCount: number, callbackUrl?: string): Promise<string> {
  const response = await api.fetch(`/batches/${encodeURIComponent(batchId)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ itemCount, ...(callbackUrl ? { callbackUrl } : {}) }),
  });
  if (response.status !== 200 && response.status !== 201) {
    throw Object.assign(new Error(`Registering batch ${batchId} at ${api.base} answered ${response.status}: ${await answerText(response)}`), { status: response.status });
  }
  return ((await response.json()) as { ingestToken: string }).ingestToken;
}
