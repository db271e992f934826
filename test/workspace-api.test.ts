/**
 * The consciousness API over HTTP with the global workspace: POST /v1/consciousness/process with
 * small fake `predictive` and `conscience` actors (fixed replies in the shapes those actors answer),
 * validation, GET /v1/consciousness showing the broadcast as the focus, and the same route without
 * those actors.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { WorkspaceCounters } from '../src/actors/workspace/actor.js';
import { baseActivation } from '../src/actors/workspace/competition.js';
import type { JameyServer } from '../src/http/server.js';
import { createJamey, type Jamey } from '../src/jamey.js';
import type { ActorSpec } from '../src/runtime/actor.js';
import { tempDir } from './fixtures/store.js';

const PREDICTION = {
  text: { bits: 120.5, bpc: 3.1 },
  surprise: { score: 2.4, energy: 2.88, z: { text: 2.4 }, levels: ['text'] },
};
const STATS = { latest: { surprise: { score: 2.4 } }, scored: 1 };
const FLAG = {
  verdict: 'flag',
  score: 0.4,
  principles: [{ name: 'privacy', score: 0.4 }],
  reasons: [{ principle: 'privacy', span: [0, 4], why: 'a name' }],
};
const BLOCK = { verdict: 'block', score: 0.95, principles: [{ name: 'harm', score: 0.95 }], reasons: [] };

interface Running {
  jamey: Jamey;
  server: JameyServer;
  base: string;
  close(): Promise<void>;
}

/** The service with extra actors registered before it starts. */
async function start(extra: ActorSpec<unknown, unknown>[]): Promise<Running> {
  const tmp = tempDir('jamey-workspace-api-');
  const jamey = createJamey(
    { dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } },
    // The real predictive and conscience actors are left out; fakes stand in under their names.
    { llm: { env: {} }, exclude: ['conscience', 'predictive'] },
  );
  for (const spec of extra) jamey.runtime.spawn(spec);
  await jamey.start();
  const server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    jamey,
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await server.shutdown();
      await jamey.close();
      tmp.cleanup();
    },
  };
}

function fake(
  name: string,
  seen: unknown[],
  reply: (m: Record<string, unknown>) => unknown,
): ActorSpec<unknown, unknown> {
  return {
    name,
    start: () => ({
      receive(m) {
        seen.push(m);
        return reply(m as Record<string, unknown>);
      },
    }),
  };
}

const predictiveSeen: unknown[] = [];
const conscienceSeen: unknown[] = [];
let svc: Running;
let bare: Running;

before(async () => {
  svc = await start([
    fake('predictive', predictiveSeen, (m) => (m['type'] === 'stats' ? STATS : PREDICTION)),
    fake('conscience', conscienceSeen, (m) => (String(m['text']).includes('forbidden') ? BLOCK : FLAG)),
  ]);
  bare = await start([]);
});
after(async () => {
  await svc?.close();
  await bare?.close();
});

interface Reply {
  error: { code: string; details: Array<{ path: string }> };
  // POST /v1/consciousness/process
  prediction: unknown;
  conscience: { verdict: string } | null;
  candidate: { id: string; activation: number };
  cycle: { broadcast: boolean; competitors: number; winner: { id: string; content: string } | null };
  broadcastTo: string[];
  // GET /v1/consciousness
  focus: { content: string; entity: string | null } | null;
  broadcasts: Array<{ content: string }>;
  surprise: number | null;
  phi: unknown;
  workspace: { cycleMs: number; capacity: number; counters: WorkspaceCounters };
}

