/**
 * The whole service (createJamey) in a worker thread, with a typed proxy for the host (comlink over
 * `worker_threads`): chat, memory, prediction, the conscience and the workspace run off the host's
 * event loop, so an application that embeds Jamey keeps its own latency while Jamey works.
 *
 * Errors cross the boundary as data (`{ ok: false, code, message, details }`) and are rethrown as
 * `JameyError`s with their codes. Options cross by structured clone, so the options that are
 * functions or objects with behaviour (a custom embedder, a Φ sampler) are not accepted here.
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { Evaluation, EvaluationContext } from './actors/conscience/evaluate.js';
import type { ChatCompletionBody } from './actors/context/chat.js';
import type { IntegratedInfoOptions, PhiSnapshot } from './actors/integrated-info/actor.js';
import type { RecallHit, RecallInput, StoredMemory, StoreInput } from './actors/memory/memory.js';
import type { Layer } from './actors/memory/types.js';
import type { PredictInput, PredictResult } from './actors/predictive/actor.js';
import type { Broadcast, WorkspaceState } from './actors/workspace/actor.js';
import type { JameyOptions } from './jamey.js';
import { nodeEndpoint } from './runtime/comlink-node.js';
import { unwrap, workerStarted } from './runtime/embed.js';
import { JameyError } from './runtime/errors.js';
import type { RuntimeOptionsInput } from './runtime/options.js';
import type { Health } from './runtime/runtime.js';
import type { TaskResult } from './runtime/worker-task.js';

/** JameyOptions that survive structured cloning (no embedder, no Φ sampler). */
export type WorkerJameyOptions = Omit<JameyOptions, 'embedder' | 'integratedInfo'> & {
  integratedInfo?: Omit<IntegratedInfoOptions, 'sampler'>;
};

export interface JameyWorkerOptions {
  /** Runtime options for the worker's runtime (data folder, pool, log level, …). */
  runtime?: RuntimeOptionsInput;
  /** Subsystem options, as for `createJamey`. */
  jamey?: WorkerJameyOptions;
}

/** Who a chat turn is for: whose memory is recalled, which stored conversation continues. */
export interface ChatCaller {
  /** @default the body's `user`, else nobody's memory */
  entityId?: string;
  /** @default the body's `conversation_id`, else a new conversation */
  conversationId?: string;
}

/** The OpenAI `chat.completion` object, with Jamey's `jamey` extension. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: unknown[] };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  system_fingerprint: null;
  jamey?: {
    conversation_id: string;
    memories: number;
    turns_dropped: number;
    conscience: { input: unknown; output: unknown };
  };
}

/** What the worker exposes; every result is data so that codes survive the thread boundary. */
export interface JameyWorkerApi {
  chat(body: ChatCompletionBody, caller: ChatCaller): Promise<TaskResult<string>>;
  memoryStore(input: StoreInput): Promise<TaskResult<StoredMemory>>;
  memoryRecall(input: RecallInput): Promise<TaskResult<RecallHit[]>>;
  phi(): Promise<TaskResult<PhiSnapshot | null>>;
  predict(input: PredictInput): Promise<TaskResult<PredictResult>>;
  evaluate(text: string, context?: EvaluationContext): Promise<TaskResult<Evaluation>>;
  workspaceState(): Promise<TaskResult<WorkspaceState>>;
  subscribe(callback: (broadcast: Broadcast) => void): Promise<TaskResult<number>>;
  unsubscribe(id: number): Promise<void>;
  health(): Promise<Health>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** The host's handle on a Jamey running in a worker thread. */
export interface JameyWorker {
  /** A non-streaming chat completion; `stream: true` is refused (use the HTTP API for streams). */
  chat(body: ChatCompletionBody, caller?: ChatCaller): Promise<ChatCompletion>;
  readonly memory: {
    store(
      layer: Layer,
      content: string,
      options?: Omit<StoreInput, 'layer' | 'content'>,
    ): Promise<StoredMemory>;
    recall(input: RecallInput): Promise<RecallHit[]>;
  };
  /** The last live Φ of the worker's runtime (null until the first computation). */
  phi(): Promise<PhiSnapshot | null>;
  predict(input: PredictInput): Promise<PredictResult>;
  evaluate(text: string, context?: EvaluationContext): Promise<Evaluation>;
  readonly workspace: { state(): Promise<WorkspaceState> };
  /**
   * Calls `callback` on the host with every workspace broadcast from now on; resolves to the
   * function that ends the subscription.
   */
  subscribe(callback: (broadcast: Broadcast) => void): Promise<() => Promise<void>>;
  health(): Promise<Health>;
  /** The Prometheus text of the worker's registry. */
  metrics(): Promise<string>;
  /** Closes Jamey gracefully (drains, flushes the store), then ends the worker. Idempotent. */
  close(): Promise<void>;
  readonly worker: Worker;
}

/** Starts createJamey + start() in a worker thread and resolves once it is ready. */
export async function createJameyInWorker(options: JameyWorkerOptions = {}): Promise<JameyWorker> {
  const worker = new Worker(new URL('./jamey-worker-entry.js', import.meta.url), {
    workerData: { runtime: options.runtime ?? {}, jamey: options.jamey ?? {} },
  });
  try {
    await workerStarted(worker, 'Jamey (in its worker)');
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const remote = Comlink.wrap<JameyWorkerApi>(nodeEndpoint(worker));
  let closing: Promise<void> | undefined;
  // A worker that dies leaves comlink's calls pending forever: fail them with the code instead.
  let gone: JameyError | undefined;
  const died = new Promise<never>((_, reject) => {
    worker.once('error', (err) => {
      gone = new JameyError('JAMEY_ERR_WORKER_CRASHED', `Jamey's worker failed: ${err.message}`, {
        cause: err,
      });
      reject(gone);
    });
    worker.once('exit', (code) => {
      gone ??= new JameyError('JAMEY_ERR_WORKER_CRASHED', `Jamey's worker exited (code ${code})`);
      reject(gone);
    });
  });
  died.catch(() => {});
  const call = <T>(p: () => Promise<T>): Promise<T> => {
    if (gone !== undefined) return Promise.reject(gone);
    return Promise.race([p(), died]);
  };
  const data = async <T>(p: () => Promise<TaskResult<T>>): Promise<T> => unwrap(await call(p));

  return {
    worker,
    chat: async (body, caller = {}) =>
      JSON.parse(await data(() => remote.chat(body, caller))) as ChatCompletion,
    memory: {
      store: (layer, content, opts = {}) => data(() => remote.memoryStore({ ...opts, layer, content })),
      recall: (input) => data(() => remote.memoryRecall(input)),
    },
    phi: () => data(() => remote.phi()),
    predict: (input) => data(() => remote.predict(input)),
    evaluate: (text, context) =>
      data(() => (context === undefined ? remote.evaluate(text) : remote.evaluate(text, context))),
    workspace: { state: () => data(() => remote.workspaceState()) },
    subscribe: async (callback) => {
      const id = await data(() => remote.subscribe(Comlink.proxy(callback)));
      let ended = false;
      return async () => {
        if (ended || gone !== undefined) return;
        ended = true;
        await call(() => remote.unsubscribe(id));
      };
    },
    health: () => call(() => remote.health()),
    metrics: () => call(() => remote.metrics()),
    close() {
      closing ??= (async () => {
        const crashed = gone;
        gone = new JameyError('JAMEY_ERR_SHUTTING_DOWN', 'Jamey in the worker is closed');
        try {
          if (crashed === undefined) await Promise.race([remote.close(), died]);
        } finally {
          remote[Comlink.releaseProxy]();
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
