/**
 * Random identifiers (conversation, completion and memory ids) from a pooled buffer: one
 * `randomFillSync` call per 4 KiB instead of one `randomBytes` system call per id — what
 * `crypto.randomUUID` does internally for the same reason. Ids are unguessable (CSPRNG bytes), not
 * secrets: API key secrets still come straight from `randomBytes`.
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

/** `bytes` random bytes as base64url (16 characters for 12 bytes). */
export function randomId(bytes = 12): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = POOL.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return out;
}
