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
import { TieredCache } from './actors/cache/tiered-cache.js';
import { ConscienceClient, type ConscienceMessage, conscienceActorSpec } from './actors/conscience/actor.js';
import { registerConscienceMetrics } from './actors/conscience/metrics.js';
import {
  type ChatOptions,
  ChatService,
  CONSCIENCE_ACTOR,
  DEFAULT_CHAT_OPTIONS,
  registerChatService,
} from './actors/context/chat.js';
import { type ContextOptions, contextActorSpec, DEFAULT_CONTEXT_OPTIONS } from './actors/context/context.js';
import { registerChatMetrics } from './actors/context/metrics.js';
import { type Encoding, loadTokenizer, type Tokenizer } from './actors/context/tokenizer.js';
import {
  createIntegratedInfoActor,
  INTEGRATED_INFO,
  type IntegratedInfoMessage,
  type IntegratedInfoOptions,
  type PhiSnapshot,
} from './actors/integrated-info/actor.js';
import type { PhiOutcome } from './actors/integrated-info/phi-service.js';
import {
  type LocalModelOptions,
  localProviderConfig,
  type ProviderConfig,
  providersFromEnv,
  resolveModels,
} from './actors/llm/config.js';
import { createProviders } from './actors/llm/providers.js';
import type { LlmProvider } from './actors/llm/types.js';
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
import { LAYERS } from './actors/memory/types.js';
import { monitorActorSpec, ResourceMonitor, registerResourceMetrics } from './actors/monitor/monitor.js';
import {
  createPredictiveActor,
  PredictiveClient,
  type PredictiveOptions,
} from './actors/predictive/actor.js';
import { registerPredictiveMetrics } from './actors/predictive/metrics.js';
import { registerRouterMetrics } from './actors/router/metrics.js';
import { ModelRouter, type RouterOptions, routerActorSpec } from './actors/router/router.js';
import {
  maxMailboxFill,
  SecurityClient,
  SecurityLayer,
  type SecurityOptions,
  securityActorSpec,
  securityHeaders,
} from './actors/security/index.js';
import { maintenanceMetrics, registerStoreMetrics } from './actors/store/metrics.js';
import { type ModuleExport, Store, type StoreOptions } from './actors/store/store.js';
import {
  createWorkspaceActor,
  DEFAULT_RETENTION_MS,
  isActorRunning,
  registerWorkspaceMetrics,
  WorkspaceClient,
  type WorkspaceOptions,
} from './actors/workspace/index.js';
import { parsePhiBody } from './http/routes/phi.js';
import { buildServer, type JameyServer } from './http/server.js';
import type { ActorRef } from './runtime/actor.js';
import { JameyError } from './runtime/errors.js';
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
  /** The global workspace (cycle, competition, subscribers, history); see docs/workspace.md. */
  workspace?: WorkspaceOptions;
  /** Models, routing, budgets, context and chat; see docs/chat.md. */
  llm?: LlmOptions;
  /** Predictive processing (model sizes, entity cap, snapshots, saves); see docs/predictive.md. */
  predictive?: PredictiveOptions;
  /**
   * The SQLite writer's tuning: transaction size and time budget, WAL checkpoint cadence, scheduled
   * maintenance (docs/operations.md, Data and backups).
   */
  store?: StoreTuning;
  /**
   * Subsystems left out: the runtime runs without them (the chat path and the consciousness routes
   * skip what is absent), and an actor registered under the same name stands in for them.
   * @default []
   */
  exclude?: readonly ('conscience' | 'predictive')[];
}

/** The store options an operator may tune (the rest belongs to the runtime's wiring). */
export type StoreTuning = Pick<
  StoreOptions,
  'maxBatch' | 'checkpointEveryWrites' | 'maintenanceIntervalMs' | 'vacuumPages' | 'busyTimeoutMs'
>;

const STORE_TUNING_KEYS: readonly string[] = [
  'maxBatch',
  'checkpointEveryWrites',
  'commitIntervalMs',
  'maintenanceIntervalMs',
  'vacuumPages',
  'busyTimeoutMs',
];

