/**
 * The load suite: seven endpoints of the service, each driven over loopback by the load generator
 * in a second process up a closed-loop concurrency ladder (1, 4, 16, … connections, a short step
 * each) until its goodput stops growing, then two steps past that (saturation.ts has the rules).
 *
 * The endpoints: a cached GET, a memory write, a memory search, chat on the built-in `local`
 * provider, chat through an OpenAI-compatible upstream (a fake service in its own process that
 * answers at once), Φ of a small network and the predictive model's surprise of a short text.
 * Bodies vary as real traffic does and differ from one step to the next: writes are new memories,
 * not merges into the last step's, and searches and chats miss the response cache.
 *
 * The service runs with its defaults except the per-address ceilings (all load comes from one
 * address here): pre-authentication rate, connection cap, and the key's own rate limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJamey, type Jamey } from '../../src/jamey.js';
import { BASIC_NETWORK } from '../../test/fixtures/iit/basic-network.js';
import { startUpstream, upstreamProvider } from '../chat.js';
import type { Row } from '../lib.js';
import { corpus } from '../memory.js';
import { drive } from './drive.js';
import { climb, type LoadCurve, type LoadStep, ladderRows, stepOf } from './saturation.js';

/** Distinct bodies generated per step for the endpoints whose bodies vary. */
const BODIES_PER_STEP = 20_000;
/** Memories of the entity that searches recall from. */
const SEEDED_MEMORIES = 2_000;
/**
 * Users of the local chats, each with memories of their own. Every turn is recorded as an episodic
 * memory of its user: one user alone would gain thousands in a ladder, and later steps would
 * measure a larger memory rather than more load.
 */
const CHAT_USERS = 20;
const MEMORIES_PER_CHAT_USER = 100;
const WARMUP_MS = 500;

interface Endpoint {
  endpoint: string;
  method: 'GET' | 'POST';
  path: string;
  /** Bodies for one step (a fresh seed per step), or none for a GET. */
  bodies?: (seed: number) => string[];
}

/** `n` strings from `make`, which draws from a corpus seeded with `seed`. */
function many(n: number, seed: number, make: (sentence: () => string) => string): string[] {
  const sentence = corpus(seed);
  return Array.from({ length: n }, () => make(sentence));
}

function endpoints(): Endpoint[] {
  /** Single-turn chats; with `users`, each from one of that many users in turn (their memories recalled). */
  const chat = (model: string, users: number) => (seed: number) => {
    let i = 0;
    return many(BODIES_PER_STEP, seed, (s) =>
      JSON.stringify({
        model,
        ...(users === 0 ? {} : { user: `reader-${i++ % users}` }),
        messages: [{ role: 'user', content: `What do you remember about ${s().slice(0, 60)}?` }],
      }),
    );
  };
  return [
    { endpoint: 'cached GET', method: 'GET', path: '/v1/memories?limit=10' },
    {
      endpoint: 'memory search',
      method: 'POST',
      path: '/v1/memories/search',
      bodies: (seed) =>
        many(BODIES_PER_STEP, seed, (s) =>
          JSON.stringify({ query: s().split(' ').slice(0, 4).join(' '), entityId: 'reader', limit: 5 }),
        ),
    },
    {
      endpoint: 'memory write',
      method: 'POST',
      path: '/v1/memories',
      bodies: (seed) => {
        let i = 0;
        return many(BODIES_PER_STEP, seed, (s) =>
          JSON.stringify({ layer: 'long-term', content: s(), entityId: `user-${i++ % 20}` }),
        );
      },
    },
    {
      endpoint: 'chat, local provider',
      method: 'POST',
      path: '/v1/chat/completions',
      bodies: chat('jamey-local', CHAT_USERS),
    },
    {
      endpoint: 'chat via upstream',
      method: 'POST',
      path: '/v1/chat/completions',
      bodies: chat('up', 0),
    },
    {
      endpoint: 'Φ (3 nodes)',
      method: 'POST',
      path: '/v1/phi',
      bodies: () => [JSON.stringify({ ...BASIC_NETWORK, nodes: [0, 1, 2], complex: false })],
    },
    {
      endpoint: 'predict',
      method: 'POST',
      path: '/v1/predict',
      bodies: (seed) => many(BODIES_PER_STEP, seed, (s) => JSON.stringify({ text: s() })),
    },
  ];
}

