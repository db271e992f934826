/**
 * Providers and models from configuration: the `llm.providers` option (or the config file's
 * `providers`), plus the ecosystem's own environment conventions — `OPENAI_BASE_URL`/`OPENAI_API_KEY`
 * add an OpenAI-compatible provider, `ANTHROPIC_API_KEY` an Anthropic one, `OLLAMA_HOST` an Ollama one.
 * The built-in `local` provider (model `jamey-local`) is always present unless turned off, and is the
 * default when nothing else is configured.
 *
 * API keys are never part of the configuration itself: a provider names the environment variable
 * that holds its key (`apiKeyEnv`), read once at start.
 */
import { OptionChecker } from '../../runtime/options.js';
import { LOCAL_MODEL } from './local.js';
import type { ProviderKind } from './types.js';

export const CAPABILITIES = ['chat', 'stream', 'tools', 'embeddings', 'vision', 'json'] as const;
export type Capability = (typeof CAPABILITIES)[number];
export const PROVIDER_KINDS: readonly ProviderKind[] = ['openai', 'anthropic', 'ollama', 'local'];

export interface ModelConfig {
  /** The id clients use (unique across providers), e.g. "gpt-4o-mini". */
  readonly id: string;
  /** The provider's own name for it. @default id */
  readonly upstream?: string;
  /** Context window in tokens. */
  readonly contextTokens: number;
  /** Most tokens the model may answer with. @default min(4096, contextTokens / 4) */
  readonly maxOutputTokens?: number;
  /** US dollars per million prompt tokens. @default 0 */
  readonly pricePerMTokIn?: number;
  /** US dollars per million completion tokens. @default 0 */
  readonly pricePerMTokOut?: number;
  /** @default ["chat", "stream"] */
  readonly capabilities?: readonly Capability[];
  /** Vector length, for embedding models. */
  readonly dimensions?: number;
}

export interface ProviderConfig {
  readonly name: string;
  readonly kind: ProviderKind;
  /** Required except for `local`. */
  readonly baseUrl?: string;
  /** Environment variable holding the API key. */
  readonly apiKeyEnv?: string;
  /** Deadline of one upstream request (to the first byte, and between bytes of a stream). @default 120000 */
  readonly timeoutMs?: number;
  /** Pooled connections. @default 8 */
  readonly connections?: number;
  readonly models: readonly ModelConfig[];
}

/** A model as the router sees it: configuration resolved, provider attached by name. */
export interface ModelInfo {
  readonly id: string;
  readonly provider: string;
  readonly kind: ProviderKind;
  readonly upstream: string;
  readonly contextTokens: number;
  readonly maxOutputTokens: number;
  readonly pricePerMTokIn: number;
  readonly pricePerMTokOut: number;
  readonly capabilities: ReadonlySet<Capability>;
  readonly dimensions: number | undefined;
}

export interface LocalModelOptions {
  /** @default true */
  readonly enabled?: boolean;
  /** The context window the local responder pretends to have. @default 8192 */
  readonly contextTokens?: number;
}

/** The local provider's model. */
export function localProviderConfig(o: LocalModelOptions = {}, dimensions?: number): ProviderConfig {
  return {
    name: 'local',
    kind: 'local',
    models: [
      {
        id: LOCAL_MODEL,
        contextTokens: o.contextTokens ?? 8192,
        maxOutputTokens: 1024,
        pricePerMTokIn: 0,
        pricePerMTokOut: 0,
        capabilities: ['chat', 'stream', 'embeddings'],
        ...(dimensions === undefined ? {} : { dimensions }),
      },
    ],
  };
}

/** Model lists for providers that come only from the environment (override with `JAMEY_<KIND>_MODELS`). */
const ENV_MODELS: Record<'openai' | 'anthropic' | 'ollama', readonly ModelConfig[]> = {
  openai: [
    {
      id: 'gpt-4o-mini',
      contextTokens: 128_000,
      maxOutputTokens: 16_384,
      pricePerMTokIn: 0.15,
      pricePerMTokOut: 0.6,
      capabilities: ['chat', 'stream', 'tools', 'json'],
    },
    {
      id: 'text-embedding-3-small',
      contextTokens: 8191,
      pricePerMTokIn: 0.02,
      capabilities: ['embeddings'],
      dimensions: 1536,
    },
  ],
  anthropic: [
    {
      id: 'claude-3-5-haiku-latest',
      contextTokens: 200_000,
      maxOutputTokens: 8192,
      pricePerMTokIn: 0.8,
      pricePerMTokOut: 4,
      capabilities: ['chat', 'stream', 'tools'],
    },
  ],
  ollama: [{ id: 'llama3.2', contextTokens: 8192, capabilities: ['chat', 'stream'] }],
};

function envModels(kind: 'openai' | 'anthropic' | 'ollama', env: NodeJS.ProcessEnv): readonly ModelConfig[] {
  const list = env[`JAMEY_${kind.toUpperCase()}_MODELS`];
  if (list === undefined || list.trim() === '') return ENV_MODELS[kind];
  // "id:contextTokens,id2:contextTokens" — prices unknown, so 0 (document it in the config instead).
  return list.split(',').map((item) => {
    const [id = '', ctx] = item.trim().split(':');
    return { id, contextTokens: ctx === undefined ? 8192 : Number(ctx), capabilities: ['chat', 'stream'] };
  });
}

