/**
 * Options of the multi-level cache: typed, with documented defaults, validated once (every problem
 * listed in one JAMEY_ERR_INVALID_OPTION) and frozen.
 */
import { OptionChecker } from '../../runtime/options.js';

export const CACHE_TIERS = ['l1', 'l2', 'l3'] as const;
export type CacheTier = (typeof CACHE_TIERS)[number];

export interface TierOptions {
  /** Entries held at most; the least recently used goes first. @default 10000 */
  capacity: number;
  /** Time to live: an entry expires this long after it was written, in ms. @default 3600000 */
  ttlMs: number;
  /** Time to idle: an entry not read for this long expires, in ms. @default 1800000 */
  ttiMs: number;
}

export interface PersistentTierOptions extends TierOptions {
  /**
   * How often the cache actor deletes expired, idle and over-capacity rows; 0 turns the timer off
   * (pruning on demand still works). @default 300000
   */
  pruneIntervalMs: number;
  /** Rows deleted per prune transaction at most, so one prune never holds the writer long. @default 1000 */
  pruneBatch: number;
}

export interface CacheOptions {
  /** Response cache: exact request → response. */
  l1: TierOptions;
  /** Embedding cache: tenant + model + text → vector. */
  l2: TierOptions;
  /** Persistent tier in SQLite (`cache_entries`), read through from L1. */
  l3: PersistentTierOptions;
  /** How often the cache actor sweeps expired entries out of L1 and L2; 0 turns it off. @default 60000 */
  sweepIntervalMs: number;
  /** Entries a sweep examines per tier, from the least recently used end. @default 1000 */
  sweepBatch: number;
}

export type CacheOptionsInput = {
  [K in keyof CacheOptions]?: CacheOptions[K] extends object ? Partial<CacheOptions[K]> : CacheOptions[K];
};

const TIER_DEFAULTS: TierOptions = { capacity: 10_000, ttlMs: 3_600_000, ttiMs: 1_800_000 };

export function defaultCacheOptions(): CacheOptions {
  return {
    l1: { ...TIER_DEFAULTS },
    l2: { ...TIER_DEFAULTS },
    l3: { ...TIER_DEFAULTS, pruneIntervalMs: 300_000, pruneBatch: 1000 },
    sweepIntervalMs: 60_000,
    sweepBatch: 1000,
  };
}

const MAX_MS = 365 * 86_400_000;

function checkTier(c: OptionChecker, prefix: string, t: TierOptions): TierOptions {
  return {
    capacity: c.integer(`${prefix}.capacity`, t.capacity, 1, 100_000_000),
    ttlMs: c.number(`${prefix}.ttlMs`, t.ttlMs, 1, MAX_MS),
    ttiMs: c.number(`${prefix}.ttiMs`, t.ttiMs, 1, MAX_MS),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges one level (the tiers) of `input` over the defaults, reporting unknown keys. */
function merge(c: OptionChecker, input: unknown): CacheOptions {
  const base = defaultCacheOptions() as unknown as Record<string, unknown>;
  if (input === undefined) return base as unknown as CacheOptions;
  if (!isObject(input)) {
    c.fail('cache', 'an object', input);
    return base as unknown as CacheOptions;
  }
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(base, key)) {
      c.problems.push(`unknown option "cache.${key}"`);
      continue;
    }
    if (value === undefined) continue;
    const current = base[key];
    if (!isObject(current)) {
      base[key] = value;
      continue;
    }
    if (!isObject(value)) {
      c.fail(`cache.${key}`, 'an object', value);
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      if (!Object.hasOwn(current, k)) c.problems.push(`unknown option "cache.${key}.${k}"`);
      else if (v !== undefined) current[k] = v;
    }
  }
  return base as unknown as CacheOptions;
}

/** Applies `input` over the defaults, validates every field and returns a frozen result. */
export function resolveCacheOptions(input?: CacheOptionsInput): Readonly<CacheOptions> {
  const c = new OptionChecker();
  const m = merge(c, input);
  const resolved: CacheOptions = {
    l1: Object.freeze(checkTier(c, 'cache.l1', m.l1)),
    l2: Object.freeze(checkTier(c, 'cache.l2', m.l2)),
    l3: Object.freeze({
      ...checkTier(c, 'cache.l3', m.l3),
      pruneIntervalMs: c.number('cache.l3.pruneIntervalMs', m.l3.pruneIntervalMs, 0, MAX_MS),
      pruneBatch: c.integer('cache.l3.pruneBatch', m.l3.pruneBatch, 1, 1_000_000),
    }),
    sweepIntervalMs: c.number('cache.sweepIntervalMs', m.sweepIntervalMs, 0, MAX_MS),
    sweepBatch: c.integer('cache.sweepBatch', m.sweepBatch, 1, 100_000_000),
  };
  c.throwIfAny();
  return Object.freeze(resolved);
}
