/**
 * The Jamey runtime as the service runs it: the kernel plus the subsystems that have landed — the
 * store (one SQLite file in the data folder), the memory system with the built-in offline embedder,
 * and memory consolidation — with their metrics.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { BuiltinEmbedder } from './actors/memory/embedding/builtin.js';
import { EmbeddingCache, withEmbeddingCache } from './actors/memory/embedding/cache.js';
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
import { registerStoreMetrics } from './actors/store/metrics.js';
import { poolCheckpointer, Store } from './actors/store/store.js';
import type { RuntimeOptionsInput } from './runtime/options.js';
import { createRuntime, type Runtime, type RuntimeDeps } from './runtime/runtime.js';

export interface JameyOptions {
  /** Memory policy (layers, consolidation, recall); defaults in DEFAULT_MEMORY_OPTIONS. */
  memory?: Partial<MemoryOptions>;
  /** The embedding provider. @default the built-in offline embedder */
  embedder?: EmbeddingProvider;
  /** Embeddings kept in the LRU cache. @default 10000 */
  embeddingCacheSize?: number;
}

export interface Jamey {
  readonly runtime: Runtime;
  readonly store: Store;
  readonly memory: MemoryClient;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The database file inside the data folder. */
export const DATABASE_FILE = 'jamey.db';

export function createJamey(
  options: RuntimeOptionsInput = {},
  jamey: JameyOptions = {},
  deps: RuntimeDeps = {},
): Jamey {
  const runtime = createRuntime(options, deps);
  const dataDir = runtime.options.dataDir;
  const memoryOptions = { ...DEFAULT_MEMORY_OPTIONS, ...jamey.memory };
  const store = new Store({
    file: join(dataDir, DATABASE_FILE),
    writers: { memory: memoryWriters },
    pruners: { memory: memoryPruner(memoryOptions.longTermRetentionMs) },
    checkpointer: poolCheckpointer(runtime.pool),
  });
  store.register(runtime);
  registerStoreMetrics(runtime.metrics.registry, store);
  const embedder = withEmbeddingCache(
    jamey.embedder ?? new BuiltinEmbedder(),
    new EmbeddingCache(jamey.embeddingCacheSize ?? 10_000),
  );
  let counts: (() => number[]) | undefined;
  const memoryRef = runtime.spawn<MemoryMessage, unknown>(
    memoryActorSpec({
      store,
      embedder,
      pool: runtime.pool,
      clock: runtime.clock,
      options: memoryOptions,
      onReady: (system) => {
        counts = () => system.index.countsByLayerCode();
      },
    }),
  );
  runtime.spawn(consolidationActorSpec(memoryOptions.consolidationIntervalMs));
  new Gauge({
    name: 'jamey_memory_items',
    help: 'Memories per layer.',
    labelNames: ['layer'] as const,
    registers: [runtime.metrics.registry],
    collect() {
      const c = counts?.();
      if (c === undefined) return;
      LAYERS.forEach((layer, i) => this.set({ layer }, c[i] ?? 0));
    },
  });
  return {
    runtime,
    store,
    memory: new MemoryClient(memoryRef),
    start: async () => {
      mkdirSync(dataDir, { recursive: true });
      await runtime.start();
    },
    close: () => runtime.close(),
  };
}
