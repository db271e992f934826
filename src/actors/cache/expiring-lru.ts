/**
 * One in-memory cache tier: mnemonist's `LRUMapWithDelete` (fixed capacity, O(1) get/set/delete,
 * evicts the least recently used entry) plus expiry bookkeeping kept in the entry itself.
 *
 * - Time to live (`ttlMs`, per entry) and time to idle (`ttiMs`, per tier) are checked lazily on
 *   read: an expired entry found by `get` is removed and reported as a miss.
 * - `sweep(n)` removes expired entries among the `n` least recently used ones, walking the LRU list
 *   from its tail. Because every entry of a tier shares one TTI and the list is ordered by last
 *   access, idle entries are exactly the tail, so the bounded walk finds all of them; TTL expiry is
 *   not ordered by recency, so a TTL-expired entry near the head waits for its read or for LRU
 *   eviction.
 * - Counters are plain numbers read at scrape time.
 *
 * Keys are strings built by the callers (tenant first); this class knows nothing of tenants.
 */
import { LRUMapWithDelete } from 'mnemonist';
import type { Clock } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import type { TierOptions } from './options.js';

interface Entry<V> {
  value: V;
  /** Absolute expiry (TTL) on the tier's clock. */
  expiresAt: number;
  /** Last write or read on the tier's clock (TTI). */
  accessedAt: number;
}

/** The fields of mnemonist's LRUMap that the tail walk reads (lru-map.js, stable since 0.30). */
interface LruInternals<V> {
  tail: number;
  size: number;
  backward: ArrayLike<number>;
  K: ArrayLike<string>;
  V: ArrayLike<Entry<V>>;
}

/** Counters of one tier, read at scrape time. */
export interface TierStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries removed to make room (LRU). */
  readonly evictions: number;
  /** Entries removed because their TTL or TTI had passed. */
  readonly expirations: number;
  readonly size: number;
  readonly capacity: number;
}

export class ExpiringLru<V> {
  readonly capacity: number;
  readonly ttlMs: number;
  readonly ttiMs: number;
  hits = 0;
  misses = 0;
  evictions = 0;
  expirations = 0;
  readonly #clock: Clock;
  readonly #map: LRUMapWithDelete<string, Entry<V>>;

  constructor(options: TierOptions, clock: Clock) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs;
    this.ttiMs = options.ttiMs;
    this.#clock = clock;
    this.#map = new LRUMapWithDelete<string, Entry<V>>(options.capacity);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The live value under `key` (counts a hit or a miss), refreshing its idle time. */
  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    const now = this.#clock.now();
    if (now >= e.expiresAt || now - e.accessedAt >= this.ttiMs) {
      this.#map.delete(key);
      this.expirations++;
      this.misses++;
      return undefined;
    }
    e.accessedAt = now;
    this.hits++;
    return e.value;
  }

  /** Absolute expiry of the live entry under `key`, without touching it or the counters. */
  expiresAt(key: string): number | undefined {
    const e = this.#map.peek(key);
    if (e === undefined) return undefined;
    const now = this.#clock.now();
    return now >= e.expiresAt || now - e.accessedAt >= this.ttiMs ? undefined : e.expiresAt;
  }

  /** Stores `value`; it lives `ttlMs` (capped by the tier's TTL) unless idle longer than the TTI. */
  set(key: string, value: V, ttlMs?: number): void {
    if (ttlMs !== undefined && !(ttlMs > 0)) {
      throw new JameyError('JAMEY_ERR_VALIDATION', `cache ttlMs must be a positive number, got ${ttlMs}`);
    }
    const now = this.#clock.now();
    const ttl = ttlMs === undefined || ttlMs > this.ttlMs ? this.ttlMs : ttlMs;
    if (this.#map.size >= this.capacity && !this.#map.has(key)) this.evictions++;
    this.#map.set(key, { value, expiresAt: now + ttl, accessedAt: now });
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry whose key satisfies `match` (a full scan: for rare admin operations). */
  deleteWhere(match: (key: string) => boolean): number {
    const doomed: string[] = [];
    for (const key of this.#map.keys()) if (match(key)) doomed.push(key);
    for (const key of doomed) this.#map.delete(key);
    return doomed.length;
  }

  /** Removes expired entries among the `max` least recently used; returns how many. */
  sweep(max: number): number {
    const m = this.#map as unknown as LruInternals<V>;
    const n = Math.min(max, m.size);
    if (n === 0) return 0;
    const now = this.#clock.now();
    const doomed: string[] = [];
    let p = m.tail;
    for (let i = 0; i < n; i++) {
      const e = m.V[p] as Entry<V>;
      if (now >= e.expiresAt || now - e.accessedAt >= this.ttiMs) doomed.push(m.K[p] as string);
      p = m.backward[p] as number;
    }
    for (const key of doomed) this.#map.delete(key);
    this.expirations += doomed.length;
    return doomed.length;
  }

  clear(): void {
    this.#map.clear();
  }

  stats(): TierStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      size: this.#map.size,
      capacity: this.capacity,
    };
  }
}
