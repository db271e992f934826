export type { AnthropicProviderOptions } from './anthropic.js';
export { AnthropicProvider, mapAnthropicStop } from './anthropic.js';
export type { ProviderOptions, UpstreamReason } from './http.js';
export { isRetryable, isRetryableStatus } from './http.js';
export type { OllamaProviderOptions } from './ollama.js';
export { mapOllamaDone, OllamaProvider } from './ollama.js';
export type { OpenAIProviderOptions } from './openai.js';
export { mapOpenAIFinish, OpenAIProvider } from './openai.js';
export type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  EmbeddingResult,
  FinishReason,
  LlmProvider,
  ProviderKind,
  RecalledMemory,
  Role,
  ToolCall,
  ToolCallDelta,
  UpstreamFailure,
  Usage,
} from './types.js';
