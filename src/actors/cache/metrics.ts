/**
 * Cache metrics on a registry passed in, filled at scrape time (`collect`) from the tiers' plain
 * counters, so a cache hit pays nothing for them. `tier` is one of l1, l2, l3.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TierStats } from './expiring-lru.js';
import type { CacheTier } from './options.js';
import type { TieredCache } from './tiered-cache.js';

/** Reads one tier's counters. */
export type TierReader = () => Pick<TierStats, 'hits' | 'misses' | 'evictions' | 'size'>;

export interface CacheMetricsSources {
  /** The response cache (a `TieredCache` of any value type); gives l1 and, with a store, l3. */
  cache?: Pick<TieredCache<unknown>, 'l1' | 'l3' | 'persistent' | 'l3Size'>;
  /** The embedding tier's counters (`EmbeddingTier.stats`). */
  embeddings?: { stats(): TierStats };
}

function readers(sources: CacheMetricsSources): Array<[CacheTier, TierReader]> {
  const out: Array<[CacheTier, TierReader]> = [];
  const cache = sources.cache;
  if (cache !== undefined) {
    out.push(['l1', () => cache.l1.stats()]);
    if (cache.persistent) {
      out.push([
        'l3',
        () => ({
          ...cache.l3,
          get size() {
            return cache.l3Size();
          },
        }),
      ]);
    }
  }
  const embeddings = sources.embeddings;
  if (embeddings !== undefined) out.push(['l2', () => embeddings.stats()]);
  return out;
}

/** Registers the cache metrics; call once per registry. */
export function registerCacheMetrics(registry: Registry, sources: CacheMetricsSources): void {
  const registers = [registry];
  const tiers = readers(sources);
  // The counters read plain numbers; only the size gauge pays for the L3 COUNT, once per scrape.
  const read = (): Array<[CacheTier, ReturnType<TierReader>]> => tiers.map(([tier, r]) => [tier, r()]);
  const counter = (name: string, help: string, pick: (s: ReturnType<TierReader>) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['tier'] as const,
      registers,
      collect(this: Counter<'tier'>) {
        this.reset();
        for (const [tier, s] of read()) this.inc({ tier }, pick(s));
      },
    });
  };
  counter('jamey_cache_hits_total', 'Cache lookups answered by the tier.', (s) => s.hits);
  counter('jamey_cache_misses_total', 'Cache lookups the tier could not answer.', (s) => s.misses);
  counter(
    'jamey_cache_evictions_total',
    'Entries removed to stay within capacity (least recently used first).',
    (s) => s.evictions,
  );
  new Gauge({
    name: 'jamey_cache_size',
    help: 'Entries held by the tier.',
    labelNames: ['tier'] as const,
    registers,
    collect(this: Gauge<'tier'>) {
      this.reset();
      for (const [tier, s] of read()) this.set({ tier }, s.size);
    },
  });
  const cache = sources.cache;
  if (cache?.persistent === true) {
    new Counter({
      name: 'jamey_cache_l3_write_failures_total',
      help: 'L3 writes through the store that failed (the request carried on).',
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(cache.l3.writeFailures);
      },
    });
  }
}
