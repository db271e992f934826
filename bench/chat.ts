/**
 * Chat benchmarks (issue goals in docs/chat.md):
 *
 * 1. Added latency of Jamey in front of an OpenAI-compatible upstream that answers at once (a fake
 *    service in its own process): the load generator (a third process) offers 500 requests/s
 *    open-loop, once straight to the upstream and once through Jamey (authentication, rate limit,
 *    validation, routing, breaker, context assembly with the tokenizer, the upstream call over a
 *    kept-alive pool, usage and cost, the turn recorded as history and episodic memory), in
 *    alternating rounds. Added p50 and p99 = Jamey's minus the direct call's. Goal: p50 < 1 ms,
 *    p99 < 3 ms (published anchors: Portkey about 2.4 ms, LiteLLM about 4 ms).
 *    The same again with a different question each request (reported): every turn is then a new
 *    episodic memory to embed and index, where a repeated question merges with its copies.
 * 2. The full chat pipeline on the built-in local provider with an entity's memory (recall over its
 *    memories, context assembly, answer, recording): requests/s and p99, closed-loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createJamey } from '../src/jamey.js';
import { median, type Row } from './lib.js';
import { drive } from './load/drive.js';
import type { LoadResult } from './load/generator.js';
import { corpus } from './memory.js';

const UPSTREAM = fileURLToPath(new URL('./load/upstream.js', import.meta.url));
const RATE = 500;

/** The fake upstream (load/upstream.ts) in its own process; resolves once it listens. */
export async function startUpstream(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return { url, child };
}

/** The fake upstream as a configured provider: model `up`, served upstream as `gpt-up`. */
export function upstreamProvider(url: string, connections: number) {
  return {
    name: 'upstream',
    kind: 'openai' as const,
    baseUrl: `${url}/v1`,
    connections,
    models: [
      { id: 'up', upstream: 'gpt-up', contextTokens: 128_000, pricePerMTokIn: 0.15, pricePerMTokOut: 0.6 },
    ],
  };
}

const QUESTION = 'Summarise the plot of a short story about a lighthouse keeper.';

interface Round {
  direct: LoadResult;
  jamey: LoadResult;
}

const allOk = (r: LoadResult) => (r.statuses['200'] ?? 0) === r.requests && r.errors === 0 && !r.dropped;

/** Medians over the rounds: Jamey's and the direct call's p50/p99, and the differences. */
function summarise(rounds: readonly Round[]) {
  const m = (f: (r: Round) => number) => median(rounds.map(f));
  return {
    added50: m((r) => r.jamey.p50 - r.direct.p50),
    added99: m((r) => r.jamey.p99 - r.direct.p99),
    jamey50: m((r) => r.jamey.p50),
    jamey99: m((r) => r.jamey.p99),
    direct50: m((r) => r.direct.p50),
    direct99: m((r) => r.direct.p99),
  };
}

