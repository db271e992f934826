import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { Jamey } from '../src/jamey.js';
import { type Service, startService } from './fixtures/service.js';

let service: Service;
let jamey: Jamey;
let base: string;

before(async () => {
  service = await startService(
    {},
    { integratedInfo: { tickMs: 20, computeEveryMs: 200, minTransitions: 5, maxNodes: 3 } },
  );
  jamey = service.jamey;
  base = service.base;
});
after(() => service.close());

test('GET /v1/consciousness reports the live Φ of the running runtime, and /metrics has it', async () => {
  const auth = { authorization: `Bearer ${jamey.adminKey?.token}` };
  // Give the actors something to do, with pauses, so their activity varies from tick to tick.
  for (let i = 0; i < 40 && jamey.phiSnapshot() === null; i++) {
    if (i % 2 === 0) await jamey.memory.store('episodic', `event ${i}`);
    else await jamey.memory.recall({ query: `event ${i - 1}` });
    await new Promise((r) => setTimeout(r, 30));
  }
  for (let i = 0; i < 100 && jamey.phiSnapshot() === null; i++) await new Promise((r) => setTimeout(r, 20));
  const res = await request(`${base}/v1/consciousness`, { headers: auth });
  assert.equal(res.statusCode, 200);
  const body = (await res.body.json()) as {
    phi: { phi: number; nodes: string[]; method: string; reason?: string } | null;
    focus: unknown;
    broadcasts: unknown[];
    surprise: number | null;
    workspace: {
      cycleMs: number;
      capacity: number;
      candidates: number;
      counters: { broadcasts: number };
    } | null;
  };
  // Nothing was posted to the workspace and no predictive actor runs.
  assert.equal(body.focus, null);
  assert.deepEqual(body.broadcasts, []);
  assert.equal(body.surprise, null);
  assert.deepEqual(body.workspace && { cycleMs: body.workspace.cycleMs, capacity: body.workspace.capacity }, {
    cycleMs: 100,
    capacity: 7,
  });
  assert.equal(body.workspace?.counters.broadcasts, 0);
  assert.ok(body.phi !== null, 'a live Φ was computed');
  assert.ok(body.phi.phi >= 0);
  assert.ok(['exact', 'cut-one'].includes(body.phi.method));
  assert.ok(body.phi.reason !== undefined || body.phi.nodes.length >= 2, JSON.stringify(body.phi));
  const metrics = await request(`${base}/metrics`);
  assert.match(await metrics.body.text(), /^jamey_phi \d/m);
  assert.equal((await request(`${base}/v1/consciousness`)).statusCode, 401);
});
