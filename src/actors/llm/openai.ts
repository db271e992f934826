/**
 * Client for OpenAI-compatible chat services, after the OpenAI API reference: "Create chat completion"
 * (POST /v1/chat/completions), its streaming form ("Chat completion chunk" objects as SSE `data:` lines,
 * ended by `data: [DONE]`, usage in a last chunk when `stream_options.include_usage` is set) and "Create
 * embeddings" (POST /v1/embeddings). The same wire format is served by vLLM, llama.cpp server, LM
 * Studio, LocalAI, OpenRouter and Ollama's /v1 endpoints.
 */
import {
  abortedError,
  deltaChunk,
  invalidOption,
  type ProviderOptions,
  SseDecoder,
  UpstreamHttp,
} from './http.js';
import type {
  ChatChunk,
  ChatRequest,
  ChatResult,
  EmbeddingResult,
  FinishReason,
  LlmProvider,
  ToolCall,
  ToolCallDelta,
  Usage,
} from './types.js';

export interface OpenAIProviderOptions extends ProviderOptions {
  /**
   * The request field that carries `maxTokens`. OpenAI's reasoning models accept only
   * "max_completion_tokens"; most compatible servers know only "max_tokens".
   * @default 'max_tokens'
   */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

interface WireUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
}

interface WireChoice {
  message?: { content?: unknown; tool_calls?: unknown };
  delta?: { content?: unknown; tool_calls?: unknown };
  finish_reason?: unknown;
}

interface WireCompletion {
  model?: unknown;
  choices?: WireChoice[];
  usage?: WireUsage | null;
  error?: unknown;
}

const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0 };

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function mapUsage(usage: WireUsage | null | undefined): Usage {
  if (usage === null || typeof usage !== 'object') return NO_USAGE;
  return { promptTokens: count(usage.prompt_tokens), completionTokens: count(usage.completion_tokens) };
}

