/**
 * The configuration file: `jamey.config.json` in the working folder, or the file `JAMEY_CONFIG`
 * names (a missing named file is an error; a missing default file is not). So far it carries the
 * LLM configuration (docs/chat.md):
 *
 * ```json
 * { "providers": [{ "name": "openai", "kind": "openai", "baseUrl": "https://api.openai.com/v1",
 *                   "apiKeyEnv": "OPENAI_API_KEY",
 *                   "models": [{ "id": "gpt-4o-mini", "contextTokens": 128000,
 *                                "pricePerMTokIn": 0.15, "pricePerMTokOut": 0.6,
 *                                "capabilities": ["chat", "stream", "tools"] }] }],
 *   "llm": { "router": { "budgets": { "dailyUsd": 5 } }, "chat": { "systemPrompt": "…" } } }
 * ```
 *
 * Secrets never go in the file: a provider names the environment variable holding its key.
 * Values are validated where they are used (every problem listed); unknown top-level keys are
 * refused here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JameyOptions, LlmOptions } from './jamey.js';
import { JameyError } from './runtime/errors.js';
import { optionsFromEnv, type RuntimeOptionsInput } from './runtime/options.js';

export const CONFIG_FILE = 'jamey.config.json';
/** Keys whose values are option groups of createJamey (validated where they are used). */
const GROUP_KEYS = [
  'memory',
  'security',
  'cache',
  'integratedInfo',
  'workspace',
  'predictive',
  'store',
] as const;
/** Top-level keys of the file. */
export const CONFIG_KEYS: readonly string[] = [
  'providers',
  'llm',
  '$schema',
  'runtime',
  ...GROUP_KEYS,
  'exclude',
];
/** Keys of the file's `llm` object. */
export const CONFIG_LLM_KEYS: readonly string[] = ['router', 'chat', 'context', 'local', 'tokenizer'];
const KEYS = new Set(CONFIG_KEYS);
const LLM_KEYS = new Set(CONFIG_LLM_KEYS);

export interface ConfigFileRead {
  /** The file read, or undefined when there is none (no default file and none named). */
  readonly file: string | undefined;
  /** What the file configures, as far as it could be read. */
  readonly options: JameyOptions;
  /** The runtime options the file sets (`runtime`: host, port, dataDir, logLevel, mailbox, pool, …). */
  readonly runtime: RuntimeOptionsInput;
  /** Every problem found; empty for a good file. */
  readonly problems: string[];
  /** The file could not be read as an object at all (missing, not JSON, not an object). */
  readonly unreadable: boolean;
}

/**
 * Reads the config file without throwing, so a checker can go on to validate the rest and list
 * every problem at once. `explicit` (a `--config` argument) wins over `JAMEY_CONFIG`.
 */
export function readConfigFile(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  explicit?: string,
): ConfigFileRead {
  const named = explicit ?? env['JAMEY_CONFIG'];
  const file = resolve(cwd, named ?? CONFIG_FILE);
  const unreadable = (problem: string): ConfigFileRead => ({
    file,
    options: {},
    runtime: {},
    problems: [problem],
    unreadable: true,
  });
  if (!existsSync(file)) {
    if (named !== undefined) {
      const via = explicit === undefined ? 'JAMEY_CONFIG' : '--config';
      return unreadable(`config file ${named} (${via}) does not exist`);
    }
    return { file: undefined, options: {}, runtime: {}, problems: [], unreadable: false };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return unreadable(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return unreadable(`config file ${file} must hold a JSON object`);
  }
  const o = parsed as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!KEYS.has(k)) problems.push(`unknown key "${k}"`);
  const llmIn = o['llm'];
  const llmOk = llmIn === undefined || (typeof llmIn === 'object' && llmIn !== null && !Array.isArray(llmIn));
  if (!llmOk) {
    problems.push('"llm" must be an object');
  } else if (llmIn !== undefined) {
    for (const k of Object.keys(llmIn)) if (!LLM_KEYS.has(k)) problems.push(`unknown key "llm.${k}"`);
  }
  const providersOk = o['providers'] === undefined || Array.isArray(o['providers']);
  if (!providersOk) problems.push('"providers" must be an array');
  const llm: LlmOptions = { ...((llmOk ? (llmIn as LlmOptions | undefined) : undefined) ?? {}) };
  if (o['providers'] !== undefined && providersOk)
    llm.providers = o['providers'] as LlmOptions['providers'] & object;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const options: Record<string, unknown> = { llm };
  for (const k of GROUP_KEYS) {
    if (o[k] === undefined) continue;
    if (isObject(o[k])) options[k] = o[k];
    else problems.push(`"${k}" must be an object`);
  }
  if (o['exclude'] !== undefined) {
    if (Array.isArray(o['exclude'])) options['exclude'] = o['exclude'];
    else problems.push('"exclude" must be an array');
  }
  let runtime: RuntimeOptionsInput = {};
  if (o['runtime'] !== undefined) {
    if (isObject(o['runtime'])) runtime = o['runtime'] as RuntimeOptionsInput;
    else problems.push('"runtime" must be an object');
  }
  return { file, options: options as JameyOptions, runtime, problems, unreadable: false };
}

export function loadConfigFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): JameyOptions {
  return loadServiceConfig(env, cwd).jamey;
}

/**
 * The service's whole configuration: defaults ← the file ← the environment (`JAMEY_*`) ← flags
 * (`jamey serve --port …`). Runtime options are validated by createRuntime (every problem listed).
 */
export function loadServiceConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  flags: RuntimeOptionsInput = {},
  explicit?: string,
): { runtime: RuntimeOptionsInput; jamey: JameyOptions; file: string | undefined } {
  const read = readConfigFile(env, cwd, explicit);
  if (read.unreadable) throw new JameyError('JAMEY_ERR_INVALID_OPTION', read.problems[0] as string);
  if (read.problems.length > 0) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `config file ${read.file}: ${read.problems.join('; ')}`,
      { details: read.problems },
    );
  }
  return {
    runtime: { ...read.runtime, ...optionsFromEnv(env), ...flags },
    jamey: read.options,
    file: read.file,
  };
}
