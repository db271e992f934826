/**
 * One chat turn, end to end (docs/chat.md): the context actor prepares history, memories and the
 * preferred model; the router actor plans the candidates (budget, breakers, score); each candidate
 * gets the prompt assembled for its own context window and is called, with retries on retryable
 * errors (backoff with equal jitter) and fallback to the next candidate before the first token;
 * every attempt's outcome goes back to the router (breaker, latency, spend); the turn is then
 * recorded (conversation history and an episodic memory) right after the answer is sent, and a
 * later request in the same conversation waits for that record before it reads the history.
 *
 * Identical non-streaming requests with temperature 0 are answered from the L1 response cache
 * (per tenant and entity, `cacheTtlMs`), unless they continue a stored conversation.
 */
import { createHash } from 'node:crypto';
import { JameyError } from '../../runtime/errors.js';
import { randomId } from '../../runtime/ids.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { CacheMode } from '../cache/tiered-cache.js';
import type { Evaluation } from '../conscience/evaluate.js';
import type { ModelInfo } from '../llm/config.js';
import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  FinishReason,
  LlmProvider,
  RecalledMemory,
  ToolCall,
  ToolCallDelta,
  Usage,
} from '../llm/types.js';
import {
  type AttemptReport,
  capabilityNeeds,
  type ModelStatus,
  ROUTER_ACTOR,
  type RoutePlan,
  type RouterMessage,
} from '../router/router.js';
import { type AssembledPrompt, assemblePrompt } from './assemble.js';
import { CONTEXT_ACTOR, type ContextMessage, type Prepared, type RecordInput } from './context.js';
import { newConversationId, type TurnInput } from './conversations.js';
import { messageTokens, type Tokenizer } from './tokenizer.js';

/** The OpenAI chat-completions request body (validated by the route's JSON Schema). */
export interface ChatCompletionBody {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  tools?: unknown[];
  tool_choice?: unknown;
  response_format?: { type?: string } | null;
  user?: string;
  /** Jamey's extension: continue a stored conversation (also the `X-Jamey-Conversation` header). */
  conversation_id?: string;
}

export interface Caller {
  readonly keyId: string | null;
  readonly tenant: string;
  /** Whose memory is used (the `user` field or the `X-Jamey-Entity` header). */
  readonly entityId: string | null;
  readonly conversationId: string | null;
  readonly signal?: AbortSignal;
  readonly cacheMode?: CacheMode;
}

export interface ChatOptions {
  /** Jamey's system prompt, first in every prompt ("" for none). */
  readonly systemPrompt: string;
  /** Attempts per model after the first, on retryable errors. @default 1 */
  readonly retries: number;
  /** Base of the exponential backoff between attempts. @default 100 */
  readonly backoffMs: number;
  /** Answer budget when the request sets none: min(this, the model's max output). @default 1024 */
  readonly defaultMaxTokens: number;
  /** Lifetime of cached temperature-0 answers. @default 300000 */
  readonly cacheTtlMs: number;
  /**
   * Which turns are also stored as episodic memory: every turn, only turns of a named entity, or
   * none (history is stored either way). @default "all"
   */
  readonly episodes: 'all' | 'entity' | 'none';
  /**
   * How long answered questions wait to be observed together (predictive scoring, then the
   * workspace): the questions of one window reach the predictive actor at once and are scored in
   * one pool task instead of one each (0: each on the next turn of the event loop). @default 10
   */
  readonly observeWindowMs: number;
}

export const DEFAULT_CHAT_OPTIONS: Readonly<ChatOptions> = Object.freeze({
  systemPrompt: 'You are Jamey, a helpful assistant with a long-term memory.',
  retries: 1,
  backoffMs: 100,
  defaultMaxTokens: 1024,
  cacheTtlMs: 300_000,
  episodes: 'all',
  observeWindowMs: 10,
});

/** What the response cache needs (TieredCache<string>). */
export interface ChatCache {
  getOrComputeResult(
    tenant: string,
    key: string,
    compute: () => Promise<string>,
    options?: { mode?: CacheMode; ttlMs?: number },
  ): Promise<{ value: string; source: string }>;
}

export interface CompletionOutcome {
  /** The response body as JSON text (what the cache stores). */
  readonly json: string;
  readonly conversationId: string | null;
  readonly cached: boolean;
}

