/**
 * `jamey config check`: the effective configuration as `jamey serve` would build it — defaults, then
 * the config file, then the environment — validated by the same resolvers the service runs, without
 * starting anything or opening the database.
 *
 * The report is safe to print: API keys appear only as the name of their environment variable and
 * whether it is set, and credentials inside URLs are masked.
 */
import { DEFAULT_CHAT_OPTIONS } from './actors/context/chat.js';
import { DEFAULT_CONTEXT_OPTIONS } from './actors/context/context.js';
import { ENCODINGS } from './actors/context/tokenizer.js';
import {
  localProviderConfig,
  type ModelInfo,
  type ProviderConfig,
  providersFromEnv,
  resolveModels,
} from './actors/llm/config.js';
import { BuiltinEmbedder } from './actors/memory/embedding/builtin.js';
import { DEFAULT_BREAKER_OPTIONS } from './actors/router/breaker.js';
import { DEFAULT_SCORE_WEIGHTS } from './actors/router/score.js';
import { readConfigFile } from './config-file.js';
import type { LlmOptions } from './jamey.js';
import { isJameyError } from './runtime/errors.js';
import { ENV_OPTIONS, optionsFromEnv, type RuntimeOptions, resolveOptions } from './runtime/options.js';

/**
 * What the HTTP client (src/actors/llm/http.ts) uses when a provider sets none: reported from there
 * because that is what runs, whatever the provider config's own comments say.
 */
const PROVIDER_TIMEOUT_MS = 120_000;
const PROVIDER_CONNECTIONS = 8;

export interface ConfigCheckInput {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** `--config FILE`: wins over `JAMEY_CONFIG` and the default file. */
  readonly configFile?: string;
}

export interface ConfigReport {
  /** Every problem; the configuration is usable only when this is empty. */
  readonly problems: string[];
  /** Things that will not stop the service but probably are not meant (e.g. an unset API key). */
  readonly warnings: string[];
  /** The effective values, secrets masked. */
  readonly effective: Record<string, unknown>;
}

/** Replaces the user and password of a URL, which may carry credentials. */
export function maskUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const u = new URL(value);
    if (u.username === '' && u.password === '') return value;
    u.username = u.username === '' ? '' : '***';
    u.password = u.password === '' ? '' : '***';
    return u.toString();
  } catch {
    return value;
  }
}

function problemsOf(err: unknown): string[] {
  if (isJameyError(err)) {
    const details = (err as { details?: unknown }).details;
    if (Array.isArray(details) && details.every((d) => typeof d === 'string')) return details as string[];
    return [err.message];
  }
  return [err instanceof Error ? err.message : String(err)];
}

/** Names the variable a runtime problem came from, since the option name alone does not say. */
function withVariable(problem: string, env: NodeJS.ProcessEnv): string {
  for (const [variable, option] of Object.entries(ENV_OPTIONS)) {
    if (env[variable] !== undefined && problem.startsWith(`option "${option}" `))
      return `${problem} (from ${variable})`;
  }
  return problem;
}

