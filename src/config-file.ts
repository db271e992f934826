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

export const CONFIG_FILE = 'jamey.config.json';
const KEYS = new Set(['providers', 'llm', '$schema']);
const LLM_KEYS = new Set(['router', 'chat', 'context', 'local', 'tokenizer']);

export function loadConfigFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): JameyOptions {
  const named = env['JAMEY_CONFIG'];
  const file = resolve(cwd, named ?? CONFIG_FILE);
  if (!existsSync(file)) {
    if (named !== undefined) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', `config file ${named} (JAMEY_CONFIG) does not exist`);
    }
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `config file ${file} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new JameyError('JAMEY_ERR_INVALID_OPTION', `config file ${file} must hold a JSON object`);
  }
  const o = parsed as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!KEYS.has(k)) problems.push(`unknown key "${k}"`);
  const llmIn = o['llm'];
  if (llmIn !== undefined && (typeof llmIn !== 'object' || llmIn === null || Array.isArray(llmIn))) {
    problems.push('"llm" must be an object');
  } else if (llmIn !== undefined) {
    for (const k of Object.keys(llmIn)) if (!LLM_KEYS.has(k)) problems.push(`unknown key "llm.${k}"`);
  }
  if (o['providers'] !== undefined && !Array.isArray(o['providers']))
    problems.push('"providers" must be an array');
  if (problems.length > 0) {
    throw new JameyError('JAMEY_ERR_INVALID_OPTION', `config file ${file}: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  const llm: LlmOptions = { ...((llmIn as LlmOptions | undefined) ?? {}) };
  if (o['providers'] !== undefined) llm.providers = o['providers'] as LlmOptions['providers'] & object;
  return { llm };
}
