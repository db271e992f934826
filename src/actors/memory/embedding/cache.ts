/**
 * A bounded least-recently-used cache of embeddings, keyed by provider id + SHA-256 of the text, so
 * vectors from different models never mix and long texts do not sit in memory as keys. Built on
 * mnemonist's LRUMap (fixed capacity, O(1) get/set, evicts the least recently used entry).
 *
 * Cached vectors are shared between callers: treat them as read-only.
 */
import { createHash } from 'node:crypto';
import { LRUMap } from 'mnemonist';
import { JameyError } from '../../../runtime/errors.js';
import type { EmbeddingProvider } from './provider.js';

export interface EmbeddingCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
  readonly capacity: number;
}

export function textKey(providerId: string, text: string): string {
  return `${providerId}\u0000${createHash('sha256').update(text).digest('base64url')}`;
}

export class EmbeddingCache {
  readonly capacity: number;
  #map: LRUMap<string, Float32Array>;
  #hits = 0;
  #misses = 0;

  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        'Embedding cache capacity must be a positive integer',
        {
          details: { capacity },
        },
      );
    }
    this.capacity = capacity;
    this.#map = new LRUMap<string, Float32Array>(capacity);
  }

  /** Looks a text up; counts a hit or a miss. */
  get(providerId: string, text: string): Float32Array | undefined {
    const v = this.#map.get(textKey(providerId, text));
    if (v === undefined) this.#misses++;
    else this.#hits++;
    return v;
  }

  set(providerId: string, text: string, vector: Float32Array): void {
    this.#map.set(textKey(providerId, text), vector);
  }

  clear(): void {
    this.#map.clear();
    this.#hits = 0;
    this.#misses = 0;
  }

  get stats(): EmbeddingCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#map.size, capacity: this.capacity };
  }
}

/**
 * Wraps a provider so each distinct text is embedded once while it stays in the cache. Only the misses
 * of a batch go to the provider, each distinct text once, in one call.
 */
export function withEmbeddingCache(provider: EmbeddingProvider, cache: EmbeddingCache): EmbeddingProvider {
  return {
    id: provider.id,
    dimensions: provider.dimensions,
    async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
        throw new JameyError('JAMEY_ERR_VALIDATION', 'texts must be an array of strings');
      }
      const out = new Array<Float32Array | undefined>(texts.length);
      const missing = new Map<string, number[]>();
      texts.forEach((text, i) => {
        const hit = cache.get(provider.id, text);
        if (hit !== undefined) out[i] = hit;
        else {
          const slots = missing.get(text);
          if (slots === undefined) missing.set(text, [i]);
          else slots.push(i);
        }
      });
      if (missing.size > 0) {
        const todo = [...missing.keys()];
        const vectors = await provider.embed(todo, signal);
        todo.forEach((text, j) => {
          const v = vectors[j]!;
          cache.set(provider.id, text, v);
          for (const i of missing.get(text)!) out[i] = v;
        });
      }
      return out as Float32Array[];
    },
  };
}
