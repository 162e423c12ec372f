import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Config } from '../config';

// Without OWNER_HASH_SALT (locally): one random salt for the life of this process.
const processSalt = createSecretKey(randomBytes(32));
// The salt as a key object, made once: every upload hashes its owner, and importing the key costs more than the hash.
const saltKeys = new Map<string, KeyObject>();
const saltKey = (salt: string) => saltKeys.get(salt) ?? saltKeys.set(salt, createSecretKey(Buffer.from(salt, 'utf8'))).get(salt)!;

/**
 * The owner as de-identified analytics facts carry it: HMAC-SHA256 of the owner's object id under OWNER_HASH_SALT,
 * base64url. Equal owners give equal hashes, so analysts can count images and batches per user; without the salt,
 * which only the app holds, a hash cannot be computed from an object id (object ids are visible to everyone in the
 * tenant) nor turned back into one.
 */
export function ownerHash(config: Pick<Config, 'ownerHashSalt'>, owner: string): string {
  const salt = config.ownerHashSalt ? saltKey(config.ownerHashSalt) : processSalt;
  return createHmac('sha256', salt).update(owner, 'utf8').digest('base64url');
}
