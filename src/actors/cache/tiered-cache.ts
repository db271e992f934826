/**
 * The tiered cache the HTTP layer calls: L1 in memory (exact request → response) read through to
 * L3 in SQLite, with single-flight computation and per-namespace generations for invalidation.
 *
 * Tenancy by construction: every method takes the tenant (the API key id) as its own argument and
 * the internal key is `tenant NUL key`. A tenant may not contain NUL, so the first NUL always ends
 * the tenant and no key of one tenant can spell a key of another. In L3 the tenant is its own
 * column of the primary key.
 *
 * `get`/`set` are synchronous calls on this shared object, not messages to the cache actor: an L1
 * hit costs about as much as one Map lookup, and a mailbox round trip (enqueue, drain turn,
 * promise) per hit would cost several times the hit itself. The actor (actor.ts) owns only the
 * timers and the admin operations. L3 reads are synchronous point reads by primary key on the
 * store's read-only connection; L3 writes go through the store actor and are never awaited by a
 * request: a failure is counted and the request carries on.
 *
 * Generations and single-flight (why a read after a write never sees a value computed before it):
 * callers bump the generation of (tenant, namespace) after each write to that namespace has
 * committed, and build the key of every cached read with `generationKey`, which embeds the current
 * generation. A read that starts after the bump therefore uses a key that did not exist before the
 * bump: it cannot hit an older entry, and it cannot join an older flight either, because flights
 * are keyed by the same key. A compute that started before the bump finishes under the old key
 * and stores its (possibly stale) result there, where no later read looks. Bumping before the
 * commit would not be safe: a read between the bump and the commit would compute from the old data
 * and store it under the new generation. Generations live in memory and carry a per-process boot
 * id, so a generation key persisted to L3 by an earlier process is never read again (it ages out).
 */
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { type Clock, systemClock } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import { ExpiringLru, type TierStats } from './expiring-lru.js';
import { type CacheOptions, type CacheOptionsInput, resolveCacheOptions } from './options.js';
import { CACHE_QUERIES, type Codec, type PruneResult, structuredCodec } from './persistent.js';

/** What the cache needs from the store: named writes through the actor, reads on the reader. */
export interface CacheStore {
  write<T = unknown>(op: string, args?: unknown): Promise<T>;
  readonly reader: { statement(sql: string): Statement };
}

/** Whether a request may read the cache and whether its result may be written (cache-control.ts). */
export interface CacheMode {
  readonly read: boolean;
  readonly write: boolean;
}

export const DEFAULT_CACHE_MODE: CacheMode = Object.freeze({ read: true, write: true });

export interface SetOptions {
  /** Time to live of this entry in ms, capped by the tier's TTL. @default the tier's ttlMs */
  ttlMs?: number;
  /**
   * Write through to L3 as well. Persistence belongs to the kind of key: use the same value for a
   * key every time (a non-persistent set does not delete an older L3 row of the same key). @default false
   */
  persist?: boolean;
}

export interface ComputeOptions<V> extends SetOptions {
  /** From the request's Cache-Control (`cacheModeOf`). @default { read: true, write: true } */
  mode?: CacheMode;
  /** Decides whether a computed value is stored (e.g. only successful responses). @default every value */
  cacheable?: (value: V) => boolean;
}

/** Where a value came from: a tier, another caller's compute, this caller's compute, or no cache at all. */
export type CacheSource = 'l1' | 'l3' | 'shared' | 'computed' | 'bypass';

export interface CacheResult<V> {
  value: V;
  source: CacheSource;
}

/** Counters of L3, read at scrape time. */
export interface PersistentStats {
  hits: number;
  misses: number;
  /** Rows found past their TTL or TTI on read, plus rows removed as expired or idle by prune. */
  expirations: number;
  /** Rows removed by prune to bring the table under its capacity. */
  evictions: number;
  writes: number;
  writeFailures: number;
  readFailures: number;
}

export interface TieredCacheConfig<V> {
  /** Validated here unless already resolved. */
  options?: CacheOptionsInput | Readonly<CacheOptions>;
  /** @default systemClock */
  clock?: Clock;
  /** The store for L3; without one the cache is L1 only. Register `cacheWriters` with it as `cache`. */
  store?: CacheStore;
  /** How values become L3 BLOBs. @default structuredCodec (V8 serialisation) */
  codec?: Codec<V>;
}

