/**
 * The Jamey runtime as the service runs it: the kernel plus the subsystems that have landed — the
 * store (one SQLite file in the data folder), the security layer (API keys, rate limits, DDoS
 * protection, audit), the multi-level cache, the memory system with the built-in offline embedder,
 * memory consolidation and integrated information (live Φ) — with their metrics, and the HTTP
 * server wired to them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { cacheActorSpec } from './actors/cache/actor.js';
import { EmbeddingTier, withTieredEmbeddings } from './actors/cache/embedding-tier.js';
import { registerCacheMetrics } from './actors/cache/metrics.js';
import { type CacheOptionsInput, resolveCacheOptions } from './actors/cache/options.js';
import { cachePruner, cacheWriters } from './actors/cache/persistent.js';
import { TieredCache } from './actors/cache/tiered-cache.js';
import {
  createIntegratedInfoActor,
  type IntegratedInfoOptions,
  type PhiSnapshot,
} from './actors/integrated-info/actor.js';
import { BuiltinEmbedder } from './actors/memory/embedding/builtin.js';
import type { EmbeddingProvider } from './actors/memory/embedding/provider.js';
import {
  consolidationActorSpec,
  DEFAULT_MEMORY_OPTIONS,
  MemoryClient,
  type MemoryMessage,
  type MemoryOptions,
  memoryActorSpec,
} from './actors/memory/memory.js';
import { memoryPruner, memoryWriters } from './actors/memory/repository.js';
import { LAYERS } from './actors/memory/types.js';
import { monitorActorSpec, ResourceMonitor, registerResourceMetrics } from './actors/monitor/monitor.js';
import {
  maxMailboxFill,
  SecurityClient,
  SecurityLayer,
  type SecurityOptions,
  securityActorSpec,
  securityHeaders,
  securityPruner,
  securityWriters,
} from './actors/security/index.js';
import { maintenanceMetrics, registerStoreMetrics } from './actors/store/metrics.js';
import { poolCheckpointer, Store } from './actors/store/store.js';
import { buildServer, type JameyServer } from './http/server.js';
import type { RuntimeOptionsInput } from './runtime/options.js';
import { createRuntime, type Runtime, type RuntimeDeps } from './runtime/runtime.js';

export interface JameyOptions {
  /** Memory policy (layers, consolidation, recall); defaults in DEFAULT_MEMORY_OPTIONS. */
  memory?: Partial<MemoryOptions>;
  /** The embedding provider. @default the built-in offline embedder */
  embedder?: EmbeddingProvider;
  /** Security layer options (rate limits, DDoS protection, keys, audit). */
  security?: Partial<SecurityOptions>;
  /** Cache tiers (capacity, TTL, time-to-idle per tier). */
  cache?: CacheOptionsInput;
  /** Live Φ (tick, compute interval, nodes); see docs/phi.md. */
  integratedInfo?: IntegratedInfoOptions;
}

export interface Jamey {
  readonly runtime: Runtime;
  readonly store: Store;
  readonly memory: MemoryClient;
  readonly security: SecurityLayer;
  readonly keys: SecurityClient;
  readonly cache: TieredCache<string>;
  /** The last live Φ of the runtime (null until the first computation). */
  phiSnapshot(): PhiSnapshot | null;
  /** Set by `start()` when this start created the admin key: show it once. */
  readonly adminKey: { id: string; token: string; file: string } | undefined;
  start(): Promise<void>;
  /** The HTTP server for this runtime (not listening yet). */
  server(): JameyServer;
  close(): Promise<void>;
}

/** The database file inside the data folder. */
export const DATABASE_FILE = 'jamey.db';

/** The tenant under which the memory system's own embeddings are cached (memories are shared). */
const MEMORY_TENANT = 'memory';

