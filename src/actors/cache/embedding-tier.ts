/**
 * L2, the embedding cache: (tenant, model, text) → Float32Array, in memory, with the tier's
 * capacity, TTL and TTI. Texts up to 64 characters are kept as they are in the key; longer ones
 * by their SHA-256, so long texts do not sit in memory as keys (the two forms are told apart by a
 * prefix, so a short text can never spell a digest).
 *
 * Tenant scoping holds here too: embeddings are a pure function of (model, text), but a shared
 * entry would let one tenant learn from timing which texts another has embedded.
 *
 * For the memory system: `forTenant(tenant)` gives the `get(providerId, text) / set / clear / stats`
 * shape of `EmbeddingCache` (src/actors/memory/embedding/cache.ts), and `withTieredEmbeddings`
 * wraps an `EmbeddingProvider` like `withEmbeddingCache` does, plus single-flight: a text already
 * being embedded by a concurrent call is awaited, not sent again.
 *
 * Cached vectors are shared between callers: treat them as read-only.
 */
import { hash } from 'node:crypto';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import type { EmbeddingProvider } from '../memory/embedding/provider.js';
import { ExpiringLru, type TierStats } from './expiring-lru.js';
import { type CacheOptions, type CacheOptionsInput, resolveCacheOptions } from './options.js';

const SHORT_TEXT = 64;

function checkPart(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.indexOf('\u0000') !== -1) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `embedding cache ${name} must be a non-empty string without NUL`,
    );
  }
  return value;
}

/** The internal key: tenant, then model, then the text or its digest. */
export function embeddingKey(tenant: string, model: string, text: string): string {
  if (typeof text !== 'string')
    throw new JameyError('JAMEY_ERR_VALIDATION', 'embedding text must be a string');
  const t = text.length <= SHORT_TEXT ? `=${text}` : `#${hash('sha256', text, 'base64url')}`;
  return `${checkPart('tenant', tenant)}\u0000${checkPart('model', model)}\u0000${t}`;
}

/** The shape of the memory system's `EmbeddingCache`, for one tenant. */
export interface EmbeddingCacheLike {
  readonly capacity: number;
  get(providerId: string, text: string): Float32Array | undefined;
  set(providerId: string, text: string, vector: Float32Array): void;
  clear(): void;
  readonly stats: { hits: number; misses: number; size: number; capacity: number };
}

export interface EmbeddingTierConfig {
  /** Only `l2` is read. */
  options?: CacheOptionsInput | Readonly<CacheOptions>;
  /** @default systemClock */
  clock?: Clock;
}

export class EmbeddingTier {
  readonly lru: ExpiringLru<Float32Array>;

  constructor(config: EmbeddingTierConfig = {}) {
    const options = resolveCacheOptions(config.options as CacheOptionsInput | undefined);
    this.lru = new ExpiringLru<Float32Array>(options.l2, config.clock ?? systemClock);
  }

  get(tenant: string, model: string, text: string): Float32Array | undefined {
    return this.lru.get(embeddingKey(tenant, model, text));
  }

  set(
    tenant: string,
    model: string,
    text: string,
    vector: Float32Array,
    options: { ttlMs?: number } = {},
  ): void {
    if (!(vector instanceof Float32Array)) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'embedding cache values must be Float32Array');
    }
    this.lru.set(embeddingKey(tenant, model, text), vector, options.ttlMs);
  }

  delete(tenant: string, model: string, text: string): boolean {
    return this.lru.delete(embeddingKey(tenant, model, text));
  }

  /** Removes every vector of `tenant`. */
  invalidateTenant(tenant: string): number {
    const prefix = `${checkPart('tenant', tenant)}\u0000`;
    return this.lru.deleteWhere((k) => k.startsWith(prefix));
  }

  sweep(max: number): number {
    return this.lru.sweep(max);
  }

  stats(): TierStats {
    return this.lru.stats();
  }

  /** An `EmbeddingCache`-shaped view of one tenant's vectors (`clear` clears only that tenant). */
  forTenant(tenant: string): EmbeddingCacheLike {
    checkPart('tenant', tenant);
    const tier = this;
    return {
      capacity: this.lru.capacity,
      get: (providerId, text) => tier.get(tenant, providerId, text),
      set: (providerId, text, vector) => tier.set(tenant, providerId, text, vector),
      clear: () => {
        tier.invalidateTenant(tenant);
      },
      get stats() {
        const s = tier.lru.stats();
        return { hits: s.hits, misses: s.misses, size: s.size, capacity: s.capacity };
      },
    };
  }
}

/**
 * Wraps a provider so each distinct text is embedded once while it stays in L2: only the misses of a
 * batch go to the provider, each distinct text once, in one call; texts another call is already
 * embedding are awaited from it. A failed call fails every caller waiting on it and stores nothing.
 */
export function withTieredEmbeddings(
  provider: EmbeddingProvider,
  tier: EmbeddingTier,
  tenant: string,
): EmbeddingProvider {
  checkPart('tenant', tenant);
  const inFlight = new Map<string, Promise<Float32Array>>();
  return {
    id: provider.id,
    dimensions: provider.dimensions,
    async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
        throw new JameyError('JAMEY_ERR_VALIDATION', 'texts must be an array of strings');
      }
      const out = new Array<Float32Array | Promise<Float32Array>>(texts.length);
      const todo: string[] = [];
      const slots = new Map<string, number[]>();
      texts.forEach((text, i) => {
        const hit = tier.get(tenant, provider.id, text);
        if (hit !== undefined) {
          out[i] = hit;
          return;
        }
        const pending = inFlight.get(text);
        if (pending !== undefined) {
          out[i] = pending;
          return;
        }
        const s = slots.get(text);
        if (s === undefined) {
          slots.set(text, [i]);
          todo.push(text);
        } else s.push(i);
      });
      if (todo.length > 0) {
        const batch = provider.embed(todo, signal);
        todo.forEach((text, j) => {
          const one = batch.then((vectors) => {
            const v = vectors[j];
            if (v === undefined) {
              throw new JameyError(
                'JAMEY_ERR_UPSTREAM',
                `embedder returned ${vectors.length} vectors for ${todo.length} texts`,
              );
            }
            tier.set(tenant, provider.id, text, v);
            return v;
          });
          const done = (): void => {
            if (inFlight.get(text) === one) inFlight.delete(text);
          };
          one.then(done, done);
          inFlight.set(text, one);
          for (const i of slots.get(text) ?? []) out[i] = one;
        });
      }
      return Promise.all(out);
    },
  };
}