interface Flight<V> {
  promise: Promise<V>;
  /** Set by delete/invalidateTenant/no-cache: the result must not be stored. */
  cancelled: boolean;
}

interface L3Row {
  value: Uint8Array;
  expires_at: number;
  last_access_at: number;
}

const SEP = '\u0000';

function checkTenant(tenant: unknown): string {
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.indexOf(SEP) !== -1) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'cache tenant must be a non-empty string without NUL', {
      details: { tenant: typeof tenant === 'string' ? tenant : typeof tenant },
    });
  }
  return tenant;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'cache key must be a string', {
      details: { key: typeof key },
    });
  }
  return key;
}

/** The internal key: the tenant first, so two tenants can never share an entry. */
export function scopedKey(tenant: string, key: string): string {
  return checkTenant(tenant) + SEP + checkKey(key);
}

export class TieredCache<V> {
  readonly options: Readonly<CacheOptions>;
  readonly l1: ExpiringLru<V>;
  readonly l3: PersistentStats = {
    hits: 0,
    misses: 0,
    expirations: 0,
    evictions: 0,
    writes: 0,
    writeFailures: 0,
    readFailures: 0,
  };
  /** The last L3 write error, for logs and the admin `stats` message. */
  lastWriteError: unknown;
  readonly #clock: Clock;
  readonly #store: CacheStore | undefined;
  readonly #codec: Codec<V>;
  readonly #flights = new Map<string, Flight<V>>();
  readonly #generations = new Map<string, number>();
  readonly #boot = randomUUID().slice(0, 8);
  readonly #pending = new Set<Promise<void>>();
  /** L3 deletes not yet committed, per internal key / tenant: reads skip L3 for them meanwhile. */
  readonly #deleting = new Map<string, number>();
  readonly #deletingTenants = new Map<string, number>();