/** Providers named by the ecosystem's environment variables. */
export function providersFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderConfig[] {
  const out: ProviderConfig[] = [];
  if (env['OPENAI_API_KEY'] !== undefined || env['OPENAI_BASE_URL'] !== undefined) {
    out.push({
      name: 'openai',
      kind: 'openai',
      baseUrl: env['OPENAI_BASE_URL'] ?? 'https://api.openai.com/v1',
      apiKeyEnv: 'OPENAI_API_KEY',
      models: envModels('openai', env),
    });
  }
  if (env['ANTHROPIC_API_KEY'] !== undefined) {
    out.push({
      name: 'anthropic',
      kind: 'anthropic',
      baseUrl: env['ANTHROPIC_BASE_URL'] ?? 'https://api.anthropic.com',
      apiKeyEnv: 'ANTHROPIC_API_KEY',
      models: envModels('anthropic', env),
    });
  }
  if (env['OLLAMA_HOST'] !== undefined) {
    const host = env['OLLAMA_HOST'];
    out.push({
      name: 'ollama',
      kind: 'ollama',
      baseUrl: /^https?:\/\//.test(host) ? host : `http://${host}`,
      models: envModels('ollama', env),
    });
  }
  return out;
}

/** Validates provider configs (every problem listed) and resolves their models. */
export function resolveModels(providers: readonly ProviderConfig[]): ModelInfo[] {
  const c = new OptionChecker();
  const names = new Set<string>();
  const ids = new Set<string>();
  const out: ModelInfo[] = [];
  if (!Array.isArray(providers)) {
    c.fail('llm.providers', 'an array', providers);
    c.throwIfAny();
  }
  providers.forEach((p, i) => {
    const at = `llm.providers[${i}]`;
    const name = c.string(`${at}.name`, p?.name);
    if (names.has(name)) c.fail(`${at}.name`, 'unique', name);
    names.add(name);
    const kind = c.oneOf(`${at}.kind`, p?.kind, PROVIDER_KINDS);
    if (kind !== 'local') {
      try {
        const u = new URL(String(p.baseUrl));
        if (u.protocol !== 'http:' && u.protocol !== 'https:')
          c.fail(`${at}.baseUrl`, 'an http(s) URL', p.baseUrl);
      } catch {
        c.fail(`${at}.baseUrl`, 'an absolute http(s) URL', p.baseUrl);
      }
    }
    if (p.apiKeyEnv !== undefined) c.string(`${at}.apiKeyEnv`, p.apiKeyEnv);
    if (p.timeoutMs !== undefined) c.integer(`${at}.timeoutMs`, p.timeoutMs, 1, 3_600_000);
    if (p.connections !== undefined) c.integer(`${at}.connections`, p.connections, 1, 1024);
    if (!Array.isArray(p?.models) || p.models.length === 0) {
      c.fail(`${at}.models`, 'a non-empty array', p?.models);
      return;
    }
    p.models.forEach((m, j) => {
      const mat = `${at}.models[${j}]`;
      const id = c.string(`${mat}.id`, m?.id);
      if (ids.has(id)) c.fail(`${mat}.id`, 'unique across providers', id);
      ids.add(id);
      const contextTokens = c.integer(`${mat}.contextTokens`, m?.contextTokens, 16, 100_000_000);
      const maxOut =
        m.maxOutputTokens === undefined
          ? Math.max(1, Math.min(4096, Math.floor(contextTokens / 4)))
          : c.integer(`${mat}.maxOutputTokens`, m.maxOutputTokens, 1, contextTokens);
      const caps = m.capabilities ?? ['chat', 'stream'];
      if (!Array.isArray(caps)) c.fail(`${mat}.capabilities`, 'an array', caps);
      else for (const cap of caps) c.oneOf(`${mat}.capabilities[]`, cap, CAPABILITIES);
      out.push({
        id,
        provider: name,
        kind,
        upstream: m.upstream === undefined ? id : c.string(`${mat}.upstream`, m.upstream),
        contextTokens,
        maxOutputTokens: maxOut,
        pricePerMTokIn:
          m.pricePerMTokIn === undefined ? 0 : c.number(`${mat}.pricePerMTokIn`, m.pricePerMTokIn, 0, 1e6),
        pricePerMTokOut:
          m.pricePerMTokOut === undefined ? 0 : c.number(`${mat}.pricePerMTokOut`, m.pricePerMTokOut, 0, 1e6),
        capabilities: new Set(Array.isArray(caps) ? caps : []),
        dimensions:
          m.dimensions === undefined ? undefined : c.integer(`${mat}.dimensions`, m.dimensions, 1, 65_536),
      });
    });
  });
  c.throwIfAny();
  return out;
}

/** US dollars for a request's usage on a model. */
export function costOf(model: ModelInfo, promptTokens: number, completionTokens: number): number {
  return (promptTokens * model.pricePerMTokIn + completionTokens * model.pricePerMTokOut) / 1e6;
}
