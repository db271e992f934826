/**
 * Client for the Anthropic Messages API, after Anthropic's API reference: "Messages" (POST /v1/messages,
 * headers `x-api-key` and `anthropic-version: 2023-06-01`), "Streaming Messages" (SSE events
 * message_start, content_block_start/delta/stop, message_delta, message_stop, ping, error) and "Tool
 * use" (tool_use / tool_result content blocks). Requests in the OpenAI vocabulary are translated: system
 * messages become the top-level `system` text, tool calls and results become content blocks.
 */
import {
  abortedError,
  invalidOption,
  type ProviderOptions,
  parseJson,
  positiveIntOption,
  SseDecoder,
  UpstreamHttp,
} from './http.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  FinishReason,
  LlmProvider,
  ToolCall,
  ToolCallDelta,
} from './types.js';

export interface AnthropicProviderOptions extends ProviderOptions {
  /**
   * `max_tokens` when a request has no `maxTokens` (the API requires the field).
   * @default 1024
   */
  readonly defaultMaxTokens?: number;
  /**
   * The `anthropic-version` header.
   * @default '2023-06-01'
   */
  readonly anthropicVersion?: string;
}

interface WireUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  cache_read_input_tokens?: unknown;
}

interface WireBlock {
  type?: unknown;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
}

interface WireMessage {
  model?: unknown;
  content?: unknown;
  stop_reason?: unknown;
  usage?: WireUsage;
}

/** One streamed event's data; which fields are present depends on `type`. */
interface WireEvent {
  type?: unknown;
  message?: WireMessage;
  index?: unknown;
  content_block?: WireBlock;
  delta?: { type?: unknown; text?: unknown; partial_json?: unknown; stop_reason?: unknown };
  usage?: WireUsage;
  error?: { type?: unknown; message?: unknown };
}

/** The HTTP status each documented error type is sent with, for errors that arrive inside a stream. */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * `input_tokens` excludes tokens read from or written to the prompt cache; they are added so that
 * prompt tokens mean the whole prompt, as they do for the other providers.
 */
function promptTokens(usage: WireUsage | undefined): number {
  if (usage === undefined || usage === null) return 0;
  return (
    count(usage.input_tokens) +
    count(usage.cache_creation_input_tokens) +
    count(usage.cache_read_input_tokens)
  );
}

export function mapAnthropicStop(reason: unknown): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

function toolArguments(text: string): unknown {
  const parsed = parseJson(text);
  return parsed !== null && typeof parsed === 'object' ? parsed : {};
}

/** OpenAI tool definitions ({type: 'function', function: {name, description, parameters}}) as Anthropic tools. */
function mapTools(tools: readonly unknown[]): unknown[] {
  return tools.map((tool) => {
    const fn = (tool as { function?: { name?: unknown; description?: unknown; parameters?: unknown } })
      ?.function;
    if (fn === undefined || fn === null) return tool; // already in Anthropic's shape
    return {
      name: fn.name,
      ...(fn.description === undefined ? {} : { description: fn.description }),
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    };
  });
}

function mapToolChoice(choice: unknown): unknown {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  const name = (choice as { function?: { name?: unknown } } | null)?.function?.name;
  return typeof name === 'string' ? { type: 'tool', name } : choice;
}

function mapMessage(message: ChatMessage): unknown {
  if (message.role === 'tool') {
    return {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: message.content ?? '' }],
    };
  }
  const calls = message.tool_calls;
  if (message.role === 'assistant' && calls !== undefined && calls.length > 0) {
    const content: unknown[] = [];
    if (message.content !== null && message.content.length > 0)
      content.push({ type: 'text', text: message.content });
    for (const call of calls) {
      content.push({
        type: 'tool_use',
        id: call.id,
        name: call.function.name,
        input: toolArguments(call.function.arguments),
      });
    }
    return { role: 'assistant', content };
  }
  return { role: message.role, content: message.content ?? '' };
}

export class AnthropicProvider implements LlmProvider {
  readonly name: string;
  readonly kind = 'anthropic' as const;
  readonly defaultMaxTokens: number;
  readonly #http: UpstreamHttp;
  readonly #path: string;
  readonly #jsonHeaders: Record<string, string>;
  readonly #sseHeaders: Record<string, string>;