export interface LlmOptions {
  /** Configured providers (besides the built-in local one). @default [] */
  providers?: readonly ProviderConfig[];
  /**
   * Environment read for provider conventions (`OPENAI_API_KEY`/`OPENAI_BASE_URL`,
   * `ANTHROPIC_API_KEY`, `OLLAMA_HOST`) and for API keys named by `apiKeyEnv`. @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /** The built-in local responder. @default { enabled: true, contextTokens: 8192 } */
  local?: LocalModelOptions;
  router?: RouterOptions;
  chat?: Partial<ChatOptions>;
  context?: Partial<ContextOptions>;
  /** Tokenizer encoding for counting. @default "o200k_base" */
  tokenizer?: Encoding;
}

export interface Jamey {
  readonly runtime: Runtime;
  readonly store: Store;
  readonly memory: MemoryClient;
  readonly security: SecurityLayer;
  readonly keys: SecurityClient;
  readonly cache: TieredCache<string>;
  /** The global workspace: post candidates, run a cycle, read its state, subscribe to broadcasts. */
  readonly workspace: WorkspaceClient;
  /** Chat completions, models and embeddings (what the OpenAI-compatible routes call). */
  readonly chat: ChatService;
  readonly router: ModelRouter;
  /** The conscience: evaluation against the principles, and the rules. */
  readonly conscience: ConscienceClient;
  /** Surprise of messages under the predictive models (text, content, timing). */
  readonly predictive: PredictiveClient;
  /** The last live Φ of the runtime (null until the first computation). */
  phiSnapshot(): PhiSnapshot | null;
  /**
   * Exact Φ of a network (`{tpm, cm?, state, nodes?, complex?, deadlineMs?}`, as `POST /v1/phi`),
   * computed in the worker pool.
   */
  phi(network: unknown): Promise<PhiOutcome>;
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

/** A function of one of Jamey's modules, by URL and name, for the store's writer thread. */
function storeModule<M>(
  path: string,
  name: keyof M & string,
  extra: Partial<ModuleExport> = {},
): ModuleExport {
  return { module: new URL(path, import.meta.url).href, export: name, ...extra };
}

/** A reference that finds its actor by name on each call (so a stand-in registered later serves it). */
function byName<M>(runtime: Runtime, name: string): ActorRef<M, unknown> {
  return {
    name,
    tell: (m, o) => runtime.actor<M, unknown>(name).tell(m, o),
    send: (m, o) => runtime.actor<M, unknown>(name).send(m, o),
    ask: (m, o) => runtime.actor<M, unknown>(name).ask(m, o),
  };
}

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
  const tuning = jamey.store ?? {};
  const badTuning = Object.keys(tuning).filter((k) => !STORE_TUNING_KEYS.includes(k));
  if (badTuning.length > 0) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `unknown option${badTuning.length > 1 ? 's' : ''}: ${badTuning.map((k) => `store.${k}`).join(', ')}`,
      {
        details: badTuning.map((k) => `unknown option "store.${k}"`),
      },
    );
  }
  const store = new Store({
    ...tuning,
    file: join(dataDir, DATABASE_FILE),
    // The writer connection runs on its own thread: commits, checkpoints and SQLite's syncs never
    // hold the event loop. Writers and pruners cross over by module and export.
    thread: {
      writers: {
        memory: storeModule<typeof import('./actors/memory/repository.js')>(
          './actors/memory/repository.js',
          'memoryWriters',
        ),
        workspace: storeModule<typeof import('./actors/workspace/history.js')>(
          './actors/workspace/history.js',
          'workspaceWriters',
        ),
        security: storeModule<typeof import('./actors/security/security.js')>(
          './actors/security/security.js',
          'securityWriters',
        ),
        cache: storeModule<typeof import('./actors/cache/persistent.js')>(
          './actors/cache/persistent.js',
          'cacheWriters',
        ),
        context: storeModule<typeof import('./actors/context/conversations.js')>(
          './actors/context/conversations.js',
          'conversationWriters',
        ),
        router: storeModule<typeof import('./actors/router/budget.js')>(
          './actors/router/budget.js',
          'usageWriters',
        ),
        conscience: storeModule<typeof import('./actors/conscience/rule-store.js')>(
          './actors/conscience/rule-store.js',
          'conscienceWriters',
        ),
        predictive: storeModule<typeof import('./actors/predictive/persistence.js')>(
          './actors/predictive/persistence.js',
          'predictiveWriters',
        ),
      },
      pruners: {
        memory: storeModule<typeof import('./actors/memory/repository.js')>(
          './actors/memory/repository.js',
          'memoryPruner',
          {
            args: [memoryOptions.longTermRetentionMs],
          },
        ),
        workspace: storeModule<typeof import('./actors/workspace/history.js')>(
          './actors/workspace/history.js',
          'workspacePruner',
          {
            args: [jamey.workspace?.retentionMs ?? DEFAULT_RETENTION_MS],
          },
        ),
        // Audit rows carry the security clock's time.
        security: storeModule<typeof import('./actors/security/security.js')>(
          './actors/security/security.js',
          'securityPrunerAt',
          {
            args: [{}],
            time: 'clock',
          },
        ),
        cache: storeModule<typeof import('./actors/cache/persistent.js')>(
          './actors/cache/persistent.js',
          'cachePruner',
          {
            args: [resolveCacheOptions(cacheOptions).l3.ttiMs],
          },
        ),
      },
      clockNow: () => runtime.clock.now(),
    },
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
    // The resource monitor feeds load shedding: memory pressure of the host (sampled every 5 s).
    memoryUsed: () => {
      const m = monitor.last?.memory;
      return m === undefined || m.total <= 0 ? 0 : m.used / m.total;
    },
    ...(jamey.security === undefined ? {} : { options: jamey.security }),
  });
  const keys = new SecurityClient(runtime.spawn(securityActorSpec(security)));

  const cache = new TieredCache<string>({ options: cacheOptions, clock: runtime.clock, store });
  const embeddings = new EmbeddingTier({ options: cacheOptions, clock: runtime.clock });
  runtime.spawn(cacheActorSpec({ cache, embeddings }));
  registerCacheMetrics(registry, { cache, embeddings });

  const embedderForMemory = jamey.embedder ?? new BuiltinEmbedder();
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

  // Models, router, context and chat: providers are built at start (the tokenizer loads first).
  const llm = jamey.llm ?? {};
  const env = llm.env ?? process.env;
  const builtinEmbedder = embedderForMemory;
  const providerConfigs: ProviderConfig[] = [
    ...(llm.providers ?? []),
    ...providersFromEnv(env).filter((p) => !(llm.providers ?? []).some((q) => q.name === p.name)),
  ];
  if (llm.local?.enabled !== false)
    providerConfigs.push(localProviderConfig(llm.local, builtinEmbedder.dimensions));
  // A misspelt option would otherwise be ignored without a word.
  const unknown: string[] = [];
  const known = (prefix: string, value: object | undefined, allowed: readonly string[]): void => {
    for (const k of Object.keys(value ?? {})) if (!allowed.includes(k)) unknown.push(`${prefix}.${k}`);
  };
  known('llm', llm, ['providers', 'env', 'local', 'router', 'chat', 'context', 'tokenizer']);
  known('llm.chat', llm.chat, Object.keys(DEFAULT_CHAT_OPTIONS));
  known('llm.context', llm.context, Object.keys(DEFAULT_CONTEXT_OPTIONS));
  known('llm.router', llm.router, ['breaker', 'weights', 'fallback', 'ewmaAlpha', 'budgets']);
  if (unknown.length > 0) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
      {
        details: unknown.map((u) => `unknown option "${u}"`),
      },
    );
  }
  const modelRouter = new ModelRouter(resolveModels(providerConfigs), runtime.clock, llm.router);
  registerRouterMetrics(registry, modelRouter);
  runtime.spawn(routerActorSpec(modelRouter, store, runtime.log));
  runtime.spawn(
    contextActorSpec({
      store,
      ...(llm.context === undefined ? {} : { options: llm.context }),
      log: runtime.log,
    }),
  );
  // The conscience: principles from SQLite; flag and block verdicts go to the security audit log.
  const excluded = new Set(jamey.exclude ?? []);
  if (!excluded.has('conscience')) {
    runtime.spawn<ConscienceMessage, unknown>(
      conscienceActorSpec({
        store,
        audit: security.audit,
        dependsOn: ['security'],
        observer: registerConscienceMetrics(registry),
        log: runtime.log,
      }),
    );
  }
  const conscience = new ConscienceClient(byName<ConscienceMessage>(runtime, CONSCIENCE_ACTOR));
  let tokenizer: Tokenizer | undefined;
  const providers = new Map<string, LlmProvider>();
  const chat = new ChatService({
    runtime,
    providers,
    tokenizer: () => {
      if (tokenizer === undefined) throw new JameyError('JAMEY_ERR_NOT_READY', 'the tokenizer is loading');
      return tokenizer;
    },
    ...(llm.chat === undefined ? {} : { options: llm.chat }),
    cache,
  });
  registerChatService(runtime, chat);
  registerChatMetrics(registry, chat);
  // Live Φ of the runtime itself: each supervised actor is a node, active or idle per tick.
  const integratedInfo = createIntegratedInfoActor(runtime, jamey.integratedInfo);
  runtime.spawn(integratedInfo);
  // Predictive processing: learns every scored text; saved through the store (docs/predictive.md).
  const predictiveActor = createPredictiveActor({
    pool: runtime.pool,
    store,
    clock: runtime.clock,
    log: runtime.log,
    embed: (texts) => embedderForMemory.embed(texts),
    ...(jamey.predictive === undefined ? {} : { options: jamey.predictive }),
  });
  if (!excluded.has('predictive')) {
    runtime.spawn(predictiveActor);
    registerPredictiveMetrics(registry, predictiveActor);
  }
  const predictive = new PredictiveClient(byName(runtime, predictiveActor.name));
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

  // The global workspace: broadcasts go to the memory actor (episodic) unless configured otherwise.
  const workspaceActor = createWorkspaceActor({
    store,
    log: runtime.log,
    isRunning: (name) => isActorRunning(runtime.system, name),
    ...(jamey.workspace === undefined ? {} : { options: jamey.workspace }),
  });
  const workspace = new WorkspaceClient(runtime.spawn(workspaceActor));
  registerWorkspaceMetrics(registry, workspaceActor);

  let adminKey: Jamey['adminKey'];
  const headers = securityHeaders();
  return {
    runtime,
    store,
    memory: new MemoryClient(memoryRef),
    chat,
    router: modelRouter,
    conscience,
    predictive,
    security,
    keys,
    cache,
    workspace,
    phiSnapshot: () => integratedInfo.snapshot(),
    phi: async (network) => {
      const body = parsePhiBody(network);
      return runtime
        .actor<IntegratedInfoMessage, PhiOutcome>(INTEGRATED_INFO)
        .ask(
          { type: 'phi', input: body.input, complex: body.complex, deadlineMs: body.deadlineMs },
          { deadlineMs: body.deadlineMs + 1_000 },
        );
    },
    get adminKey() {
      return adminKey;
    },
    start: async () => {
      mkdirSync(dataDir, { recursive: true });
      tokenizer = await loadTokenizer(llm.tokenizer ?? 'o200k_base');
      for (const [name, p] of createProviders(providerConfigs, {
        tokenizer,
        embedder: builtinEmbedder,
        env,
      })) {
        providers.set(name, p);
      }
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
    close: async () => {
      await chat.settled();
      await runtime.close();
      modelRouter.close();
      await Promise.all([...providers.values()].map((p) => p.close()));
    },
  };
}
