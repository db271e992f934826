export {
  CACHE_ACTOR,
  type CacheActorConfig,
  type CacheMessage,
  type CacheStatsReply,
  cacheActorSpec,
  type InvalidateReply,
} from './actor.js';
export {
  type CacheabilityInput,
  type CachedResponse,
  cacheModeOf,
  isCacheableResponse,
  parseCacheControl,
  type RequestCacheDirectives,
  type RequestKeyParts,
  requestCacheKey,
} from './cache-control.js';
export {
  type EmbeddingCacheLike,
  EmbeddingTier,
  type EmbeddingTierConfig,
  embeddingKey,
  withTieredEmbeddings,
} from './embedding-tier.js';
export { ExpiringLru, type TierStats } from './expiring-lru.js';
export { type CacheMetricsSources, registerCacheMetrics, type TierReader } from './metrics.js';
export {
  CACHE_TIERS,
  type CacheOptions,
  type CacheOptionsInput,
  type CacheTier,
  defaultCacheOptions,
  type PersistentTierOptions,
  resolveCacheOptions,
  type TierOptions,
} from './options.js';
export {
  CACHE_QUERIES,
  CACHE_WRITES,
  type Codec,
  cachePruner,
  cacheWriters,
  type PruneArgs,
  type PruneResult,
  type PutArgs,
  structuredCodec,
} from './persistent.js';
export {
  type CacheMode,
  type CacheResult,
  type CacheSource,
  type CacheStore,
  type ComputeOptions,
  DEFAULT_CACHE_MODE,
  type PersistentStats,
  type SetOptions,
  scopedKey,
  TieredCache,
  type TieredCacheConfig,
} from './tiered-cache.js';
