/**
 * The built-in `local` provider: the embedded default, so that Jamey answers with no network and no
 * model files. It is not a language model and says so: it answers deterministically from the
 * assembled context — the memories recalled for the question and the recent turns — which makes the
 * whole chat pipeline (recall, context, routing, streaming, usage, storage) usable and testable
 * offline. Token usage is counted with the same tokenizer as the context manager: prompt tokens are
 * the prompt as sent, completion tokens the answer as produced.
 *
 * Its embeddings are the built-in offline embedder's (the memory system's default).
 */
import { JameyError } from '../../runtime/errors.js';
import { promptTokens, type Tokenizer } from '../context/tokenizer.js';
import type { EmbeddingProvider } from '../memory/embedding/provider.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  EmbeddingResult,
  LlmProvider,
} from './types.js';

export const LOCAL_MODEL = 'jamey-local';
export const LOCAL_PREAMBLE =
  'I am Jamey’s local responder: no language model is attached, so I answer from what I remember and from this conversation.';

/** Longest quote of a message in an answer, in characters. */
const QUOTE = 240;

function quote(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= QUOTE ? t : `${t.slice(0, QUOTE - 1)}…`;
}

function lastOf(
  messages: readonly ChatMessage[],
  role: ChatMessage['role'],
  skip = 0,
): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === role && m.content !== null && skip-- === 0) return m;
  }
  return undefined;
}

/** The deterministic answer to a request. */
export function localAnswer(request: ChatRequest): string {
  const parts = [LOCAL_PREAMBLE];
  const memories = request.memories ?? [];
  if (memories.length > 0) {
    parts.push('What I remember that bears on this:');
    for (const m of memories.slice(0, 3)) parts.push(`- ${quote(m.content)}`);
  } else {
    parts.push('I have no memories that bear on this yet.');
  }
  const earlier = lastOf(request.messages, 'user', 1);
  if (earlier?.content) parts.push(`Earlier you said: “${quote(earlier.content)}”`);
  const asked = lastOf(request.messages, 'user');
  if (asked?.content) parts.push(`You asked: “${quote(asked.content)}”`);
  return parts.join('\n');
}

/** Splits an answer into stream pieces: words with their following whitespace. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export interface LocalProviderOptions {
  readonly name?: string;
  readonly tokenizer: Tokenizer;
  /** Embeddings for `embed()`; without it the provider has none. */
  readonly embedder?: EmbeddingProvider;
}

export class LocalProvider implements LlmProvider {
  readonly name: string;
  readonly kind = 'local' as const;
  readonly #tokenizer: Tokenizer;
  readonly #embedder: EmbeddingProvider | undefined;
  #closed = false;

  constructor(options: LocalProviderOptions) {
    this.name = options.name ?? 'local';
    this.#tokenizer = options.tokenizer;
    this.#embedder = options.embedder;
  }

  #answer(request: ChatRequest): { text: string; finish: 'stop' | 'length'; completion: number } {
    if (this.#closed) throw new JameyError('JAMEY_ERR_SHUTTING_DOWN', 'the local provider is closed');
    const text = localAnswer(request);
    const tokens = this.#tokenizer.encode(text);
    const max = request.maxTokens;
    if (max !== undefined && tokens.length > max) {
      return { text: this.#tokenizer.decode(tokens.slice(0, max)), finish: 'length', completion: max };
    }
    return { text, finish: 'stop', completion: tokens.length };
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
    const a = this.#answer(request);
    return {
      model: request.model,
      content: a.text,
      finishReason: a.finish,
      usage: {
        promptTokens: promptTokens(this.#tokenizer, request.messages),
        completionTokens: a.completion,
      },
    };
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const a = this.#answer(request);
    for (const p of pieces(a.text)) {
      if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
      yield { type: 'delta', content: p };
    }
    yield {
      type: 'end',
      finishReason: a.finish,
      usage: {
        promptTokens: promptTokens(this.#tokenizer, request.messages),
        completionTokens: a.completion,
      },
    };
  }

  async embed(_model: string, input: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    if (this.#embedder === undefined) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'the local provider has no embedding model');
    }
    const vectors = await this.#embedder.embed([...input], signal);
    let tokens = 0;
    for (const t of input) tokens += this.#tokenizer.count(t);
    return { vectors: vectors.map((v) => Array.from(v)), usage: { promptTokens: tokens } };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