async function call(s: Running, method: 'GET' | 'POST', path: string, body?: unknown, auth = true) {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${s.jamey.adminKey?.token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${s.base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Reply };
}

test('POST /v1/consciousness/process runs prediction, conscience and one competition, and broadcasts', async () => {
  const content = 'Ana said the spare key is under the blue flowerpot.';
  const r = await call(svc, 'POST', '/v1/consciousness/process', { content, entityId: 'ana', priority: 0.9 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.prediction, PREDICTION);
  assert.deepEqual(r.body.conscience, FLAG);
  assert.deepEqual(predictiveSeen[0], {
    type: 'score',
    input: { text: content, entity: 'ana', learn: true },
  });
  assert.deepEqual(conscienceSeen[0], { type: 'evaluate', text: content, context: { role: 'user' } });
  // The candidate's activation is the documented formula of those saliences (decay over a few ms only).
  const expected = baseActivation(
    {
      id: 'x',
      source: 'api',
      content,
      postedAt: 0,
      salience: { surprise: 2.4, conscience: 0.4, priority: 0.9 },
    },
    null,
  );
  const candidate = r.body.candidate;
  assert.match(candidate.id, /^[0-9a-f-]{36}$/);
  assert.ok(
    candidate.activation <= expected && candidate.activation > expected * 0.99,
    `${candidate.activation}`,
  );
  assert.equal(r.body.cycle.broadcast, true);
  assert.equal(r.body.cycle.competitors, 1);
  assert.equal(r.body.cycle.winner?.id, candidate.id);
  assert.equal(r.body.cycle.winner?.content, content);
  assert.deepEqual(r.body.broadcastTo, ['memory']);

  // GET shows it as the focus, with the predictive actor's latest surprise and the workspace figures.
  const g = await call(svc, 'GET', '/v1/consciousness');
  assert.equal(g.status, 200);
  assert.equal(g.body.focus?.content, content);
  assert.equal(g.body.focus?.entity, 'ana');
  assert.equal(g.body.broadcasts[0]?.content, content);
  assert.equal(g.body.surprise, 2.4);
  assert.ok('phi' in g.body);
  assert.deepEqual(
    { cycleMs: g.body.workspace.cycleMs, capacity: g.body.workspace.capacity },
    { cycleMs: 100, capacity: 7 },
  );
  assert.equal(g.body.workspace.counters.broadcasts, 1);

  // The memory subscriber stored the broadcast as an episodic memory of the entity.
  let stored: Array<{ content: string; source: string; entityId: string }> = [];
  for (let i = 0; i < 50 && stored.length === 0; i++) {
    const page = (await svc.jamey.runtime
      .actor('memory')
      .ask({ op: 'list', layer: 'episodic', entityId: 'ana' })) as { data: typeof stored };
    stored = page.data;
    if (stored.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(stored[0]?.content, content);
  assert.equal(stored[0]?.source, 'workspace');

  const metrics = await (await request(`${svc.base}/metrics`)).body.text();
  assert.match(metrics, /^jamey_workspace_broadcasts_total 1$/m);
  assert.match(metrics, /^jamey_workspace_winner_activation_count 1$/m);
});

test('content the conscience blocks never enters the workspace', async () => {
  const r = await call(svc, 'POST', '/v1/consciousness/process', {
    content: 'something forbidden',
    priority: 1,
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.conscience?.verdict, 'block');
  assert.equal(r.body.candidate.activation, 0);
  assert.equal(r.body.cycle.broadcast, false);
  assert.deepEqual(r.body.broadcastTo, []);
  const g = await call(svc, 'GET', '/v1/consciousness');
  assert.notEqual(g.body.focus?.content, 'something forbidden');
  assert.equal(g.body.workspace.counters.dropped.blocked, 1);
});

test('validation: 400 naming each offending field, 401 without a key', async () => {
  const bad = await call(svc, 'POST', '/v1/consciousness/process', {
    content: '',
    priority: 2,
    entityId: '',
    x: 1,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'JAMEY_ERR_VALIDATION');
  const paths = bad.body.error.details.map((d) => d.path);
  for (const p of ['/content', '/priority', '/entityId', '/x'])
    assert.ok(paths.includes(p), `${p} in ${paths}`);
  const missing = await call(svc, 'POST', '/v1/consciousness/process', {});
  assert.equal(missing.status, 400);
  assert.deepEqual(
    missing.body.error.details.map((d) => d.path),
    ['/content'],
  );
  const tooLong = await call(svc, 'POST', '/v1/consciousness/process', { content: 'x'.repeat(32_769) });
  assert.equal(tooLong.status, 400);
  assert.equal((await call(svc, 'POST', '/v1/consciousness/process', { content: 'hi' }, false)).status, 401);
});

test('without predictive and conscience actors the route still competes, with nulls for them', async () => {
  const r = await call(bare, 'POST', '/v1/consciousness/process', { content: 'a plain remark', priority: 1 });
  assert.equal(r.status, 200);
  assert.equal(r.body.prediction, null);
  assert.equal(r.body.conscience, null);
  assert.equal(r.body.cycle.broadcast, true, 'priority alone can ignite');
  const g = await call(bare, 'GET', '/v1/consciousness');
  assert.equal(g.body.surprise, null);
  assert.equal(g.body.focus?.content, 'a plain remark');
});