function modelView(m: ModelInfo): Record<string, unknown> {
  return {
    id: m.id,
    upstream: m.upstream,
    contextTokens: m.contextTokens,
    maxOutputTokens: m.maxOutputTokens,
    pricePerMTokIn: m.pricePerMTokIn,
    pricePerMTokOut: m.pricePerMTokOut,
    capabilities: [...m.capabilities],
    ...(m.dimensions === undefined ? {} : { dimensions: m.dimensions }),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkConfig(input: ConfigCheckInput = {}): ConfigReport {
  const env = input.env ?? process.env;
  const problems: string[] = [];
  const warnings: string[] = [];

  const read = readConfigFile(env, input.cwd ?? process.cwd(), input.configFile);
  problems.push(...read.problems.map((p) => (read.unreadable ? p : `config file: ${p}`)));

  // Runtime options as the service takes them: the file's `runtime`, then the environment.
  let runtime: Readonly<RuntimeOptions> | undefined;
  try {
    runtime = resolveOptions({ ...read.runtime, ...optionsFromEnv(env) });
  } catch (err) {
    problems.push(...problemsOf(err).map((p) => withVariable(p, env)));
  }

  // The provider list exactly as createJamey assembles it: file, then the environment's, then local.
  const llm: LlmOptions = read.options.llm ?? {};
  const fromFile = llm.providers ?? [];
  const fromEnv = providersFromEnv(env).filter((p) => !fromFile.some((q) => q?.name === p.name));
  const local = isObject(llm.local) ? llm.local : {};
  if (llm.local !== undefined && !isObject(llm.local))
    problems.push(`option "llm.local" must be an object, got ${JSON.stringify(llm.local)}`);
  const configs: { config: ProviderConfig; source: string }[] = [
    ...fromFile.map((config) => ({ config, source: 'config file' })),
    ...fromEnv.map((config) => ({ config, source: 'environment' })),
  ];
  if (local.enabled !== false) {
    configs.push({
      config: localProviderConfig(local, new BuiltinEmbedder().dimensions),
      source: 'built in',
    });
  }
  let models: ModelInfo[] = [];
  try {
    models = resolveModels(configs.map((c) => c.config));
  } catch (err) {
    problems.push(...problemsOf(err));
  }
  if (llm.tokenizer !== undefined && !(ENCODINGS as readonly unknown[]).includes(llm.tokenizer)) {
    problems.push(
      `option "llm.tokenizer" must be one of ${ENCODINGS.map((e) => `"${e}"`).join(', ')}, got ${JSON.stringify(llm.tokenizer)}`,
    );
  }
  for (const group of ['router', 'chat', 'context'] as const) {
    if (llm[group] !== undefined && !isObject(llm[group]))
      problems.push(`option "llm.${group}" must be an object, got ${JSON.stringify(llm[group])}`);
  }

  const providers = configs.map(({ config: p, source }, i) => {
    const apiKeyEnv = isObject(p) && typeof p.apiKeyEnv === 'string' ? p.apiKeyEnv : undefined;
    const apiKeySet = apiKeyEnv !== undefined && (env[apiKeyEnv] ?? '') !== '';
    if (apiKeyEnv !== undefined && !apiKeySet)
      warnings.push(`llm.providers[${i}] (${String(p?.name)}): ${apiKeyEnv} is not set`);
    return {
      name: p?.name,
      kind: p?.kind,
      source,
      ...(p?.baseUrl === undefined ? {} : { baseUrl: maskUrl(p.baseUrl) }),
      ...(apiKeyEnv === undefined ? {} : { apiKey: { env: apiKeyEnv, set: apiKeySet } }),
      ...(p?.kind === 'local'
        ? {}
        : {
            timeoutMs: p?.timeoutMs ?? PROVIDER_TIMEOUT_MS,
            connections: p?.connections ?? PROVIDER_CONNECTIONS,
          }),
      models: models.filter((m) => m.provider === p?.name).map(modelView),
    };
  });

  const router = isObject(llm.router) ? llm.router : {};
  const effective: Record<string, unknown> = {
    configFile: read.file ?? null,
    runtime: runtime ?? null,
    llm: {
      providers,
      local: { enabled: local.enabled !== false, contextTokens: local.contextTokens ?? 8192 },
      tokenizer: llm.tokenizer ?? 'o200k_base',
      router: {
        breaker: { ...DEFAULT_BREAKER_OPTIONS, ...(isObject(router.breaker) ? router.breaker : {}) },
        weights: { ...DEFAULT_SCORE_WEIGHTS, ...(isObject(router.weights) ? router.weights : {}) },
        fallback: router.fallback ?? true,
        ewmaAlpha: router.ewmaAlpha ?? 0.2,
        budgets: router.budgets ?? {},
      },
      chat: { ...DEFAULT_CHAT_OPTIONS, ...(isObject(llm.chat) ? llm.chat : {}) },
      context: { ...DEFAULT_CONTEXT_OPTIONS, ...(isObject(llm.context) ? llm.context : {}) },
    },
  };
  return { problems, warnings, effective };
}