  constructor(config: TieredCacheConfig<V> = {}) {
    this.options = resolveCacheOptions(config.options as CacheOptionsInput | undefined);
    this.#clock = config.clock ?? systemClock;
    this.#store = config.store;
    this.#codec = config.codec ?? (structuredCodec as Codec<V>);
    this.l1 = new ExpiringLru<V>(this.options.l1, this.#clock);
  }

  /** True when an L3 store is attached. */
  get persistent(): boolean {
    return this.#store !== undefined;
  }

  /** The live value, from L1 or else L3 (an L3 hit is promoted to L1); undefined on a miss. */
  get(tenant: string, key: string): V | undefined {
    const k = scopedKey(tenant, key);
    const v = this.l1.get(k);
    return v !== undefined ? v : this.#readL3(tenant, key, k);
  }

  /** Stores `value` in L1, and in L3 when `persist` is set (acknowledged later; see `flush`). */
  set(tenant: string, key: string, value: V, options: SetOptions = {}): void {
    this.#set(tenant, key, scopedKey(tenant, key), value, options);
  }

  /** Removes the entry from every tier; a compute in flight for it will not store its result. */
  delete(tenant: string, key: string): boolean {
    const k = scopedKey(tenant, key);
    const flight = this.#flights.get(k);
    if (flight !== undefined) {
      flight.cancelled = true;
      this.#flights.delete(k);
    }
    const removed = this.l1.delete(k);
    if (this.#store !== undefined) {
      bump(this.#deleting, k, 1);
      void this.#write('delete', { tenant, key }).finally(() => bump(this.#deleting, k, -1));
    }
    return removed;
  }

  /** Removes every entry of `tenant` from L1 and L3 and cancels its computes in flight. */
  async invalidateTenant(tenant: string): Promise<{ l1: number; l3: number }> {
    const prefix = checkTenant(tenant) + SEP;
    for (const [k, flight] of this.#flights) {
      if (k.startsWith(prefix)) {
        flight.cancelled = true;
        this.#flights.delete(k);
      }
    }
    const l1 = this.l1.deleteWhere((k) => k.startsWith(prefix));
    let l3 = 0;
    const store = this.#store;
    if (store !== undefined) {
      bump(this.#deletingTenants, tenant, 1);
      try {
        l3 = await store.write<number>('cache.deleteTenant', { tenant });
        this.l3.writes++;
      } catch (err) {
        this.l3.writeFailures++;
        this.lastWriteError = err;
        throw err;
      } finally {
        bump(this.#deletingTenants, tenant, -1);
      }
    }
    return { l1, l3 };
  }

  /** The current generation of (tenant, namespace); starts at 0. */
  generation(tenant: string, namespace: string): number {
    return this.#generations.get(`${checkTenant(tenant)}${SEP}${namespace}`) ?? 0;
  }

  /**
   * Moves (tenant, namespace) to a new generation: every key built by `generationKey` before this
   * call is unreachable after it. Call after each write to the namespace has committed.
   */
  bump(tenant: string, namespace: string): number {
    const g = `${checkTenant(tenant)}${SEP}${namespace}`;
    const next = (this.#generations.get(g) ?? 0) + 1;
    this.#generations.set(g, next);
    return next;
  }

  /** The key of a cached read of `namespace`, including its current generation. */
  generationKey(tenant: string, namespace: string, key: string): string {
    return `\u0001${namespace}\u0001${this.#boot}.${this.generation(tenant, namespace)}\u0001${key}`;
  }

  /** `getOrComputeResult` without the source. */
  async getOrCompute(
    tenant: string,
    key: string,
    compute: () => V | Promise<V>,
    options: ComputeOptions<V> = {},
  ): Promise<V> {
    return (await this.getOrComputeResult(tenant, key, compute, options)).value;
  }

  /**
   * The cached value, or else the result of `compute`, stored for the next caller. Concurrent
   * misses of the same key share one call of `compute` and all get its result or its error; an
   * error is never stored. With `mode.read` false (no-cache) the cache is not read and a new compute
   * replaces any in flight; with both false (no-store) `compute` runs on its own and nothing is stored.
   */
  async getOrComputeResult(
    tenant: string,
    key: string,
    compute: () => V | Promise<V>,
    options: ComputeOptions<V> = {},
  ): Promise<CacheResult<V>> {
    const k = scopedKey(tenant, key);
    const mode = options.mode ?? DEFAULT_CACHE_MODE;
    if (!mode.read && !mode.write) return { value: await compute(), source: 'bypass' };
    if (mode.read) {
      const hit = this.l1.get(k);
      if (hit !== undefined) return { value: hit, source: 'l1' };
      const fromL3 = this.#readL3(tenant, key, k);
      if (fromL3 !== undefined) return { value: fromL3, source: 'l3' };
      const flight = this.#flights.get(k);
      if (flight !== undefined) return { value: await flight.promise, source: 'shared' };
    } else {
      const older = this.#flights.get(k);
      if (older !== undefined) older.cancelled = true;
    }
    const flight: Flight<V> = { promise: undefined as unknown as Promise<V>, cancelled: false };
    // `compute` starts a microtask later, after the flight is registered, so a caller that arrives
    // while it runs always finds the flight.
    flight.promise = Promise.resolve()
      .then(compute)
      .then(
        (value) => {
          if (this.#flights.get(k) === flight) this.#flights.delete(k);
          if (
            !flight.cancelled &&
            mode.write &&
            value !== undefined &&
            (options.cacheable?.(value) ?? true)
          ) {
            this.#set(tenant, key, k, value, options);
          }
          return value;
        },
        (err: unknown) => {
          if (this.#flights.get(k) === flight) this.#flights.delete(k);
          throw err;
        },
      );
    this.#flights.set(k, flight);
    return { value: await flight.promise, source: 'computed' };
  }

  /** Computes in flight now. */
  get inFlight(): number {
    return this.#flights.size;
  }

  /** Removes expired L1 entries among the `max` least recently used. */
  sweep(max = this.options.sweepBatch): number {
    return this.l1.sweep(max);
  }

  /**
   * Deletes expired, idle and over-capacity L3 rows, `pruneBatch` rows per transaction, until none
   * is left. Rejects when the store fails (the failure is counted too).
   */
  async prune(): Promise<{ expired: number; idle: number; evicted: number }> {
    const total = { expired: 0, idle: 0, evicted: 0 };
    const store = this.#store;
    if (store === undefined) return total;
    const l3 = this.options.l3;
    for (let round = 0; round < 1000; round++) {
      let r: PruneResult;
      try {
        r = await store.write<PruneResult>('cache.prune', {
          now: this.#clock.now(),
          ttiMs: l3.ttiMs,
          capacity: l3.capacity,
          limit: l3.pruneBatch,
        });
        this.l3.writes++;
      } catch (err) {
        this.l3.writeFailures++;
        this.lastWriteError = err;
        throw err;
      }
      total.expired += r.expired;
      total.idle += r.idle;
      total.evicted += r.evicted;
      this.l3.expirations += r.expired + r.idle;
      this.l3.evictions += r.evicted;
      if (!r.more) break;
    }
    return total;
  }

  /** Resolves when every L3 write issued so far has been acknowledged (or has failed). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Rows in L3 now (a count on the read connection; for the size gauge and admin stats). */
  l3Size(): number {
    if (this.#store === undefined) return 0;
    try {
      return (this.#store.reader.statement(CACHE_QUERIES.count).get() as { n: number }).n;
    } catch {
      this.l3.readFailures++;
      return 0;
    }
  }

  stats(): { l1: TierStats; l3: PersistentStats & { size: number; capacity: number }; inFlight: number } {
    return {
      l1: this.l1.stats(),
      l3: { ...this.l3, size: this.l3Size(), capacity: this.options.l3.capacity },
      inFlight: this.#flights.size,
    };
  }

  #set(tenant: string, key: string, k: string, value: V, options: SetOptions): void {
    if (value === undefined) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'cache value must not be undefined');
    }
    const ttl = options.ttlMs;
    this.l1.set(k, value, ttl);
    if (options.persist !== true || this.#store === undefined) return;
    const l3ttl = Math.min(ttl ?? this.options.l3.ttlMs, this.options.l3.ttlMs);
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(value);
    } catch (err) {
      this.l3.writeFailures++;
      this.lastWriteError = err;
      return;
    }
    const now = this.#clock.now();
    void this.#write('put', { tenant, key, value: bytes, now, expiresAt: now + l3ttl });
  }

  #readL3(tenant: string, key: string, k: string): V | undefined {
    const store = this.#store;
    if (store === undefined) return undefined;
    if (this.#deleting.has(k) || this.#deletingTenants.has(tenant)) {
      this.l3.misses++;
      return undefined;
    }
    let row: L3Row | undefined;
    try {
      row = store.reader.statement(CACHE_QUERIES.get).get(tenant, key) as L3Row | undefined;
    } catch {
      this.l3.readFailures++;
      this.l3.misses++;
      return undefined;
    }
    const now = this.#clock.now();
    if (row === undefined) {
      this.l3.misses++;
      return undefined;
    }
    if (now >= row.expires_at || now - row.last_access_at >= this.options.l3.ttiMs) {
      // Left for prune: deleting here would be a write on the read path.
      this.l3.expirations++;
      this.l3.misses++;
      return undefined;
    }
    let value: V;
    try {
      value = this.#codec.decode(row.value);
    } catch {
      this.l3.readFailures++;
      this.l3.misses++;
      return undefined;
    }
    this.l3.hits++;
    this.l1.set(k, value, row.expires_at - now);
    void this.#write('touch', { tenant, key, now });
    return value;
  }

  /** An L3 write through the store; never rejects (failures are counted), tracked for `flush`. */
  #write(op: string, args: unknown): Promise<void> {
    const store = this.#store as CacheStore;
    let p: Promise<void>;
    const fail = (err: unknown): void => {
      this.l3.writeFailures++;
      this.lastWriteError = err;
    };
    try {
      p = store.write(`cache.${op}`, args).then(() => {
        this.l3.writes++;
      }, fail);
    } catch (err) {
      fail(err);
      return Promise.resolve();
    }
    this.#pending.add(p);
    void p.then(() => this.#pending.delete(p));
    return p;
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
