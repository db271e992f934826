/**
 * POST /v1/phi over real HTTP on 127.0.0.1:0: the basic network's Φ through the pool (with and
 * without the integrated-info actor), the major complex, and the coded errors that name the field.
 */

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { createIntegratedInfoActor } from '../src/actors/integrated-info/actor.js';
import { buildServer, type JameyServer } from '../src/http/server.js';
import { createRuntime, type Runtime } from '../src/runtime/runtime.js';
import { BASIC_NETWORK } from './fixtures/iit/basic-network.js';

async function listen(server: JameyServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function start(setup?: (r: Runtime) => void): Promise<{ runtime: Runtime; base: string }> {
  const runtime = createRuntime({ logLevel: 'silent', pool: { maxThreads: 2 } }, { defaultMetrics: false });
  setup?.(runtime);
  await runtime.start();
  const server = buildServer(runtime);
  const base = await listen(server);
  cleanups.push(async () => {
    await server.shutdown();
    await runtime.close();
  });
  return { runtime, base };
}

const basic = BASIC_NETWORK;

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}

async function post(base: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}/v1/phi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function expectError(base: string, body: unknown, status: number, code: string, path: string) {
  const { status: got, json } = await post(base, body);
  const e = (json as ErrorBody).error;
  assert.equal(got, status, JSON.stringify(json));
  assert.equal(e.code, code);
  assert.ok(
    e.details?.some((d) => d.path === path),
    `details name ${path}: ${JSON.stringify(e.details)}`,
  );
}

interface PhiBody {
  phi: number;
  cut: { from: number[]; to: number[] } | null;
  concepts: {
    mechanism: number[];
    phi: number;
    cause: { purview: number[]; repertoire: number[] };
    effect: { purview: number[]; repertoire: number[] };
  }[];
  nodes: number[];
  elapsedMs: number;
}

describe('POST /v1/phi', async () => {
  const { base } = await start();

  it('answers the basic network: Φ 2.3125 with 4 concepts', async () => {
    const { status, json } = await post(base, { ...basic, nodes: [0, 1, 2], complex: false });
    assert.equal(status, 200);
    const r = json as PhiBody;
    assert.equal(r.phi, 2.3125);
    assert.equal(r.concepts.length, 4);
    assert.deepEqual(r.cut, { from: [1, 2], to: [0] });
    assert.deepEqual(r.nodes, [0, 1, 2]);
    assert.equal(typeof r.elapsedMs, 'number');
    const c = r.concepts[0]!;
    assert.deepEqual(Object.keys(c).sort(), ['cause', 'effect', 'mechanism', 'phi']);
    assert.equal(c.cause.repertoire.length, 2 ** c.cause.purview.length);
    assert.equal(c.effect.repertoire.length, 2 ** c.effect.purview.length);
  });

  it('takes a state-by-state TPM and no cm, and finds the major complex', async () => {
    // The basic network's TPM in state-by-state form (deterministic, so conditionally independent).
    const sbs = basic.tpm.map((row) => {
      const out = new Array<number>(8).fill(0);
      out[row[0]! | (row[1]! << 1) | (row[2]! << 2)] = 1;
      return out;
    });
    const whole = await post(base, { tpm: sbs, state: [1, 0, 0] });
    assert.equal(whole.status, 200);
    assert.equal((whole.json as PhiBody).phi, 2.3125);
    const complex = await post(base, { ...basic, complex: true });
    assert.equal(complex.status, 200);
    assert.deepEqual((complex.json as PhiBody).nodes, [0, 1, 2]);
    assert.equal((complex.json as PhiBody).phi, 2.3125);
  });

  it('names the field of each validation error (400)', async () => {
    await expectError(base, { ...basic, state: [1, 2, 0] }, 400, 'JAMEY_ERR_VALIDATION', 'state[1]');
    await expectError(base, { ...basic, tpm: basic.tpm.slice(0, 7) }, 400, 'JAMEY_ERR_VALIDATION', 'tpm');
    await expectError(
      base,
      { ...basic, tpm: basic.tpm.map((r) => r.slice(0, 2)) },
      400,
      'JAMEY_ERR_VALIDATION',
      'tpm',
    );
    const bad = basic.tpm.map((r) => [...r]);
    bad[2]![0] = 1.5;
    await expectError(base, { ...basic, tpm: bad }, 400, 'JAMEY_ERR_VALIDATION', 'tpm[2][0]');
    await expectError(base, { ...basic, extra: 1 }, 400, 'JAMEY_ERR_VALIDATION', 'extra');
    await expectError(base, { ...basic, complex: 'yes' }, 400, 'JAMEY_ERR_VALIDATION', 'complex');
    await expectError(base, { ...basic, nodes: [0, 5] }, 400, 'JAMEY_ERR_VALIDATION', 'nodes[1]');
    await expectError(base, { state: [1, 0, 0] }, 400, 'JAMEY_ERR_VALIDATION', 'tpm');
    await expectError(base, { ...basic, deadlineMs: 120_000 }, 400, 'JAMEY_ERR_VALIDATION', 'deadlineMs');
    await expectError(base, '{"tpm": [', 400, 'JAMEY_ERR_VALIDATION', '');
  });

  it('refuses a system too large for the deadline (400 naming tpm)', async () => {
    const n = 10;
    const ring = Array.from({ length: 1 << n }, (_, s) =>
      Array.from({ length: n }, (_, j) => (s >> ((j + n - 1) % n)) & 1),
    );
    const t0 = performance.now();
    await expectError(
      base,
      { tpm: ring, state: new Array(n).fill(0), deadlineMs: 1_000 },
      400,
      'JAMEY_ERR_VALIDATION',
      'tpm',
    );
    assert.ok(performance.now() - t0 < 1_000, 'refused up front');
  });

  it('answers 422 for an unreachable state and 413 for a huge body', async () => {
    await expectError(base, { ...basic, state: [0, 1, 0] }, 422, 'JAMEY_ERR_STATE_UNREACHABLE', 'state');
    const huge = JSON.stringify({ tpm: basic.tpm, state: basic.state, pad: 'x'.repeat(2 * 1024 * 1024) });
    await expectError(base, huge, 413, 'JAMEY_ERR_PAYLOAD_TOO_LARGE', '');
  });
});

describe('POST /v1/phi with the integrated-info actor registered', async () => {
  const { runtime, base } = await start((r) => r.spawn(createIntegratedInfoActor(r, { live: false })));

  it('goes through the actor and counts the request in the metrics', async () => {
    const { status, json } = await post(base, basic);
    assert.equal(status, 200);
    assert.equal((json as PhiBody).phi, 2.3125);
    await expectError(base, { ...basic, state: [0, 1, 0] }, 422, 'JAMEY_ERR_STATE_UNREACHABLE', 'state');
    const text = await runtime.metrics.render();
    assert.match(text, /jamey_phi_requests_total\{kind="request",outcome="ok"\} 1/);
    assert.match(text, /jamey_phi_requests_total\{kind="request",outcome="JAMEY_ERR_STATE_UNREACHABLE"\} 1/);
    assert.match(text, /jamey_phi_compute_seconds_count\{kind="request"\} 2/);
    assert.match(text, /jamey_actor_messages_processed_total\{actor="integrated-info"\} 2/);
  });
});
