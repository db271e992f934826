/**
 * What every LLM provider speaks: one chat request shape (OpenAI's chat-completions vocabulary, the
 * lingua franca of the ecosystem), a complete answer or a stream of deltas, and coded errors that
 * say whether trying again (or another model) can help.
 *
 * Errors: an upstream failure is JAMEY_ERR_UPSTREAM (502) or JAMEY_ERR_UPSTREAM_TIMEOUT (504) with
 * `details: UpstreamFailure`; an aborted caller signal is JAMEY_ERR_ABORTED. A stream that fails
 * after it has yielded a chunk throws the same codes from the iterator.
 */

export type ProviderKind = 'openai' | 'anthropic' | 'ollama' | 'local';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** A streamed piece of a tool call (OpenAI's `delta.tool_calls[i]`): fields arrive in fragments. */
export interface ToolCallDelta {
  readonly index: number;
  readonly id?: string;
  readonly type?: 'function';
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

export interface ChatMessage {
  readonly role: Role;
  /** Text; null for an assistant message that only calls tools. */
  readonly content: string | null;
  readonly name?: string;
  readonly tool_calls?: readonly ToolCall[];
  readonly tool_call_id?: string;
}

export interface ChatRequest {
  /** The model as its provider names it. */
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  /** Upper bound on the answer's tokens. */
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop?: readonly string[];
  /** OpenAI tool definitions, passed through. */
  readonly tools?: readonly unknown[];
  readonly toolChoice?: unknown;
  /**
   * Recalled memories behind the prompt (already in the system message for remote models); the
   * built-in local provider answers from them.
   */
  readonly memories?: readonly RecalledMemory[];
}

export interface RecalledMemory {
  readonly content: string;
  readonly score: number;
  readonly layer?: string;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ChatResult {
  /** The model that answered, as the provider reports it. */
  readonly model: string;
  readonly content: string | null;
  readonly toolCalls?: readonly ToolCall[];
  readonly finishReason: FinishReason;
  readonly usage: Usage;
}

export type ChatChunk =
  | {
      readonly type: 'delta';
      readonly content?: string;
      readonly toolCalls?: readonly ToolCallDelta[];
    }
  | {
      readonly type: 'end';
      readonly finishReason: FinishReason;
      /** Token usage when the provider reports it (OpenAI with `stream_options.include_usage`). */
      readonly usage?: Usage;
    };

export interface EmbeddingResult {
  readonly vectors: number[][];
  readonly usage: { readonly promptTokens: number };
}

export interface LlmProvider {
  /** The configured provider name (unique in the registry). */
  readonly name: string;
  readonly kind: ProviderKind;
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
  /** Yields deltas, then exactly one `end` chunk; throws (coded) on failure. */
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk>;
  embed?(model: string, input: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult>;
  /** Closes pooled connections; later calls fail. */
  close(): Promise<void>;
}

/** `details` of an upstream error. */
export interface UpstreamFailure {
  readonly provider: string;
  readonly url: string;
  readonly reason: 'status' | 'timeout' | 'network' | 'bad-response' | 'stream-broken';
  readonly status?: number;
  /** Upstream body, cut to 500 characters, for the operator (never the request's API key). */
  readonly body?: string;
  /** Whether another attempt (same or next model) may succeed: network, timeout, 408/409/429/5xx. */
  readonly retryable: boolean;
}