export async function chat(time?: number): Promise<Row[]> {
  const durationMs = time ?? 4000;
  const dir = mkdtempSync(join(tmpdir(), 'jamey-bench-chat-'));
  const upstream = await startUpstream();
  // The upstream must not outlive a failed run (it holds this process's stderr).
  process.once('exit', () => upstream.child.kill('SIGKILL'));
  const unlimited = { rps: 1e6, burst: 1e6 };
  const jamey = createJamey(
    { dataDir: dir, logLevel: 'silent' },
    {
      // One load generator on one address: its connection and rate ceilings are raised.
      security: { preAuthIpLimit: unlimited, ddos: { maxConnectionsPerIp: 1024 } },
      llm: {
        env: {},
        providers: [upstreamProvider(upstream.url, 64)],
      },
    },
  );
  await jamey.start();
  const key = await jamey.keys.createKey({ name: 'bench', scopes: ['chat'], rateLimit: unlimited });
  const server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' };
  /** Open-loop load at RATE, cycling through `questions` as single-turn chats to `model`. */
  const ask = (
    url: string,
    h: Record<string, string>,
    model: string,
    questions: readonly string[],
    ms: number,
  ) =>
    drive({
      url,
      method: 'POST',
      headers: h,
      bodies: questions.map((q) => JSON.stringify({ model, messages: [{ role: 'user', content: q }] })),
      rate: RATE,
      durationMs: ms,
    });
  /** Three alternating rounds: straight to the upstream, then through Jamey. */
  const alternate = async (questions: readonly string[]): Promise<Round[]> => {
    const out: Round[] = [];
    for (let r = 0; r < 3; r++) {
      const direct = await ask(
        `${upstream.url}/v1/chat/completions`,
        { 'content-type': 'application/json' },
        'gpt-up',
        questions,
        durationMs,
      );
      out.push({
        direct,
        jamey: await ask(`${base}/v1/chat/completions`, headers, 'up', questions, durationMs),
      });
    }
    return out;
  };
  let rounds: Round[] = [];
  let variedRounds: Round[] = [];
  let pipeline: LoadResult[] = [];
  try {
    // One discarded second at the same load first: connections, JIT and first-use costs are not
    // what this measures.
    await ask(`${base}/v1/chat/completions`, headers, 'up', [QUESTION], 1000);
    rounds = await alternate([QUESTION]);
    // The same with a different question each request, as real traffic has: every turn is then a
    // new episodic memory (embedded, indexed) rather than a copy of the last.
    const asked = corpus(13);
    variedRounds = await alternate(Array.from({ length: 2000 }, () => asked().slice(0, 80)));
    // The pipeline's entity and its memories are stored after the latency rounds, so that storing
    // them (embedding, indexing, consolidation) does not run beside those rounds.
    // The entity's memories: sentences of English words drawn by frequency (Zipf), so that full-text
    // posting lists have realistic lengths, as in the recall benchmark.
    const sentence = corpus(7);
    for (let i = 0; i < 1000; i++) {
      await jamey.memory.store('long-term', sentence(), { entityId: 'reader' });
    }
    // Questions vary as a user's would (the same one asked thousands of times would fill the
    // entity's episodic memory with copies of itself).
    const questions = Array.from(
      { length: 2000 },
      () => `What do you remember about ${sentence().slice(0, 60)}?`,
    );
    pipeline = [];
    for (let r = 0; r < 3; r++) {
      pipeline.push(
        await drive({
          url: `${base}/v1/chat/completions`,
          method: 'POST',
          headers,
          bodies: questions.map((q) =>
            JSON.stringify({
              model: 'jamey-local',
              user: 'reader',
              messages: [{ role: 'user', content: q }],
            }),
          ),
          connections: 16,
          durationMs,
        }),
      );
    }
    await jamey.chat.settled();
  } finally {
    await server.shutdown();
    await jamey.close();
    upstream.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = (rs: readonly Round[]) => rs.every((r) => allOk(r.jamey) && allOk(r.direct));
  const fixed = summarise(rounds);
  const v = summarise(variedRounds);
  return [
    {
      suite: 'chat',
      name: `added p50 in front of an OpenAI-compatible upstream, ${RATE} req/s open-loop`,
      value: fixed.added50,
      unit: `ms (Jamey ${fixed.jamey50.toFixed(2)}, direct ${fixed.direct50.toFixed(2)})`,
      baseline: fixed.direct50,
      baselineName: 'direct call to the upstream, same load',
      goal: '< 1 ms',
      met: ok(rounds) && fixed.added50 < 1,
    },
    {
      suite: 'chat',
      name: `added p99 in front of an OpenAI-compatible upstream, ${RATE} req/s open-loop`,
      value: fixed.added99,
      unit: `ms (Jamey ${fixed.jamey99.toFixed(2)}, direct ${fixed.direct99.toFixed(2)})`,
      baseline: fixed.direct99,
      baselineName: 'direct call to the upstream, same load',
      goal: '< 3 ms',
      met: ok(rounds) && fixed.added99 < 3,
    },
    {
      suite: 'chat',
      name: `added p50 / p99, a different question each request, ${RATE} req/s open-loop`,
      value: v.added50,
      unit: `ms p50, ${v.added99.toFixed(2)} ms p99 (Jamey ${v.jamey50.toFixed(2)} / ${v.jamey99.toFixed(2)})`,
      baseline: v.direct50,
      baselineName: 'direct call to the upstream, same questions and load',
      goal: 'report',
      met: ok(variedRounds),
    },
    {
      suite: 'chat',
      name: 'full chat pipeline, local provider, entity with 1000 memories, 16 connections',
      value: median(pipeline.map((r) => r.rps)),
      unit: `req/s (p50 ${median(pipeline.map((r) => r.p50)).toFixed(2)} ms, p99 ${median(pipeline.map((r) => r.p99)).toFixed(2)} ms)`,
      goal: 'report',
      met: pipeline.every(allOk),
    },
  ];
}
