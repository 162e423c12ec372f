import type { Config } from '../config';
import { problem } from '../problem';
import type { UsageCounters } from './usage-counters';

type Limits = Config['uploadLimits'];

/**
 * A counter id per owner and window. `owner` is the owner hash (src/lib/auth/owner-hash.ts), never the object id:
 * counters are documents like any other (in Azure the analytical store keeps them too), and per-user activity is
 * exactly what must not be readable by who it is.
 */
const counterId = (kind: string, owner: string, window: string) => `${kind}:${owner}:${window}`;

const secondsUntil = (now: Date, next: number) => String(Math.max(1, Math.ceil((next - now.getTime()) / 1000)));

/**
 * One upload request of `owner` (POST /api/images, POST /api/batches, PUT /api/batches/{id}), counted in the current
 * UTC minute before its body is read, so a flood is refused cheaply. Over the limit: 429 upload-rate-exceeded with
 * Retry-After at the next minute. Refused requests count too: they cost us as much to refuse.
 */
export async function chargeUploadRequest(counters: UsageCounters, limits: Limits, owner: string, now = new Date()): Promise<void> {
  if (!limits.requestsPerMinute) return;
  const count = await counters.add(counterId('upload-requests', owner, now.toISOString().slice(0, 16)), 1);
  if (count <= limits.requestsPerMinute) return;
  const nextMinute = Math.floor(now.getTime() / 60_000) * 60_000 + 60_000;
  throw problem(
    'upload-rate-exceeded',
    `At most ${limits.requestsPerMinute} upload requests a minute per user; retry after the Retry-After seconds.`,
    { limit: limits.requestsPerMinute },
    { 'retry-after': secondsUntil(now, nextMinute) },
  );
}

/**
 * Takes `bytes` of `owner`'s daily quota (UTC day) for an upload that passed validation. When that would go over
 * UPLOAD_BYTES_PER_DAY the bytes are given back and the upload is refused: 429 upload-quota-exceeded, Retry-After at
 * midnight UTC.
 */
export async function reserveUploadBytes(counters: UsageCounters, limits: Limits, owner: string, bytes: number, now = new Date()): Promise<void> {
  if (!limits.bytesPerDay) return;
  const id = counterId('upload-bytes', owner, now.toISOString().slice(0, 10));
  const total = await counters.add(id, bytes);
  if (total <= limits.bytesPerDay) return;
  await counters.add(id, -bytes);
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  throw problem(
    'upload-quota-exceeded',
    `This upload of ${bytes} bytes would take you past ${limits.bytesPerDay} bytes today (UTC), ${total - bytes} of them used; retry after the Retry-After seconds.`,
    { limit: limits.bytesPerDay, used: total - bytes },
    { 'retry-after': secondsUntil(now, midnight) },
  );
}