async function startService(dir: string, upstreamUrl: string): Promise<Jamey> {
  const unlimited = { rps: 1e6, burst: 1e6 };
  const jamey = createJamey(
    { dataDir: dir, logLevel: 'silent' },
    {
      // One load generator on one address: its rate and connection ceilings are raised above the
      // top of the ladder. Shedding (event-loop lag, mailbox fill) keeps its defaults.
      security: { preAuthIpLimit: unlimited, ddos: { maxConnectionsPerIp: 4096 } },
      llm: {
        env: {},
        providers: [upstreamProvider(upstreamUrl, 64)],
      },
    },
  );
  await jamey.start();
  return jamey;
}

/**
 * The memories that searches and local chats recall: Zipf-distributed English sentences (so that
 * full-text posting lists have realistic lengths), `SEEDED_MEMORIES` of entity "reader" and
 * `MEMORIES_PER_CHAT_USER` of each chat user.
 */
async function seed(jamey: Jamey): Promise<void> {
  const sentence = corpus(7);
  const owners = [
    ...Array.from({ length: SEEDED_MEMORIES }, () => 'reader'),
    ...Array.from({ length: CHAT_USERS * MEMORIES_PER_CHAT_USER }, (_, i) => `reader-${i % CHAT_USERS}`),
  ];
  const batch = 32;
  for (let i = 0; i < owners.length; i += batch) {
    await Promise.all(
      owners.slice(i, i + batch).map((entityId) => jamey.memory.store('long-term', sentence(), { entityId })),
    );
  }
}

function describeStep(e: Endpoint, s: LoadStep): string {
  const statuses = Object.entries(s.statuses)
    .map(([k, n]) => `${k}×${n}`)
    .join(' ');
  return `bench: load ${e.endpoint} @${s.connections}: ${s.okRps.toFixed(0)} 2xx/s, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, ${statuses}${s.errors > 0 ? `, ${s.errors} errors` : ''}\n`;
}

export async function loadLadder(time?: number): Promise<{ rows: Row[]; curves: LoadCurve[] }> {
  const durationMs = time ?? 1500;
  const dir = mkdtempSync(join(tmpdir(), 'jamey-bench-load-'));
  const upstream = await startUpstream();
  // The upstream must not outlive a failed run (it holds this process's stderr).
  process.once('exit', () => upstream.child.kill('SIGKILL'));
  let jamey: Jamey | undefined;
  let server: ReturnType<Jamey['server']> | undefined;
  const curves: LoadCurve[] = [];
  try {
    jamey = await startService(dir, upstream.url);
    const key = await jamey.keys.createKey({
      name: 'bench',
      scopes: ['chat', 'memory:read', 'memory:write'],
      rateLimit: { rps: 1e6, burst: 1e6 },
    });
    await seed(jamey);
    server = jamey.server();
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const headers = { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' };
    let seedNo = 100;
    for (const e of endpoints()) {
      const steps = await climb(async (connections) => {
        const bodies = e.bodies?.(seedNo++);
        const r = await drive({
          url: `${base}${e.path}`,
          method: e.method,
          headers,
          ...(bodies === undefined ? {} : { bodies }),
          connections,
          durationMs,
          warmupMs: WARMUP_MS,
        });
        const step = stepOf(connections, r);
        process.stderr.write(describeStep(e, step));
        return step;
      });
      curves.push({ endpoint: e.endpoint, method: e.method, path: e.path, steps });
      // What the last step left behind (turns being recorded, writes queued) settles before the
      // next endpoint's ladder starts.
      await jamey.chat.settled();
    }
  } finally {
    await server?.shutdown();
    await jamey?.close();
    upstream.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows: curves.flatMap((c) => ladderRows('load', c)), curves };
}