/** OpenAI's finish reasons, with the legacy "function_call" folded into tool calls. */
export function mapOpenAIFinish(reason: unknown): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export class OpenAIProvider implements LlmProvider {
  readonly name: string;
  readonly kind = 'openai' as const;
  readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
  readonly #http: UpstreamHttp;
  readonly #chatPath: string;
  readonly #embedPath: string;
  readonly #jsonHeaders: Record<string, string>;
  readonly #sseHeaders: Record<string, string>;

  constructor(options: OpenAIProviderOptions) {
    this.#http = new UpstreamHttp(options);
    this.name = this.#http.provider;
    const field = options.maxTokensField ?? 'max_tokens';
    if (field !== 'max_tokens' && field !== 'max_completion_tokens') {
      throw invalidOption('maxTokensField', "'max_tokens' or 'max_completion_tokens'", field);
    }
    this.maxTokensField = field;
    this.#chatPath = this.#http.versionedPath('/v1', '/chat/completions');
    this.#embedPath = this.#http.versionedPath('/v1', '/embeddings');
    const auth: Record<string, string> =
      options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
    this.#jsonHeaders = { 'content-type': 'application/json', accept: 'application/json', ...auth };
    this.#sseHeaders = { 'content-type': 'application/json', accept: 'text/event-stream', ...auth };
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const path = this.#chatPath;
    const body = (await this.#http.postJson(
      path,
      this.#jsonHeaders,
      this.#body(request, false),
      signal,
    )) as WireCompletion | null;
    const choice = Array.isArray(body?.choices) ? body.choices[0] : undefined;
    const message = choice?.message;
    if (message === null || typeof message !== 'object') {
      throw this.#http.fail('bad-response', path, 'answered without choices[0].message', { status: 200 });
    }
    const content = typeof message.content === 'string' ? message.content : null;
    const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as ToolCall[]) : undefined;
    if (toolCalls?.some((c) => !isToolCall(c))) {
      throw this.#http.fail('bad-response', path, 'answered with a malformed tool call', { status: 200 });
    }
    const result: ChatResult = {
      model: typeof body?.model === 'string' ? body.model : request.model,
      content,
      finishReason: mapOpenAIFinish(choice?.finish_reason),
      usage: mapUsage(body?.usage),
      ...(toolCalls !== undefined && toolCalls.length > 0 ? { toolCalls } : {}),
    };
    return result;
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatChunk, void, undefined> {
    const http = this.#http;
    const path = this.#chatPath;
    const body = await http.openStream(path, this.#sseHeaders, this.#body(request, true), signal);
    const sse = new SseDecoder();
    let finishReason: FinishReason = 'stop';
    let usage: Usage | undefined;
    try {
      for await (const raw of body) {
        for (const event of sse.feed(raw)) {
          const data = event.data;
          if (data === '[DONE]') {
            yield usage === undefined ? { type: 'end', finishReason } : { type: 'end', finishReason, usage };
            return;
          }
          const chunk = http.streamedObject(path, data, 'event', true) as WireCompletion;
          if (chunk.usage != null) usage = mapUsage(chunk.usage);
          const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
          if (choice === undefined) continue;
          if (choice.finish_reason != null) finishReason = mapOpenAIFinish(choice.finish_reason);
          const delta = choice.delta;
          if (delta == null) continue;
          const content =
            typeof delta.content === 'string' && delta.content.length > 0 ? delta.content : undefined;
          const toolCalls =
            Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0
              ? (delta.tool_calls as ToolCallDelta[])
              : undefined;
          if (toolCalls?.some((d) => !isToolCallDelta(d))) {
            throw http.fail('bad-response', path, 'streamed a malformed tool call', { status: 200 });
          }
          const out = deltaChunk(content, toolCalls);
          if (out !== undefined) yield out;
        }
      }
    } catch (err) {
      throw http.mapError(err, path, signal, 'stream-broken');
    }
    throw signal?.aborted ? abortedError(signal) : http.brokenStream(path);
  }

  async embed(model: string, input: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    if (input.length === 0) return { vectors: [], usage: { promptTokens: 0 } };
    const path = this.#embedPath;
    const body = (await this.#http.postJson(
      path,
      this.#jsonHeaders,
      JSON.stringify({ model, input, encoding_format: 'float' }),
      signal,
    )) as { data?: unknown; usage?: WireUsage } | null;
    const data = body?.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw this.#http.fail('bad-response', path, `answered without ${input.length} embeddings`, {
        status: 200,
      });
    }
    const vectors = new Array<number[]>(input.length);
    for (let i = 0; i < data.length; i++) {
      const item = data[i] as { index?: unknown; embedding?: unknown } | null;
      // `index` names the input row; servers that omit it answer in input order.
      const at = Number.isInteger(item?.index) ? (item?.index as number) : i;
      const vector = item?.embedding;
      if (at < 0 || at >= input.length || !isNumberArray(vector)) {
        throw this.#http.fail('bad-response', path, 'answered with a malformed embedding', { status: 200 });
      }
      vectors[at] = vector;
    }
    for (let i = 0; i < vectors.length; i++) {
      if (vectors[i] !== undefined) continue;
      throw this.#http.fail('bad-response', path, 'answered with duplicate embedding indexes', {
        status: 200,
      });
    }
    return { vectors, usage: { promptTokens: count(body?.usage?.prompt_tokens) } };
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  #body(request: ChatRequest, stream: boolean): string {
    // ChatMessage already uses this API's field names, so messages go out as given.
    const wire: Record<string, unknown> = { model: request.model, messages: request.messages };
    if (request.maxTokens !== undefined) wire[this.maxTokensField] = request.maxTokens;
    if (request.temperature !== undefined) wire['temperature'] = request.temperature;
    if (request.topP !== undefined) wire['top_p'] = request.topP;
    if (request.stop !== undefined && request.stop.length > 0) wire['stop'] = request.stop;
    if (request.tools !== undefined && request.tools.length > 0) wire['tools'] = request.tools;
    if (request.toolChoice !== undefined) wire['tool_choice'] = request.toolChoice;
    if (stream) {
      wire['stream'] = true;
      wire['stream_options'] = { include_usage: true };
    }
    return JSON.stringify(wire);
  }
}

/** What the chat layer reads of a tool call: an object whose `function` has a name. */
function isToolCall(value: unknown): boolean {
  const fn = (value as { function?: unknown } | null)?.function as { name?: unknown } | null | undefined;
  return typeof value === 'object' && typeof fn === 'object' && fn !== null && typeof fn.name === 'string';
}

/** What the chat layer reads of a streamed tool-call piece: an object with its call's index. */
function isToolCallDelta(value: unknown): boolean {
  const index = (value as { index?: unknown } | null)?.index;
  return typeof value === 'object' && Number.isInteger(index) && (index as number) >= 0;
}

function isNumberArray(value: unknown): value is number[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const x of value) if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  return true;
}