export function createJamey(
  options: RuntimeOptionsInput = {},
  jamey: JameyOptions = {},
  deps: RuntimeDeps = {},
): Jamey {
  const runtime = createRuntime(options, deps);
  const dataDir = runtime.options.dataDir;
  const registry = runtime.metrics.registry;
  const memoryOptions = { ...DEFAULT_MEMORY_OPTIONS, ...jamey.memory };
  const cacheOptions = jamey.cache ?? {};

  const countMaintenance = maintenanceMetrics(registry);
  const store = new Store({
    file: join(dataDir, DATABASE_FILE),
    writers: { memory: memoryWriters, security: securityWriters, cache: cacheWriters },
    pruners: {
      memory: memoryPruner(memoryOptions.longTermRetentionMs),
      security: securityPruner({}, runtime.clock),
      cache: cachePruner(resolveCacheOptions(cacheOptions).l3.ttiMs),
    },
    checkpointer: poolCheckpointer(runtime.pool),
    onMaintenance: (report) => {
      countMaintenance(report);
      runtime.log.info('store maintenance', { ...report, ms: Math.round(report.ms) });
    },
  });
  store.register(runtime);
  registerStoreMetrics(registry, store);

  const monitor = new ResourceMonitor(dataDir);
  runtime.spawn(monitorActorSpec(monitor));
  registerResourceMetrics(registry, monitor);

  const security = new SecurityLayer({
    store,
    clock: runtime.clock,
    registry,
    log: runtime.log,
    mailboxFill: maxMailboxFill(runtime.system),
    ...(jamey.security === undefined ? {} : { options: jamey.security }),
  });
  const keys = new SecurityClient(runtime.spawn(securityActorSpec(security)));

  const cache = new TieredCache<string>({ options: cacheOptions, clock: runtime.clock, store });
  const embeddings = new EmbeddingTier({ options: cacheOptions, clock: runtime.clock });
  runtime.spawn(cacheActorSpec({ cache, embeddings }));
  registerCacheMetrics(registry, { cache, embeddings });

  // Every committed memory change bumps the version that cached memory reads are keyed on.
  let memoryVersion = 0;
  let counts: (() => number[]) | undefined;
  const memoryRef = runtime.spawn<MemoryMessage, unknown>(
    memoryActorSpec({
      store,
      embedder: withTieredEmbeddings(jamey.embedder ?? new BuiltinEmbedder(), embeddings, MEMORY_TENANT),
      pool: runtime.pool,
      clock: runtime.clock,
      options: memoryOptions,
      onReady: (system) => {
        counts = () => system.index.countsByLayerCode();
      },
      onChange: () => {
        memoryVersion++;
      },
    }),
  );
  runtime.spawn(consolidationActorSpec(memoryOptions.consolidationIntervalMs));
  // Live Φ of the runtime itself: each supervised actor is a node, active or idle per tick.
  const integratedInfo = createIntegratedInfoActor(runtime, jamey.integratedInfo);
  runtime.spawn(integratedInfo);
  new Gauge({
    name: 'jamey_memory_items',
    help: 'Memories per layer.',
    labelNames: ['layer'] as const,
    registers: [registry],
    collect() {
      const c = counts?.();
      if (c === undefined) return;
      for (let i = 0; i < LAYERS.length; i++) this.set({ layer: LAYERS[i] as string }, c[i] ?? 0);
    },
  });

  let adminKey: Jamey['adminKey'];
  const headers = securityHeaders();
  return {
    runtime,
    store,
    memory: new MemoryClient(memoryRef),
    security,
    keys,
    cache,
    phiSnapshot: () => integratedInfo.snapshot(),
    get adminKey() {
      return adminKey;
    },
    start: async () => {
      mkdirSync(dataDir, { recursive: true });
      await runtime.start();
      adminKey = await keys.ensureAdminKey(dataDir);
    },
    server: () =>
      buildServer(runtime, {
        security,
        headers,
        cache,
        dataVersion: (namespace) => (namespace === 'memory' ? memoryVersion : 0),
      }),
    close: () => runtime.close(),
  };
}
