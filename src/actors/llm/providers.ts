/**
 * Builds the running providers from their configuration. API keys are read here, once, from the
 * environment variable each provider names; they live only inside the provider's client.
 */
import { JameyError } from '../../runtime/errors.js';
import type { Tokenizer } from '../context/tokenizer.js';
import type { EmbeddingProvider } from '../memory/embedding/provider.js';
import { AnthropicProvider } from './anthropic.js';
import type { ProviderConfig } from './config.js';
import { LocalProvider } from './local.js';
import { OllamaProvider } from './ollama.js';
import { OpenAIProvider } from './openai.js';
import type { LlmProvider } from './types.js';

export interface ProviderDeps {
  readonly tokenizer: Tokenizer;
  /** The local provider's embeddings (the built-in embedder). */
  readonly embedder?: EmbeddingProvider;
  readonly env?: NodeJS.ProcessEnv;
}

export function createProvider(config: ProviderConfig, deps: ProviderDeps): LlmProvider {
  const env = deps.env ?? process.env;
  const apiKey = config.apiKeyEnv === undefined ? undefined : env[config.apiKeyEnv];
  const common = {
    name: config.name,
    baseUrl: config.baseUrl ?? '',
    ...(apiKey === undefined || apiKey === '' ? {} : { apiKey }),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.connections === undefined ? {} : { connections: config.connections }),
  };
  switch (config.kind) {
    case 'openai':
      return new OpenAIProvider(common);
    case 'anthropic':
      return new AnthropicProvider(common);
    case 'ollama':
      return new OllamaProvider(common);
    case 'local':
      return new LocalProvider({
        name: config.name,
        tokenizer: deps.tokenizer,
        ...(deps.embedder === undefined ? {} : { embedder: deps.embedder }),
      });
    default:
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', `provider kind "${config.kind}" is not available`);
  }
}

export function createProviders(
  configs: readonly ProviderConfig[],
  deps: ProviderDeps,
): Map<string, LlmProvider> {
  const out = new Map<string, LlmProvider>();
  for (const c of configs) out.set(c.name, createProvider(c, deps));
  return out;
}