export interface OpenedStream {
  readonly model: ModelInfo;
  readonly conversationId: string;
  /** OpenAI `chat.completion.chunk` objects; throws (coded) if the stream breaks. */
  readonly chunks: AsyncIterable<Record<string, unknown>>;
}

export interface ChatDeps {
  readonly runtime: Runtime;
  readonly providers: ReadonlyMap<string, LlmProvider>;
  readonly tokenizer: () => Tokenizer;
  readonly options?: Partial<ChatOptions>;
  readonly cache?: ChatCache;
}

function completionId(): string {
  return `chatcmpl-${randomId(12)}`;
}

function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'user' && m.content !== null) return m.content;
  }
  return '';
}

function failureOf(err: unknown): { retryable: boolean; aborted: boolean } {
  const e = err as { code?: string; details?: { retryable?: unknown } };
  if (e?.code === 'JAMEY_ERR_ABORTED') return { retryable: false, aborted: true };
  if (e?.code === 'JAMEY_ERR_UPSTREAM' || e?.code === 'JAMEY_ERR_UPSTREAM_TIMEOUT') {
    return { retryable: e.details?.retryable !== false, aborted: false };
  }
  return { retryable: false, aborted: false };
}

/** The actors the chat path consults when they run (absent ones are skipped). */
export const CONSCIENCE_ACTOR = 'conscience';
export const PREDICTIVE_ACTOR = 'predictive';
export const WORKSPACE_ACTOR = 'workspace';

/** What a refusal says: the principle that blocked, and why. */
export function refusalText(e: Evaluation, what: 'request' | 'answer'): string {
  const blocking = e.principles.filter((p) => p.outcome === 'block').map((p) => p.name);
  const name = blocking[0] ?? e.principles[0]?.name ?? 'conscience';
  const why = e.reasons.find((r) => r.principle === name)?.why;
  return `I can’t help with that: the ${what} conflicts with the principle “${name}”${why === undefined ? '' : ` (${why})`}.`;
}

/** A verdict as the response reports it (no excerpts: they may quote personal data). */
function verdictSummary(e: Evaluation | null): Record<string, unknown> | null {
  if (e === null) return null;
  return {
    verdict: e.verdict,
    score: e.score,
    principles: e.principles
      .filter((p) => p.outcome !== 'allow')
      .map((p) => ({ name: p.name, outcome: p.outcome })),
  };
}

const NOTHING_PREPARED: Prepared = Object.freeze({
  history: [],
  memories: [],
  preferred: null,
  existing: false,
});

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The pseudo-model named in answers the conscience gave instead of a model. */
const REFUSAL_MODEL = { id: 'jamey-conscience', provider: 'conscience' } as ModelInfo;

function completionObject(
  model: string,
  answer: { content: string | null; toolCalls?: readonly ToolCall[] },
  finish: FinishReason,
  usage: Usage,
): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: answer.content, refusal: null };
  if (answer.toolCalls !== undefined && answer.toolCalls.length > 0) message['tool_calls'] = answer.toolCalls;
  return {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
    },
    system_fingerprint: null,
  };
}

/** A refusal as a stream: the text, then `content_filter`. */
async function* refusalChunks(text: string): AsyncGenerator<Record<string, unknown>> {
  const base = {
    id: completionId(),
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: REFUSAL_MODEL.id,
    system_fingerprint: null,
  };
  yield {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: text }, logprobs: null, finish_reason: null }],
  };
  yield { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'content_filter' }] };
}

/** Characters of new answer text between two conscience checks of a stream. */
const STREAM_CHECK_CHARS = 400;

/** A chat question as a workspace candidate (docs/workspace.md): its saliences. */
export function workspaceCandidate(
  content: string,
  entity: string | null,
  surprise: number | undefined,
  verdict: Evaluation | null,
  now: number,
): Record<string, unknown> {
  return {
    source: 'chat',
    content,
    ...(entity === null ? {} : { entity }),
    salience: {
      ...(surprise === undefined ? {} : { surprise }),
      priority: 0.5,
      ...(verdict === null ? {} : { conscience: verdict.verdict }),
    },
    postedAt: now,
  };
}

/** What the chat path reports to metrics (set by the runtime's wiring). */
export interface ChatObserver {
  conversationStarted?(): void;
  turns?(role: ChatMessage['role'], n: number): void;
  refused?(stage: 'input' | 'output'): void;
}

