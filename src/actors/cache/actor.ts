/**
 * The cache actor: supervision, timers and admin operations of the shared cache objects.
 *
 * It owns the L3 prune timer and the L1/L2 sweep timer and answers `invalidate`, `delete`,
 * `prune`, `sweep`, `flush` and `stats`. It does not sit on the read path: `get`/`set` are
 * synchronous calls on the shared `TieredCache`/`EmbeddingTier`, because a mailbox round trip per
 * hit (enqueue, drain turn, promise) would cost several times the hit itself. The cache objects
 * outlive the actor's incarnations (they are built outside it), so a restart loses no entries.
 */
import type { ActorContext, ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError, toJameyError } from '../../runtime/errors.js';
import { STORE_ACTOR } from '../store/store.js';
import type { EmbeddingTier } from './embedding-tier.js';
import type { TierStats } from './expiring-lru.js';
import type { PersistentStats, TieredCache } from './tiered-cache.js';

export const CACHE_ACTOR = 'cache';

export type CacheMessage =
  /** With `namespace`: bump its generation. Without: drop every entry of the tenant in every tier. */
  | { kind: 'invalidate'; tenant: string; namespace?: string }
  | { kind: 'delete'; tenant: string; key: string }
  | { kind: 'prune' }
  | { kind: 'sweep' }
  | { kind: 'flush' }
  | { kind: 'stats' };

export interface CacheStatsReply {
  l1: TierStats;
  l2?: TierStats;
  l3?: PersistentStats & { size: number; capacity: number };
  inFlight: number;
}

export type InvalidateReply = { generation: number } | { l1: number; l2: number; l3: number };

export interface CacheActorConfig<V> {
  cache: TieredCache<V>;
  embeddings?: EmbeddingTier;
  /** @default 'cache' */
  name?: string;
  /** The store actor the L3 tier writes through; a dependency when the cache is persistent. @default 'store' */
  storeActor?: string;
}

export function cacheActorSpec<V>(config: CacheActorConfig<V>): ActorSpec<CacheMessage, unknown> {
  const { cache, embeddings } = config;
  const name = config.name ?? CACHE_ACTOR;
  const options = cache.options;
  return {
    name,
    ...(cache.persistent ? { dependsOn: [config.storeActor ?? STORE_ACTOR] } : {}),
    start(ctx: ActorContext): Behavior<CacheMessage, unknown> {
      const timers = new Map<string, unknown>();
      const every = (ms: number, message: CacheMessage): void => {
        if (ms <= 0) return;
        const arm = (): void => {
          timers.set(
            message.kind,
            ctx.clock.setTimeout(() => {
              try {
                ctx.actor<CacheMessage>(name).tell(message, { priority: 'low' });
              } catch {
                // A full mailbox skips one round.
              }
              arm();
            }, ms),
          );
        };
        arm();
      };
      if (cache.persistent) every(options.l3.pruneIntervalMs, { kind: 'prune' });
      every(options.sweepIntervalMs, { kind: 'sweep' });

      const sweep = (): { l1: number; l2: number } => ({
        l1: cache.sweep(options.sweepBatch),
        l2: embeddings?.sweep(options.sweepBatch) ?? 0,
      });

      return {
        async receive(m) {
          switch (m.kind) {
            case 'invalidate': {
              if (m.namespace !== undefined) return { generation: cache.bump(m.tenant, m.namespace) };
              const l2 = embeddings?.invalidateTenant(m.tenant) ?? 0;
              const r = await cache.invalidateTenant(m.tenant).catch((err: unknown) => {
                throw toJameyError(err, 'JAMEY_ERR_STORE_FAILED');
              });
              return { l1: r.l1, l2, l3: r.l3 } satisfies InvalidateReply;
            }
            case 'delete':
              return { deleted: cache.delete(m.tenant, m.key) };
            case 'prune':
              // A store failure refuses this message only; the next round tries again.
              return cache.prune().catch((err: unknown) => {
                throw toJameyError(err, 'JAMEY_ERR_STORE_FAILED');
              });
            case 'sweep':
              return sweep();
            case 'flush':
              await cache.flush();
              return { flushed: true };
            case 'stats': {
              const s = cache.stats();
              const reply: CacheStatsReply = { l1: s.l1, inFlight: s.inFlight };
              if (cache.persistent) reply.l3 = s.l3;
              if (embeddings !== undefined) reply.l2 = embeddings.stats();
              return reply;
            }
            default:
              throw new JameyError(
                'JAMEY_ERR_VALIDATION',
                `unknown cache message kind ${JSON.stringify((m as { kind?: unknown }).kind)}`,
              );
          }
        },
        stop() {
          for (const t of timers.values()) ctx.clock.clearTimeout(t);
          timers.clear();
        },
      };
    },
  };
}