  constructor(options: AnthropicProviderOptions) {
    this.#http = new UpstreamHttp(options);
    this.name = this.#http.provider;
    this.defaultMaxTokens = positiveIntOption('defaultMaxTokens', options.defaultMaxTokens, 1024);
    const version = options.anthropicVersion ?? '2023-06-01';
    if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
      throw invalidOption('anthropicVersion', 'a date such as 2023-06-01', version);
    }
    this.#path = this.#http.versionedPath('/v1', '/messages');
    const common: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': version,
    };
    if (options.apiKey !== undefined) common['x-api-key'] = options.apiKey;
    this.#jsonHeaders = { ...common, accept: 'application/json' };
    this.#sseHeaders = { ...common, accept: 'text/event-stream' };
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const path = this.#path;
    const body = (await this.#http.postJson(
      path,
      this.#jsonHeaders,
      this.#body(request, false),
      signal,
    )) as WireMessage | null;
    if (body === null || typeof body !== 'object' || !Array.isArray(body.content)) {
      throw this.#http.fail('bad-response', path, 'answered without a content array', { status: 200 });
    }
    let text: string | null = null;
    const toolCalls: ToolCall[] = [];
    for (const block of body.content as WireBlock[]) {
      if (block?.type === 'text' && typeof block.text === 'string') {
        text = text === null ? block.text : text + block.text;
      } else if (block?.type === 'tool_use') {
        toolCalls.push({
          id: String(block.id),
          type: 'function',
          function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
        });
      }
    }
    const result: ChatResult = {
      model: typeof body.model === 'string' ? body.model : request.model,
      content: text === null && toolCalls.length === 0 ? '' : text,
      finishReason: mapAnthropicStop(body.stop_reason),
      usage: { promptTokens: promptTokens(body.usage), completionTokens: count(body.usage?.output_tokens) },
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
    return result;
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatChunk, void, undefined> {
    const http = this.#http;
    const path = this.#path;
    const body = await http.openStream(path, this.#sseHeaders, this.#body(request, true), signal);
    const sse = new SseDecoder();
    let finishReason: FinishReason = 'stop';
    let prompt = 0;
    let completion = 0;
    // Content-block index → tool-call ordinal, for blocks that are tool calls.
    let toolIndexes: Map<number, number> | undefined;
    try {
      for await (const raw of body) {
        for (const event of sse.feed(raw)) {
          const data = http.streamedObject(path, event.data, 'event') as WireEvent;
          switch (data.type) {
            case 'content_block_delta': {
              const delta = data.delta;
              if (delta?.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) {
                yield { type: 'delta', content: delta.text };
              } else if (delta?.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
                const index = toolIndexes?.get(count(data.index));
                if (index !== undefined && delta.partial_json.length > 0) {
                  yield {
                    type: 'delta',
                    toolCalls: [{ index, function: { arguments: delta.partial_json } }],
                  };
                }
              }
              break;
            }
            case 'content_block_start': {
              const block = data.content_block;
              if (block?.type !== 'tool_use') break;
              toolIndexes ??= new Map();
              const index = toolIndexes.size;
              toolIndexes.set(count(data.index), index);
              const call: ToolCallDelta = {
                index,
                id: String(block.id),
                type: 'function',
                function: { name: String(block.name), arguments: '' },
              };
              yield { type: 'delta', toolCalls: [call] };
              break;
            }
            case 'message_start':
              prompt = promptTokens(data.message?.usage);
              completion = count(data.message?.usage?.output_tokens);
              break;
            case 'message_delta':
              if (data.delta?.stop_reason != null) finishReason = mapAnthropicStop(data.delta.stop_reason);
              if (data.usage !== undefined) {
                completion = count(data.usage.output_tokens) || completion;
                // Newer API versions repeat (and correct) input usage here.
                if (data.usage.input_tokens !== undefined) prompt = promptTokens(data.usage);
              }
              break;
            case 'message_stop':
              yield {
                type: 'end',
                finishReason,
                usage: { promptTokens: prompt, completionTokens: completion },
              };
              return;
            case 'error': {
              const type = typeof data.error?.type === 'string' ? data.error.type : 'api_error';
              const status = ERROR_STATUS[type] ?? 500;
              throw http.fail('status', path, `reported ${type} inside its stream`, {
                status,
                body: event.data,
              });
            }
            default:
              // ping, content_block_stop and event types added later carry nothing to pass on.
              break;
          }
        }
      }
    } catch (err) {
      throw http.mapError(err, path, signal, 'stream-broken');
    }
    throw signal?.aborted ? abortedError(signal) : http.brokenStream(path);
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  #body(request: ChatRequest, stream: boolean): string {
    let system: string | undefined;
    const messages: unknown[] = [];
    for (const message of request.messages) {
      if (message.role === 'system') {
        const text = message.content ?? '';
        system = system === undefined ? text : `${system}\n\n${text}`;
      } else {
        messages.push(mapMessage(message));
      }
    }
    const wire: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxTokens ?? this.defaultMaxTokens,
      messages,
    };
    if (system !== undefined) wire['system'] = system;
    if (request.temperature !== undefined) wire['temperature'] = request.temperature;
    if (request.topP !== undefined) wire['top_p'] = request.topP;
    if (request.stop !== undefined && request.stop.length > 0) wire['stop_sequences'] = request.stop;
    if (request.tools !== undefined && request.tools.length > 0) wire['tools'] = mapTools(request.tools);
    if (request.toolChoice !== undefined) wire['tool_choice'] = mapToolChoice(request.toolChoice);
    if (stream) wire['stream'] = true;
    return JSON.stringify(wire);
  }
}