export class ChatService {
  observer: ChatObserver = {};
  readonly #runtime: Runtime;
  readonly #providers: ReadonlyMap<string, LlmProvider>;
  readonly #tokenizer: () => Tokenizer;
  readonly #o: ChatOptions;
  readonly #cache: ChatCache | undefined;
  /** Questions answered in the current observe window, and the timer that ends it. */
  #observing: Array<{ question: string; caller: Caller; verdict: Evaluation | null }> = [];
  #observeTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Observations under way (settled() waits for them). */
  readonly #observations = new Set<Promise<void>>();
  /** Records still being written, per conversation: the next turn reads history after them. */
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(deps: ChatDeps) {
    this.#runtime = deps.runtime;
    this.#providers = deps.providers;
    this.#tokenizer = deps.tokenizer;
    this.#o = { ...DEFAULT_CHAT_OPTIONS, ...deps.options };
    this.#cache = deps.cache;
  }

  /** The conscience's verdict on a text, or null when no conscience runs. */
  async #evaluate(text: string, role: 'user' | 'assistant', caller: Caller): Promise<Evaluation | null> {
    if (text.length === 0 || this.#runtime.system.host(CONSCIENCE_ACTOR) === undefined) return null;
    return (await this.#runtime.actor(CONSCIENCE_ACTOR).ask(
      {
        type: 'evaluate',
        text,
        context: { role },
        by: caller.keyId === null ? caller.tenant : `key:${caller.keyId}`,
        source: role === 'user' ? 'chat.input' : 'chat.output',
      },
      caller.signal === undefined ? {} : { signal: caller.signal },
    )) as Evaluation;
  }

  #router() {
    return this.#runtime.actor<RouterMessage, unknown>(ROUTER_ACTOR);
  }

  async #prepare(body: ChatCompletionBody, caller: Caller, conversationId: string | null): Promise<Prepared> {
    // Nothing stored to read and nobody's memory to use: no need to ask the context actor.
    if (conversationId === null && caller.entityId === null) return NOTHING_PREPARED;
    if (conversationId !== null) await this.#pending.get(conversationId);
    return (await this.#runtime.actor<ContextMessage, unknown>(CONTEXT_ACTOR).ask(
      {
        type: 'prepare',
        input: {
          conversationId,
          keyId: caller.keyId,
          entityId: caller.entityId,
          query: lastUserText(body.messages),
          wantPreferred: body.model === undefined || body.model === 'auto',
        },
      },
      caller.signal === undefined ? {} : { signal: caller.signal },
    )) as Prepared;
  }

  async #plan(body: ChatCompletionBody, caller: Caller, prepared: Prepared): Promise<RoutePlan> {
    const tk = this.#tokenizer();
    let estimate = 0;
    for (const m of body.messages) estimate += messageTokens(tk, m);
    return (await this.#router().ask({
      type: 'plan',
      input: {
        model: body.model,
        preferred: prepared.preferred,
        keyId: caller.keyId,
        needs: {
          capabilities: capabilityNeeds(body),
          promptTokens: estimate,
          reserveTokens: body.max_completion_tokens ?? body.max_tokens ?? this.#o.defaultMaxTokens,
        },
      },
    })) as RoutePlan;
  }

  #request(
    body: ChatCompletionBody,
    model: ModelInfo,
    prepared: Prepared,
  ): { request: ChatRequest; prompt: AssembledPrompt } {
    const maxTokens = Math.min(
      body.max_completion_tokens ?? body.max_tokens ?? this.#o.defaultMaxTokens,
      model.maxOutputTokens,
    );
    const prompt = assemblePrompt(this.#tokenizer(), {
      systemPrompt: this.#o.systemPrompt,
      messages: body.messages,
      history: prepared.history,
      memories: prepared.memories,
      contextTokens: model.contextTokens,
      reserveTokens: maxTokens,
    });
    const stop = body.stop == null ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
    const request: ChatRequest = {
      model: model.upstream,
      messages: prompt.messages,
      maxTokens,
      ...(body.temperature == null ? {} : { temperature: body.temperature }),
      ...(body.top_p == null ? {} : { topP: body.top_p }),
      ...(stop === undefined ? {} : { stop }),
      ...(body.tools === undefined ? {} : { tools: body.tools }),
      ...(body.tool_choice === undefined ? {} : { toolChoice: body.tool_choice }),
      memories: prompt.memoriesUsed as RecalledMemory[],
    };
    return { request, prompt };
  }

  #provider(model: ModelInfo): LlmProvider {
    const p = this.#providers.get(model.provider);
    if (p === undefined)
      throw new JameyError('JAMEY_ERR_INTERNAL', `provider "${model.provider}" is not running`);
    return p;
  }

  #report(report: AttemptReport): void {
    try {
      this.#router().tell({ type: 'report', report }, { priority: 'high' });
    } catch (err) {
      this.#runtime.log.warn('router report dropped', { err, model: report.model });
    }
  }

  /** Reports a failed attempt (or an aborted one) to the router; returns how it was classed. */
  #reportFailure(model: ModelInfo, err: unknown, started: number): { retryable: boolean; aborted: boolean } {
    const f = failureOf(err);
    this.#report({
      model: model.id,
      outcome: f.aborted ? 'aborted' : 'failed',
      retryable: f.retryable,
      latencyMs: this.#runtime.clock.now() - started,
    });
    return f;
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const clock = this.#runtime.clock;
      const t = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clock.clearTimeout(t);
        reject(new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Backoff before retry `attempt` (0-based): equal jitter over base × 2^attempt. */
  #backoff(attempt: number): number {
    const cap = this.#o.backoffMs * 2 ** attempt;
    return cap / 2 + Math.random() * (cap / 2);
  }

  /**
   * Runs `call` on each candidate in turn, with retries, until one succeeds; returns its value with
   * the model and prompt. Errors that are not the model's fault (validation, abort) stop at once.
   */
  async #attempt<T>(
    plan: RoutePlan,
    body: ChatCompletionBody,
    prepared: Prepared,
    caller: Caller,
    call: (
      provider: LlmProvider,
      request: ChatRequest,
      model: ModelInfo,
    ) => Promise<{ value: T; usage?: Usage; open?: boolean }>,
  ): Promise<{ value: T; model: ModelInfo; prompt: AssembledPrompt; started: number }> {
    let last: unknown;
    for (const model of plan.candidates) {
      const { request, prompt } = this.#request(body, model, prepared);
      const provider = this.#provider(model);
      for (let attempt = 0; attempt <= this.#o.retries; attempt++) {
        if (!((await this.#router().ask({ type: 'acquire', model: model.id })) as boolean)) {
          last ??= new JameyError('JAMEY_ERR_NO_MODEL', `the circuit breaker of "${model.id}" is open`);
          break;
        }
        const started = this.#runtime.clock.now();
        try {
          const { value, usage, open } = await call(provider, request, model);
          // An opened stream is reported when it ends (its outcome is not known yet).
          if (open !== true)
            this.#report({
              model: model.id,
              outcome: 'ok',
              latencyMs: this.#runtime.clock.now() - started,
              keyId: caller.keyId,
              ...(usage === undefined ? {} : { usage }),
            });
          return { value, model, prompt, started };
        } catch (err) {
          const f = this.#reportFailure(model, err, started);
          if (f.aborted || (err as { code?: string }).code === 'JAMEY_ERR_VALIDATION') throw err;
          last = err;
          this.#runtime.log.warn('model attempt failed', {
            model: model.id,
            attempt,
            code: (err as { code?: string }).code,
            message: (err as Error).message,
          });
          if (!f.retryable) break;
          if (attempt < this.#o.retries) await this.#sleep(this.#backoff(attempt), caller.signal);
        }
      }
    }
    throw last ?? new JameyError('JAMEY_ERR_NO_MODEL');
  }

  #record(
    body: ChatCompletionBody,
    caller: Caller,
    conversationId: string,
    model: ModelInfo,
    answer: { content: string | null; toolCalls?: readonly ToolCall[] },
    completionTokens: number,
  ): void {
    const tk = this.#tokenizer();
    const turns: TurnInput[] = [];
    for (const m of body.messages) {
      if (m.role === 'system') continue;
      turns.push({
        role: m.role,
        content: m.content,
        ...(m.name === undefined ? {} : { name: m.name }),
        ...(m.tool_calls === undefined ? {} : { toolCalls: m.tool_calls }),
        ...(m.tool_call_id === undefined ? {} : { toolCallId: m.tool_call_id }),
        tokens: messageTokens(tk, m),
      });
    }
    turns.push({
      role: 'assistant',
      content: answer.content,
      ...(answer.toolCalls === undefined || answer.toolCalls.length === 0
        ? {}
        : { toolCalls: answer.toolCalls }),
      model: model.id,
      tokens: completionTokens,
    });
    const question = lastUserText(body.messages);
    if (caller.conversationId === null) this.observer.conversationStarted?.();
    for (const t of turns) this.observer.turns?.(t.role, 1);
    const input: RecordInput = {
      conversationId,
      entityId: caller.entityId,
      keyId: caller.keyId,
      turns,
      model: model.id,
      episode:
        (question.length === 0 && answer.content === null) ||
        this.#o.episodes === 'none' ||
        (this.#o.episodes === 'entity' && caller.entityId === null)
          ? null
          : `User: ${question}\nAssistant: ${answer.content ?? '(called tools)'}`,
    };
    // After the response is written (setImmediate runs after this turn's I/O callbacks).
    const p = nextTurn()
      .then(() =>
        this.#runtime
          .actor<ContextMessage, unknown>(CONTEXT_ACTOR)
          .ask({ type: 'record', input }, { deadlineMs: 30_000 }),
      )
      .catch(() => undefined)
      .finally(() => {
        if (this.#pending.get(conversationId) === p) this.#pending.delete(conversationId);
      });
    this.#pending.set(conversationId, p);
  }

  /** The configured models with their health. */
  async models(): Promise<ModelListing> {
    const router = this.#router();
    const [models, status] = await Promise.all([
      router.ask({ type: 'models' }),
      router.ask({ type: 'status' }),
    ]);
    return { models: models as ModelInfo[], status: status as ModelStatus[] };
  }

  /** Embeddings through the router (budget, breaker, usage) from a model with the capability. */
  async embed(
    input: { model?: string | undefined; texts: readonly string[]; dimensions?: number | undefined },
    caller: Caller,
  ): Promise<EmbeddingsOutcome> {
    const plan = (await this.#router().ask({
      type: 'plan',
      input: {
        model: input.model,
        keyId: caller.keyId,
        needs: { capabilities: ['embeddings'], promptTokens: 0, reserveTokens: 0 },
      },
    })) as RoutePlan;
    const model = plan.candidates[0] as ModelInfo;
    if (
      input.dimensions !== undefined &&
      model.dimensions !== undefined &&
      input.dimensions !== model.dimensions
    ) {
      throw new JameyError(
        'JAMEY_ERR_VALIDATION',
        `the model "${model.id}" gives ${model.dimensions}-d vectors`,
        {
          details: [{ path: '/dimensions', problem: `must be ${model.dimensions} for this model` }],
        },
      );
    }
    const provider = this.#provider(model);
    if (provider.embed === undefined) {
      throw new JameyError('JAMEY_ERR_VALIDATION', `the provider of "${model.id}" has no embeddings`);
    }
    if (!((await this.#router().ask({ type: 'acquire', model: model.id })) as boolean)) {
      throw new JameyError('JAMEY_ERR_NO_MODEL', `the circuit breaker of "${model.id}" is open`);
    }
    const started = this.#runtime.clock.now();
    try {
      const r = await provider.embed(model.upstream, input.texts, caller.signal);
      this.#report({
        model: model.id,
        outcome: 'ok',
        latencyMs: this.#runtime.clock.now() - started,
        keyId: caller.keyId,
        usage: { promptTokens: r.usage.promptTokens, completionTokens: 0 },
      });
      return { model, vectors: r.vectors, promptTokens: r.usage.promptTokens };
    } catch (err) {
      this.#reportFailure(model, err, started);
      throw err;
    }
  }

  /** Waits until every turn recorded so far is stored (tests, shutdown). */
  async settled(): Promise<void> {
    this.#flushObservations();
    while (this.#pending.size > 0 || this.#observations.size > 0) {
      await Promise.all([...this.#pending.values(), ...this.#observations]);
    }
  }

  /** A non-streaming completion: the OpenAI `chat.completion` object as JSON text. */
  async complete(body: ChatCompletionBody, caller: Caller): Promise<CompletionOutcome> {
    const cacheable =
      this.#cache !== undefined &&
      body.temperature === 0 &&
      caller.conversationId === null &&
      body.stream !== true;
    if (!cacheable) return this.#complete(body, caller);
    const key = `chat\u0000${caller.entityId ?? ''}\u0000${createHash('sha256').update(JSON.stringify(body)).digest('base64url')}`;
    let fresh: CompletionOutcome | undefined;
    const r = await (this.#cache as ChatCache).getOrComputeResult(
      caller.tenant,
      key,
      async () => {
        fresh = await this.#complete(body, caller);
        return fresh.json;
      },
      { ttlMs: this.#o.cacheTtlMs, ...(caller.cacheMode === undefined ? {} : { mode: caller.cacheMode }) },
    );
    if (fresh !== undefined) return fresh;
    return { json: r.value, conversationId: null, cached: true };
  }

  /**
   * The answer to a request the conscience blocked: no model is called; the refusal is counted, the
   * turn recorded and the question observed.
   */
  #refused(
    body: ChatCompletionBody,
    caller: Caller,
    question: string,
    verdict: Evaluation,
  ): { text: string; conversationId: string } {
    this.observer.refused?.('input');
    this.#observe(question, caller, verdict);
    const text = refusalText(verdict, 'request');
    const conversationId = caller.conversationId ?? newConversationId();
    this.#record(
      body,
      caller,
      conversationId,
      REFUSAL_MODEL,
      { content: text },
      this.#tokenizer().count(text),
    );
    return { text, conversationId };
  }

  async #complete(body: ChatCompletionBody, caller: Caller): Promise<CompletionOutcome> {
    const conversationId = caller.conversationId;
    const question = lastUserText(body.messages);
    const verdictIn = await this.#evaluate(question, 'user', caller);
    if (verdictIn?.verdict === 'block') {
      const refused = this.#refused(body, caller, question, verdictIn);
      const response = completionObject(REFUSAL_MODEL.id, { content: refused.text }, 'content_filter', {
        promptTokens: 0,
        completionTokens: 0,
      });
      response['jamey'] = {
        conversation_id: refused.conversationId,
        memories: 0,
        turns_dropped: 0,
        conscience: { input: verdictSummary(verdictIn), output: null },
      };
      return { json: JSON.stringify(response), conversationId: refused.conversationId, cached: false };
    }
    const prepared = await this.#prepare(body, caller, conversationId);
    const plan = await this.#plan(body, caller, prepared);
    const { value, model, prompt } = await this.#attempt<ChatResult>(
      plan,
      body,
      prepared,
      caller,
      async (p, req) => {
        const r = await p.complete(req, caller.signal);
        return { value: r, usage: r.usage };
      },
    );
    let content = value.content;
    let finish: FinishReason = value.finishReason;
    const verdictOut = content === null ? null : await this.#evaluate(content, 'assistant', caller);
    if (verdictOut?.verdict === 'block') {
      this.observer.refused?.('output');
      content = refusalText(verdictOut, 'answer');
      finish = 'content_filter';
    }
    const conv = conversationId ?? newConversationId();
    const toolCalls = finish === 'content_filter' ? undefined : value.toolCalls;
    this.#record(
      body,
      caller,
      conv,
      model,
      { content, ...(toolCalls === undefined ? {} : { toolCalls }) },
      value.usage.completionTokens,
    );
    this.#observe(question, caller, verdictIn);
    const response = completionObject(
      model.id,
      { content, ...(toolCalls === undefined ? {} : { toolCalls }) },
      finish,
      value.usage,
    );
    response['jamey'] = {
      conversation_id: conv,
      memories: prompt.memoriesUsed.length,
      turns_dropped: prompt.turnsDropped,
      conscience: { input: verdictSummary(verdictIn), output: verdictSummary(verdictOut) },
    };
    return { json: JSON.stringify(response), conversationId: conv, cached: false };
  }

  /**
   * After a turn, off the request's path: the question is scored by predictive processing (its
   * surprise) and posted to the global workspace as a candidate; failures are logged, never raised.
   */
  #observe(question: string, caller: Caller, verdict: Evaluation | null): void {
    if (question.length === 0) return;
    if (
      this.#runtime.system.host(PREDICTIVE_ACTOR) === undefined &&
      this.#runtime.system.host(WORKSPACE_ACTOR) === undefined
    ) {
      return;
    }
    this.#observing.push({ question, caller, verdict });
    if (this.#observeTimer !== undefined) return;
    const flush = (): void => {
      this.#observeTimer = undefined;
      this.#flushObservations();
    };
    // Real time, not the runtime clock: the window batches work, it is not part of the model.
    // Unref'd: close() and settled() flush what is waiting.
    this.#observeTimer =
      this.#o.observeWindowMs > 0
        ? setTimeout(flush, this.#o.observeWindowMs).unref()
        : setImmediate(flush).unref();
  }

  /** Sends the window's questions to the predictive actor together, then each to the workspace. */
  #flushObservations(): void {
    if (this.#observeTimer !== undefined) {
      clearTimeout(this.#observeTimer as NodeJS.Timeout);
      clearImmediate(this.#observeTimer as NodeJS.Immediate);
      this.#observeTimer = undefined;
    }
    const items = this.#observing;
    if (items.length === 0) return;
    this.#observing = [];
    const hasPredictive = this.#runtime.system.host(PREDICTIVE_ACTOR) !== undefined;
    const hasWorkspace = this.#runtime.system.host(WORKSPACE_ACTOR) !== undefined;
    for (const { question, caller, verdict } of items) {
      // The asks leave in one synchronous loop, so they land in one turn of the predictive actor.
      const scored = hasPredictive
        ? this.#runtime.actor(PREDICTIVE_ACTOR).ask(
            {
              type: 'score',
              input: {
                text: question,
                ...(caller.entityId === null ? {} : { entity: caller.entityId }),
                learn: true,
              },
            },
            { deadlineMs: 5000, priority: 'low' },
          )
        : Promise.resolve(null);
      const done = (scored as Promise<{ surprise?: { score?: number } } | null>)
        .then((r) => {
          if (!hasWorkspace) return;
          this.#runtime.actor(WORKSPACE_ACTOR).tell(
            {
              type: 'post',
              candidate: workspaceCandidate(
                question,
                caller.entityId,
                r?.surprise?.score,
                verdict,
                this.#runtime.clock.now(),
              ),
            },
            { priority: 'low' },
          );
        })
        .catch((err: unknown) => {
          this.#runtime.log.debug('turn not observed', { err });
        })
        .finally(() => {
          this.#observations.delete(done);
        });
      this.#observations.add(done);
    }
  }

  /**
   * Opens a stream: resolves once a model has produced its first chunk (so failures before it fall
   * back, and the HTTP layer can still answer with an error status); later failures are thrown by
   * the chunk iterator and must end the client's stream with an error, never a clean end.
   */
  async openStream(body: ChatCompletionBody, caller: Caller): Promise<OpenedStream> {
    const conversationId = caller.conversationId;
    const question = lastUserText(body.messages);
    const verdictIn = await this.#evaluate(question, 'user', caller);
    if (verdictIn?.verdict === 'block') {
      const refused = this.#refused(body, caller, question, verdictIn);
      return {
        model: REFUSAL_MODEL,
        conversationId: refused.conversationId,
        chunks: refusalChunks(refused.text),
      };
    }
    this.#observe(question, caller, verdictIn);
    const prepared = await this.#prepare(body, caller, conversationId);
    const plan = await this.#plan(body, caller, prepared);
    const opened = await this.#attempt<{ it: AsyncIterator<ChatChunk>; first: IteratorResult<ChatChunk> }>(
      plan,
      body,
      prepared,
      caller,
      async (p, req) => {
        const it = p.stream(req, caller.signal)[Symbol.asyncIterator]();
        const first = await it.next();
        return { value: { it, first }, open: true };
      },
    );
    const conv = conversationId ?? newConversationId();
    return {
      model: opened.model,
      conversationId: conv,
      chunks: this.#chunks(
        body,
        caller,
        conv,
        opened.model,
        opened.prompt,
        opened.value.it,
        opened.value.first,
        opened.started,
      ),
    };
  }

  async *#chunks(
    body: ChatCompletionBody,
    caller: Caller,
    conversationId: string,
    model: ModelInfo,
    prompt: AssembledPrompt,
    it: AsyncIterator<ChatChunk>,
    first: IteratorResult<ChatChunk>,
    started: number,
  ): AsyncGenerator<Record<string, unknown>> {
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    const base = (choices: unknown[]): Record<string, unknown> => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: model.id,
      system_fingerprint: null,
      choices,
    });
    let text = '';
    const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
    let finish: FinishReason = 'stop';
    let usage: Usage | undefined;
    let ended = false;
    let firstDelta = true;
    let checkedAt = 0;
    let blocked: Evaluation | null = null;
    try {
      for (let r = first; !r.done; r = await it.next()) {
        const c = r.value;
        if (c.type === 'end') {
          finish = c.finishReason;
          usage = c.usage;
          ended = true;
          continue;
        }
        const delta: Record<string, unknown> = {};
        if (firstDelta) {
          delta['role'] = 'assistant';
          firstDelta = false;
        }
        if (c.content !== undefined) {
          delta['content'] = c.content;
          text += c.content;
          if (text.length - checkedAt >= STREAM_CHECK_CHARS) {
            checkedAt = text.length;
            blocked = await this.#evaluate(text, 'assistant', caller);
            if (blocked?.verdict !== 'block') blocked = null;
            else break;
          }
        }
        if (c.toolCalls !== undefined) {
          delta['tool_calls'] = c.toolCalls;
          for (const d of c.toolCalls as readonly ToolCallDelta[]) {
            let t = calls[d.index];
            if (t === undefined) {
              t = { id: '', type: 'function', function: { name: '', arguments: '' } };
              calls[d.index] = t;
            }
            if (d.id !== undefined) t.id = d.id;
            if (d.function?.name !== undefined) t.function.name += d.function.name;
            if (d.function?.arguments !== undefined) t.function.arguments += d.function.arguments;
          }
        }
        yield base([{ index: 0, delta, logprobs: null, finish_reason: null }]);
      }
      if (blocked === null && ended && text.length > checkedAt) {
        const v = await this.#evaluate(text, 'assistant', caller);
        if (v?.verdict === 'block') blocked = v;
      }
      if (blocked !== null) {
        this.observer.refused?.('output');
        // The rest of the model's answer is not wanted: close the upstream stream.
        await it.return?.();
        const refusal = `\n\n${refusalText(blocked, 'answer')}`;
        yield base([{ index: 0, delta: { content: refusal }, logprobs: null, finish_reason: null }]);
        text += refusal;
        finish = 'content_filter';
        ended = true;
      }
      if (!ended) {
        throw new JameyError('JAMEY_ERR_UPSTREAM', 'the model’s stream ended without its final event', {
          details: { provider: model.provider, url: '', reason: 'stream-broken', retryable: true },
        });
      }
    } catch (err) {
      this.#reportFailure(model, err, started);
      throw err;
    }
    const tk = this.#tokenizer();
    const used: Usage = usage ?? {
      promptTokens: prompt.promptTokens,
      completionTokens: tk.count(text) + calls.reduce((n, c) => n + tk.count(c.function.arguments), 0),
    };
    this.#report({
      model: model.id,
      outcome: 'ok',
      latencyMs: this.#runtime.clock.now() - started,
      keyId: caller.keyId,
      usage: used,
    });
    yield base([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
    if (body.stream_options?.include_usage === true) {
      const u = {
        prompt_tokens: used.promptTokens,
        completion_tokens: used.completionTokens,
        total_tokens: used.promptTokens + used.completionTokens,
      };
      yield { ...base([]), usage: u };
    }
    this.#record(
      body,
      caller,
      conversationId,
      model,
      {
        content: text.length === 0 && calls.length > 0 ? null : text,
        ...(calls.length > 0 ? { toolCalls: calls } : {}),
      },
      used.completionTokens,
    );
  }
}

export interface EmbeddingsOutcome {
  readonly model: ModelInfo;
  readonly vectors: number[][];
  readonly promptTokens: number;
}

export interface ModelListing {
  readonly models: readonly ModelInfo[];
  readonly status: readonly ModelStatus[];
}

const services = new WeakMap<Runtime, ChatService>();

export function registerChatService(runtime: Runtime, service: ChatService): void {
  services.set(runtime, service);
}

export function chatServiceOf(runtime: Runtime): ChatService {
  const s = services.get(runtime);
  if (s === undefined) throw new JameyError('JAMEY_ERR_NOT_READY', 'chat is not configured in this runtime');
  return s;
}
