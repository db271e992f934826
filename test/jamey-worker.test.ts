/**
 * The whole service in a worker thread behind a typed proxy: chat with memory, prediction, the
 * conscience, workspace broadcasts and coded errors; and the host's event loop stays free while
 * the worker works, compared with the same work run in the host.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { LOCAL_MODEL } from '../src/actors/llm/local.js';
import type { Broadcast } from '../src/actors/workspace/actor.js';
import { createJamey, type JameyOptions } from '../src/jamey.js';
import { createJameyInWorker, type JameyWorker } from '../src/jamey-worker.js';
import { isJameyError } from '../src/runtime/errors.js';
import type { RuntimeOptionsInput } from '../src/runtime/options.js';
import { tempDir } from './fixtures/store.js';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function options(): { runtime: RuntimeOptionsInput; jamey: JameyOptions } {
  const tmp = tempDir('jamey-worker-');
  cleanups.push(tmp.cleanup);
  const unlimited = { rps: 1e6, burst: 1e6 };
  return {
    runtime: { dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } },
    jamey: {
      // The machine's environment must not add LLM providers.
      llm: { env: {} },
      security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
      workspace: { threshold: 0 },
    },
  };
}

let jw: JameyWorker;

test('the proxy answers chat with recalled memory, predict, evaluate and workspace state', async () => {
  jw = await createJameyInWorker(options());
  cleanups.push(() => jw.close());
  assert.equal((await jw.health()).ready, true);

  const stored = await jw.memory.store('long-term', 'Sam drinks smoky lapsang souchong every morning.', {
    entityId: 'sam',
  });
  assert.equal(stored.layer, 'long-term');
  const hits = await jw.memory.recall({ query: 'which tea does Sam drink', entityId: 'sam' });
  assert.equal(hits[0]?.id, stored.id);

  const broadcasts: Broadcast[] = [];
  const unsubscribe = await jw.subscribe((b) => {
    broadcasts.push(b);
    throw new Error('a failing callback keeps its subscription');
  });

  const answer = await jw.chat(
    { model: LOCAL_MODEL, messages: [{ role: 'user', content: 'What tea do I drink in the morning?' }] },
    { entityId: 'sam' },
  );
  assert.equal(answer.object, 'chat.completion');
  assert.equal(answer.model, LOCAL_MODEL);
  assert.match(answer.choices[0]?.message.content ?? '', /smoky lapsang souchong/);
  assert.equal(answer.jamey?.memories, 1);
  assert.match(answer.jamey?.conversation_id ?? '', /^conv_/);

  // The question is posted to the workspace after the answer; with threshold 0 it is broadcast.
  const broadcast = async (text: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!broadcasts.some((b) => b.content.includes(text)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(
      broadcasts.some((b) => b.source === 'chat' && b.entity === 'sam' && b.content.includes(text)),
      `broadcasts: ${JSON.stringify(broadcasts.map((b) => b.content))}`,
    );
  };
  await broadcast('What tea');
  await jw.chat({ model: LOCAL_MODEL, user: 'sam', messages: [{ role: 'user', content: 'And for lunch?' }] });
  await broadcast('And for lunch');
  await unsubscribe();
  await unsubscribe();
  const state = await jw.workspace.state();
  assert.ok(state.counters.broadcasts >= 1);

  const p = await jw.predict({ text: 'the cat sat on the mat', entity: 'sam', learn: true });
  assert.ok(p.text.bits > 0);
  const verdict = await jw.evaluate('How do I bake bread?');
  assert.equal(verdict.verdict, 'allow');

  const metrics = await jw.metrics();
  assert.match(metrics, /jamey_memory_items/);
  const snapshot = await jw.phi();
  assert.ok(snapshot === null || typeof snapshot.phi === 'number');
});

test('errors arrive with their codes', async () => {
  await assert.rejects(
    jw.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'),
  );
  await assert.rejects(
    jw.chat({ model: LOCAL_MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    (err) => isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
  await assert.rejects(
    jw.chat({ messages: [] } as never),
    (err) => isJameyError(err, 'JAMEY_ERR_VALIDATION') && Array.isArray(err.details),
  );
  await assert.rejects(jw.memory.store('nowhere' as never, 'x'), (err) =>
    isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
});

test('close is graceful and idempotent; calls after it fail with a code', async () => {
  await Promise.all([jw.close(), jw.close()]);
  await assert.rejects(jw.health(), (err) => isJameyError(err, 'JAMEY_ERR_SHUTTING_DOWN'));
  await assert.rejects(jw.chat({ messages: [{ role: 'user', content: 'hi' }] }), (err) =>
    isJameyError(err, 'JAMEY_ERR_SHUTTING_DOWN'),
  );
});

/** The work both modes run: chats and memory stores, all in flight at once. */
interface Workload {
  chat(i: number): Promise<unknown>;
  store(i: number): Promise<unknown>;
}

async function maxDelayMs(work: Workload): Promise<{ maxMs: number; p99Ms: number; ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // The histogram records a delay between two of its ticks: one before the work, one after it.
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
  h.enable();
  await tick();
  const t0 = performance.now();
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    jobs.push(work.chat(i), work.store(i));
  }
  await Promise.all(jobs);
  const ms = performance.now() - t0;
  await tick();
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, ms };
}

const question = (i: number) => ({
  model: LOCAL_MODEL,
  messages: [{ role: 'user' as const, content: `Question ${i}: what did I say about the garden?` }],
});
const memoryText = (i: number) =>
  `Note ${i}: the tomatoes in bed ${i % 7} need water every ${(i % 3) + 1} days and shade after noon.`;

test("the host's event loop stays free while the worker works", async () => {
  const inWorker = await createJameyInWorker(options());
  cleanups.push(() => inWorker.close());
  const worker = await maxDelayMs({
    chat: (i) => inWorker.chat(question(i), { entityId: `e${i % 10}` }),
    store: (i) => inWorker.memory.store('long-term', memoryText(i), { entityId: `e${i % 10}` }),
  });
  await inWorker.close();

  const o = options();
  const jamey = createJamey(o.runtime, o.jamey);
  await jamey.start();
  cleanups.push(() => jamey.close());
  const host = await maxDelayMs({
    chat: (i) =>
      jamey.chat.complete(question(i), {
        keyId: null,
        tenant: 'embedded',
        entityId: `e${i % 10}`,
        conversationId: null,
      }),
    store: (i) => jamey.memory.store('long-term', memoryText(i), { entityId: `e${i % 10}` }),
  });
  await jamey.close();

  const line = (name: string, r: { maxMs: number; p99Ms: number; ms: number }) =>
    `${name}: host event-loop delay max ${r.maxMs.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms; work took ${r.ms.toFixed(0)} ms`;
  console.log(line('worker mode', worker));
  console.log(line('in-process ', host));
  assert.ok(worker.maxMs < 60, `worker mode: the host's loop was held for ${worker.maxMs} ms`);
  assert.ok(
    worker.maxMs * 2 < host.maxMs,
    `worker mode ${worker.maxMs} ms is not well below in-process ${host.maxMs} ms`,
  );
});
