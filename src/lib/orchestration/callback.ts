const TIMEOUT_MS = 10_000;

export interface CallbackResult {
  delivered: boolean;
  status?: number;
  error?: string;
  at: string;
}

/** POSTs the batch result once; never throws, since a callback must not fail (or retry) the batch. */
export async function postCallback(url: string, body: unknown): Promise<CallbackResult> {
  const at = new Date().toISOString();
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { delivered: false, error: 'not a URL', at };
  }
  // Checked at ingest too; repeated here because this is where the request is made.
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return { delivered: false, error: 'only http and https callbacks are allowed', at };
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { delivered: response.ok, status: response.status, at };
  } catch (error) {
    return { delivered: false, error: (error as Error).message, at };
  }
}
