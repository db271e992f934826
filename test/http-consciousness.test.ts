import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { JameyServer } from '../src/http/server.js';
import { createJamey, type Jamey } from '../src/jamey.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-consciousness-');
let jamey: Jamey;
let server: JameyServer;
let base: string;

before(async () => {
  jamey = createJamey(
    { dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } },
    { integratedInfo: { tickMs: 20, computeEveryMs: 200, minTransitions: 5, maxNodes: 3 } },
  );
  await jamey.start();
  server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await server.shutdown();
  await jamey.close();
  tmp.cleanup();
});

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
  };
  assert.ok(body.phi !== null, 'a live Φ was computed');
  assert.ok(body.phi.phi >= 0);
  assert.ok(['exact', 'cut-one'].includes(body.phi.method));
  assert.ok(body.phi.reason !== undefined || body.phi.nodes.length >= 2, JSON.stringify(body.phi));
  const metrics = await request(`${base}/metrics`);
  assert.match(await metrics.body.text(), /^jamey_phi \d/m);
  assert.equal((await request(`${base}/v1/consciousness`)).statusCode, 401);
});
