/**
 * L3, the persistent tier: rows of `cache_entries (tenant, key, value, created_at, expires_at,
 * last_access_at)`, primary key (tenant, key), indexes on `expires_at` and `last_access_at`.
 *
 * Writes are named operations registered with the store actor (`writers: { cache: cacheWriters }`),
 * so they ride its group commit and are acknowledged after COMMIT. Reads run on the store's
 * read-only connection. Timestamps are the cache clock's milliseconds, passed in the arguments (not
 * the store's clock) so that expiry reads and writes agree, also under a manual clock in tests.
 * Every query has an index behind it (test/cache-persistent.test.ts checks the plans).
 */
import { deserialize, serialize } from 'node:v8';
import type { Database as Db } from 'better-sqlite3';
import type { WriteHandler } from '../store/store.js';

export const CACHE_QUERIES = {
  /** Point read by primary key. */
  get: 'SELECT value, expires_at, last_access_at FROM cache_entries WHERE tenant = ? AND key = ?',
  /** Row count for the size gauge and the capacity bound. */
  count: 'SELECT count(*) AS n FROM cache_entries',
} as const;

export const CACHE_WRITES = {
  put: `INSERT INTO cache_entries (tenant, key, value, created_at, expires_at, last_access_at)
    VALUES (@tenant, @key, @value, @now, @expiresAt, @now)
    ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at,
      expires_at = excluded.expires_at, last_access_at = excluded.last_access_at`,
  touch: 'UPDATE cache_entries SET last_access_at = ? WHERE tenant = ? AND key = ?',
  delete: 'DELETE FROM cache_entries WHERE tenant = ? AND key = ?',
  deleteTenant: 'DELETE FROM cache_entries WHERE tenant = ?',
  pruneExpired: `DELETE FROM cache_entries WHERE (tenant, key) IN
    (SELECT tenant, key FROM cache_entries WHERE expires_at <= ? LIMIT ?)`,
  pruneIdle: `DELETE FROM cache_entries WHERE (tenant, key) IN
    (SELECT tenant, key FROM cache_entries WHERE last_access_at <= ? LIMIT ?)`,
  pruneOldest: `DELETE FROM cache_entries WHERE (tenant, key) IN
    (SELECT tenant, key FROM cache_entries ORDER BY last_access_at LIMIT ?)`,
  count: CACHE_QUERIES.count,
} as const;

export interface PutArgs {
  tenant: string;
  key: string;
  value: Uint8Array;
  now: number;
  expiresAt: number;
}

export interface PruneArgs {
  now: number;
  ttiMs: number;
  capacity: number;
  /** Rows deleted per kind at most in this call. */
  limit: number;
}

export interface PruneResult {
  expired: number;
  idle: number;
  /** Least recently used rows deleted to bring the table back under its capacity. */
  evicted: number;
  /** True when a limit was reached and another call may find more. */
  more: boolean;
}

/** The cache domain's write operations, registered with the store as `cache.*`. */
export function cacheWriters(db: Db): Record<string, WriteHandler> {
  const put = db.prepare(CACHE_WRITES.put);
  const touch = db.prepare(CACHE_WRITES.touch);
  const remove = db.prepare(CACHE_WRITES.delete);
  const removeTenant = db.prepare(CACHE_WRITES.deleteTenant);
  const pruneExpired = db.prepare(CACHE_WRITES.pruneExpired);
  const pruneIdle = db.prepare(CACHE_WRITES.pruneIdle);
  const pruneOldest = db.prepare(CACHE_WRITES.pruneOldest);
  const count = db.prepare(CACHE_WRITES.count);
  return {
    put(args) {
      put.run(args as PutArgs);
      return true;
    },
    touch(args) {
      const a = args as { tenant: string; key: string; now: number };
      return touch.run(a.now, a.tenant, a.key).changes;
    },
    delete(args) {
      const a = args as { tenant: string; key: string };
      return remove.run(a.tenant, a.key).changes;
    },
    deleteTenant(args) {
      return removeTenant.run((args as { tenant: string }).tenant).changes;
    },
    prune(args): PruneResult {
      const a = args as PruneArgs;
      const expired = pruneExpired.run(a.now, a.limit).changes;
      const idle = pruneIdle.run(a.now - a.ttiMs, a.limit).changes;
      const rows = (count.get() as { n: number }).n;
      const over = Math.min(Math.max(0, rows - a.capacity), a.limit);
      const evicted = over > 0 ? pruneOldest.run(over).changes : 0;
      return {
        expired,
        idle,
        evicted,
        more: expired === a.limit || idle === a.limit || rows - evicted > a.capacity,
      };
    },
  };
}

/**
 * A store pruner (`StoreOptions.pruners`) for the store's own maintenance schedule, on the store's
 * clock: removes expired and idle rows (no batch bound: maintenance runs rarely, off peak).
 */
export function cachePruner(ttiMs: number) {
  return (db: Db, now: number): number =>
    db.prepare('DELETE FROM cache_entries WHERE expires_at <= ?').run(now).changes +
    db.prepare('DELETE FROM cache_entries WHERE last_access_at <= ?').run(now - ttiMs).changes;
}

/** How values become BLOBs in L3 and back. */
export interface Codec<V> {
  encode(value: V): Uint8Array;
  decode(bytes: Uint8Array): V;
}

/**
 * The default codec: V8's structured serialisation (what `structuredClone` uses), so plain objects,
 * strings, Buffers, typed arrays, Maps and Dates round-trip without a schema.
 */
export const structuredCodec: Codec<unknown> = Object.freeze({
  encode: (value: unknown): Uint8Array => serialize(value),
  decode: (bytes: Uint8Array): unknown => deserialize(bytes),
});
