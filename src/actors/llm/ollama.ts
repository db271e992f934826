/**
 * Client for Ollama's native API, after its docs/api.md: "Generate a chat completion" (POST /api/chat;
 * `stream: false` for one JSON answer, otherwise newline-delimited JSON objects ending with a `done: true`
 * line that carries `done_reason`, `prompt_eval_count` and `eval_count`) and "Generate embeddings" (POST
 * /api/embed, {model, input} → {embeddings}). Sampling settings travel in `options` under Ollama's names
 * (num_predict, temperature, top_p, stop); tool calls carry their arguments as objects, not JSON text.
 */
import {
  abortedError,
  deltaChunk,
  NdjsonDecoder,
  type ProviderOptions,
  parseJson,
  UpstreamHttp,
} from './http.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  EmbeddingResult,
  FinishReason,
  LlmProvider,
  ToolCall,
  ToolCallDelta,
} from './types.js';

export type OllamaProviderOptions = ProviderOptions;

interface WireToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/** One answer, or one streamed line: `done` marks the last, which carries the counts. */
interface WireChat {
  model?: unknown;
  message?: { content?: unknown; tool_calls?: unknown };
  done?: unknown;
  done_reason?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  error?: unknown;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

export function mapOllamaDone(reason: unknown, calledTools: boolean): FinishReason {
  if (reason === 'length') return 'length';
  // Ollama says "stop" when the model called tools; callers need to know to run them.
  return calledTools ? 'tool_calls' : 'stop';
}

function mapMessage(message: ChatMessage): unknown {
  const calls = message.tool_calls;
  if (calls === undefined || calls.length === 0) {
    if (message.role === 'tool' && message.name !== undefined) {
      return { role: 'tool', content: message.content ?? '', tool_name: message.name };
    }
    return { role: message.role, content: message.content ?? '' };
  }
  return {
    role: message.role,
    content: message.content ?? '',
    tool_calls: calls.map((call) => ({
      function: { name: call.function.name, arguments: parseArguments(call.function.arguments) },
    })),
  };
}

function parseArguments(text: string): unknown {
  const parsed = parseJson(text);
  return parsed !== null && typeof parsed === 'object' ? parsed : {};
}

function toolCallId(call: WireToolCall, index: number): string {
  return typeof call.id === 'string' && call.id.length > 0 ? call.id : `call_${index}`;
}

function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

export class OllamaProvider implements LlmProvider {
  readonly name: string;
  readonly kind = 'ollama' as const;
  readonly #http: UpstreamHttp;
  readonly #chatPath: string;
  readonly #embedPath: string;
  readonly #headers: Record<string, string>;

