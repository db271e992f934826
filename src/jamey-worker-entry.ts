/**
 * Worker-thread entry of `createJameyInWorker`: builds the whole service with createJamey, starts
 * it, and exposes it over comlink. Every call returns data (`TaskResult`) so codes survive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { ChatCompletionBody } from './actors/context/chat.js';
import type { Broadcast } from './actors/workspace/actor.js';
import { chatCompletionSchema } from './http/schemas/chat.js';
import { bodyValidator } from './http/validate.js';
import { createJamey, type Jamey } from './jamey.js';
import type { ChatCaller, JameyWorkerApi, JameyWorkerOptions } from './jamey-worker.js';
import { nodeEndpoint } from './runtime/comlink-node.js';
import { JameyError, toJameyError } from './runtime/errors.js';
import { defineTask, type TaskResult } from './runtime/worker-task.js';

/** Caches and quotas of calls through the proxy are scoped under this tenant. */
const TENANT = 'embedded';

const validateChat = bodyValidator<ChatCompletionBody>(
  chatCompletionSchema as unknown as Parameters<typeof bodyValidator<ChatCompletionBody>>[0],
);

/** Runs `fn` and returns its value or its error as data. */
function settle<T>(fn: () => T | Promise<T>): Promise<TaskResult<T>> {
  return defineTask<undefined, T>(fn)(undefined);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('jamey-worker-entry must run in a worker thread');
  const data = workerData as Required<JameyWorkerOptions>;
  let jamey: Jamey;
  try {
    jamey = createJamey(data.runtime, data.jamey);
    await jamey.start();
  } catch (err) {
    const e = toJameyError(err);
    port.postMessage({ type: 'jamey:failed', error: { code: e.code, message: e.message } });
    return;
  }

  const chat = defineTask(async ({ body, caller }: { body: ChatCompletionBody; caller: ChatCaller }) => {
    const valid = validateChat(body);
    if (valid.stream === true) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'streams are served by the HTTP API only', {
        details: [{ path: '/stream', problem: 'must be false' }],
      });
    }
    const out = await jamey.chat.complete(valid, {
      keyId: null,
      tenant: TENANT,
      entityId: caller.entityId ?? valid.user ?? null,
      conversationId: caller.conversationId ?? valid.conversation_id ?? null,
    });
    return out.json;
  });
  const subscriptions = new Map<number, { end: () => void; callback: (b: Broadcast) => unknown }>();
  let nextSubscription = 0;
  const release = (id: number): void => {
    const s = subscriptions.get(id);
    if (s === undefined) return;
    subscriptions.delete(id);
    s.end();
    (s.callback as unknown as Comlink.Remote<unknown>)[Comlink.releaseProxy]();
  };

  const api: JameyWorkerApi = {
    chat: (body, caller) => chat({ body, caller }),
    memoryStore: defineTask((input) => jamey.memory.store(input.layer, input.content, input)),
    memoryRecall: defineTask((input) => jamey.memory.recall(input)),
    phi: () => settle(() => jamey.phiSnapshot()),
    predict: defineTask((input) => jamey.predictive.score(input)),
    evaluate: (text, context) => settle(() => jamey.conscience.evaluate(text, context)),
    workspaceState: () => settle(() => jamey.workspace.state()),
    subscribe: defineTask((callback: (b: Broadcast) => unknown) => {
      const id = ++nextSubscription;
      // As in-process, a callback that throws does not end its subscription; only unsubscribe does.
      const end = jamey.workspace.subscribe((b) => {
        Promise.resolve(callback(b)).catch(() => {});
      }, 'embedder');
      subscriptions.set(id, { end, callback });
      return id;
    }),
    unsubscribe: async (id) => release(id),
    health: async () => jamey.runtime.health(),
    metrics: () => jamey.runtime.metrics.render(),
    close: async () => {
      for (const id of [...subscriptions.keys()]) release(id);
      await jamey.close();
    },
  };
  Comlink.expose(api, nodeEndpoint(port));
  port.postMessage({ type: 'jamey:ready' });
}

void main();