  constructor(options: OllamaProviderOptions) {
    this.#http = new UpstreamHttp(options);
    this.name = this.#http.provider;
    this.#chatPath = this.#http.plainPath('/api/chat');
    this.#embedPath = this.#http.plainPath('/api/embed');
    // Ollama needs no key; one is sent when a proxy in front of it asks for one.
    this.#headers =
      options.apiKey === undefined
        ? { 'content-type': 'application/json' }
        : { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` };
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const path = this.#chatPath;
    const body = (await this.#http.postJson(
      path,
      this.#headers,
      this.#body(request, false),
      signal,
    )) as WireChat | null;
    const message = body?.message;
    if (body === null || message === null || typeof message !== 'object') {
      throw this.#http.fail('bad-response', path, 'answered without a message', { status: 200 });
    }
    const wireCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as WireToolCall[]) : [];
    if (wireCalls.some((call) => typeof call !== 'object' || call === null)) {
      throw this.#http.fail('bad-response', path, 'answered with a malformed tool call', { status: 200 });
    }
    const toolCalls: ToolCall[] = wireCalls.map((call, i) => ({
      id: toolCallId(call, i),
      type: 'function',
      function: { name: String(call.function?.name), arguments: argumentsText(call.function?.arguments) },
    }));
    const result: ChatResult = {
      model: typeof body.model === 'string' ? body.model : request.model,
      content: typeof message.content === 'string' ? message.content : null,
      finishReason: mapOllamaDone(body.done_reason, toolCalls.length > 0),
      usage: { promptTokens: count(body.prompt_eval_count), completionTokens: count(body.eval_count) },
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
    return result;
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatChunk, void, undefined> {
    const http = this.#http;
    const path = this.#chatPath;
    const body = await http.openStream(path, this.#headers, this.#body(request, true), signal);
    const ndjson = new NdjsonDecoder();
    let toolCount = 0;
    // Iterated by hand so that a last line without its newline is still read when the body ends.
    const chunks = body[Symbol.asyncIterator]();
    let drained = false;
    try {
      while (!drained) {
        const next = await chunks.next();
        drained = next.done === true;
        for (const line of drained ? ndjson.end() : ndjson.feed(next.value)) {
          const data = http.streamedObject(path, line, 'line', true) as WireChat;
          const message = data.message;
          if (message !== undefined && message !== null) {
            const content =
              typeof message.content === 'string' && message.content.length > 0 ? message.content : undefined;
            let toolCalls: ToolCallDelta[] | undefined;
            if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) {
              if (message.tool_calls.some((call) => typeof call !== 'object' || call === null)) {
                throw http.fail('bad-response', path, 'streamed a malformed tool call', { status: 200 });
              }
              // Ollama streams each tool call whole, so one delta carries all of its fields.
              toolCalls = (message.tool_calls as WireToolCall[]).map((call) => {
                const index = toolCount++;
                return {
                  index,
                  id: toolCallId(call, index),
                  type: 'function',
                  function: {
                    name: String(call.function?.name),
                    arguments: argumentsText(call.function?.arguments),
                  },
                };
              });
            }
            const delta = deltaChunk(content, toolCalls);
            if (delta !== undefined) yield delta;
          }
          if (data.done === true) {
            yield {
              type: 'end',
              finishReason: mapOllamaDone(data.done_reason, toolCount > 0),
              usage: {
                promptTokens: count(data.prompt_eval_count),
                completionTokens: count(data.eval_count),
              },
            };
            return;
          }
        }
      }
    } catch (err) {
      throw http.mapError(err, path, signal, 'stream-broken');
    } finally {
      // Releases the connection when the caller stops early or the done line came before the body's end.
      if (!drained) await chunks.return?.();
    }
    throw signal?.aborted ? abortedError(signal) : http.brokenStream(path);
  }

  async embed(model: string, input: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    if (input.length === 0) return { vectors: [], usage: { promptTokens: 0 } };
    const path = this.#embedPath;
    const body = (await this.#http.postJson(
      path,
      this.#headers,
      JSON.stringify({ model, input }),
      signal,
    )) as {
      embeddings?: unknown;
      prompt_eval_count?: unknown;
    } | null;
    const rows = body?.embeddings;
    if (!Array.isArray(rows) || rows.length !== input.length) {
      throw this.#http.fail('bad-response', path, `answered without ${input.length} embeddings`, {
        status: 200,
      });
    }
    for (const row of rows) {
      if (
        !Array.isArray(row) ||
        row.length === 0 ||
        !row.every((x) => typeof x === 'number' && Number.isFinite(x))
      ) {
        throw this.#http.fail('bad-response', path, 'answered with a malformed embedding', { status: 200 });
      }
    }
    return { vectors: rows as number[][], usage: { promptTokens: count(body?.prompt_eval_count) } };
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  #body(request: ChatRequest, stream: boolean): string {
    const wire: Record<string, unknown> = {
      model: request.model,
      messages: request.messages.map(mapMessage),
      stream,
    };
    const options: Record<string, unknown> = {};
    let hasOptions = false;
    if (request.maxTokens !== undefined) {
      options['num_predict'] = request.maxTokens;
      hasOptions = true;
    }
    if (request.temperature !== undefined) {
      options['temperature'] = request.temperature;
      hasOptions = true;
    }
    if (request.topP !== undefined) {
      options['top_p'] = request.topP;
      hasOptions = true;
    }
    if (request.stop !== undefined && request.stop.length > 0) {
      options['stop'] = request.stop;
      hasOptions = true;
    }
    if (hasOptions) wire['options'] = options;
    if (request.tools !== undefined && request.tools.length > 0) wire['tools'] = request.tools;
    return JSON.stringify(wire);
  }
}
