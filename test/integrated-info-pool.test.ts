/**
 * Big Φ through the worker pool (real worker threads): the same answer from one worker and from all
 * of them, the whole-computation deadline, the event loop staying free, the major complex of
 * PyPhi's IIT 3.0 paper figures, and the up-front refusal of systems too large for the deadline.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { computeSia, type SubsystemInput } from '../src/actors/integrated-info/index.js';
import { computePhi, maxNodesFor, type PhiOutcome } from '../src/actors/integrated-info/phi-service.js';
import { systemClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';
import { TaskPool } from '../src/runtime/pool.js';

interface Fixture extends SubsystemInput {
  name: string;
  tpm: number[][];
  cm: number[][];
  state: number[];
  majorComplex?: { nodes: number[]; phi?: number };
  minorComplexes?: { nodes: number[]; phi: number }[];
}

const fixtureDir = new URL('../../test/fixtures/iit/', import.meta.url);
const load = (file: string): Fixture[] => JSON.parse(readFileSync(new URL(file, fixtureDir), 'utf8'));
const examples = load('pyphi-examples.json');
const figures = load('pyphi-complex.json');
const byName = (list: Fixture[], name: string): Fixture => {
  const f = list.find((e) => e.name === name);
  assert.ok(f, `fixture ${name}`);
  return f;
};

const THREADS = 2;
const pool = new TaskPool(
  { maxThreads: THREADS, maxQueue: 1024, taskDeadlineMs: 60_000, idleTimeoutMs: 60_000 },
  systemClock,
);
after(() => pool.destroy());

/** A fully connected network with a noisy random TPM: every cut has Φ > 0, the slowest kind. */
function denseNetwork(n: number, seed: number): SubsystemInput {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tpm = Array.from({ length: 1 << n }, () =>
    Array.from({ length: n }, () => Math.round(rand() * 10) / 10),
  );
  const state = tpm[3]!.map((p) => (p >= 0.5 ? 1 : 0));
  return { tpm, state };
}

/** Everything but timing. */
function strip(r: PhiOutcome): unknown {
  const { elapsedMs: _e, tasks: _t, method: _m, ...rest } = r;
  return rest;
}

describe('one worker and all workers agree', () => {
  it('basic network: Φ 2.3125 with its 4 concepts, split or not', async () => {
    const net = byName(examples, 'basic');
    const one = await computePhi(pool, net, { deadlineMs: 10_000, workers: 1 });
    const all = await computePhi(pool, net, { deadlineMs: 10_000, workers: THREADS, split: 'always' });
    assert.equal(one.phi, 2.3125);
    assert.equal(one.concepts.length, 4);
    assert.deepEqual(
      one.concepts.map((c) => c.mechanism),
      [[1], [2], [0, 1], [0, 1, 2]],
    );
    assert.deepEqual(one.cut, { from: [1, 2], to: [0] });
    assert.ok(all.tasks > 2, 'the split ran several tasks');
    assert.deepEqual(strip(all), strip(one));
    assert.deepEqual(strip(one), computeSia(net));
  });

  it('PyPhi big_subsys_all (5 nodes): Φ 10.729491, split or not', async () => {
    const net = byName(examples, 'big_subsys_all');
    const one = await computePhi(pool, net, { deadlineMs: 30_000, workers: 1 });
    const all = await computePhi(pool, net, { deadlineMs: 30_000, workers: THREADS });
    assert.equal(one.phi, 10.729491);
    assert.equal(one.concepts.length, 30);
    assert.deepEqual(one.cut, { from: [2, 4], to: [0, 1, 3] });
    assert.ok(all.tasks > 2, 'auto split a 5-node system with 30 concepts');
    assert.deepEqual(strip(all), strip(one));
  });

  it('a system with a Φ = 0 cut stops there in every split', async () => {
    const net = byName(examples, 'big_subsys_0_thru_3');
    const one = await computePhi(pool, net, { deadlineMs: 10_000, workers: 1 });
    const all = await computePhi(pool, net, { deadlineMs: 10_000, workers: THREADS, split: 'always' });
    assert.equal(one.phi, 0.366389);
    assert.deepEqual(strip(all), strip(one));
    const reducible = byName(examples, 'fig5b');
    const r = await computePhi(pool, reducible, { deadlineMs: 10_000, split: 'always' });
    assert.equal(r.phi, 0);
    assert.deepEqual(strip(r), computeSia(reducible));
  });
});

describe('deadline', () => {
  it('a tiny deadline on a 6-node system fails with its code, and the pool carries on', async () => {
    const t0 = performance.now();
    await assert.rejects(computePhi(pool, denseNetwork(6, 1), { deadlineMs: 150 }), (err) => {
      assert.ok(isJameyError(err, 'JAMEY_ERR_DEADLINE_EXCEEDED'), String(err));
      assert.match(err.message, /150 ms/);
      return true;
    });
    assert.ok(performance.now() - t0 < 1_500, 'the caller did not wait for the threads');
    const again = await computePhi(pool, byName(examples, 'basic'), { deadlineMs: 10_000, split: 'always' });
    assert.equal(again.phi, 2.3125);
  });

  it('an aborted signal stops the computation with JAMEY_ERR_ABORTED', async () => {
    const ac = new AbortController();
    const p = computePhi(pool, denseNetwork(6, 2), { deadlineMs: 30_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, (err) => isJameyError(err, 'JAMEY_ERR_ABORTED'));
  });

  it('the event loop stays free while a multi-second computation runs', async () => {
    const h = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const probe = setInterval(() => ticks++, 10);
    h.enable();
    const t0 = performance.now();
    await assert.rejects(computePhi(pool, denseNetwork(6, 3), { deadlineMs: 2_000 }), (err) =>
      isJameyError(err, 'JAMEY_ERR_DEADLINE_EXCEEDED'),
    );
    const elapsed = performance.now() - t0;
    h.disable();
    clearInterval(probe);
    const maxDelayMs = h.max / 1e6;
    assert.ok(elapsed >= 1_900, `ran for the whole deadline (${elapsed} ms)`);
    // Only merging and task messages run here; on a loaded 2-core machine a few tens of ms is noise.
    assert.ok(maxDelayMs < 150, `max event-loop delay ${maxDelayMs.toFixed(1)} ms`);
    assert.ok(ticks > elapsed / 10 / 2, `the 10 ms probe ran ${ticks} times in ${elapsed.toFixed(0)} ms`);
  });
});

describe('major complex (complex: true)', () => {
  it("finds PyPhi's major complex of IIT 3.0 Figure 16 (7 nodes): ABC with Φ 1.916665", async () => {
    const net = byName(figures, 'fig16');
    const r = await computePhi(pool, net, { deadlineMs: 30_000, complex: true });
    assert.deepEqual(r.nodes, net.majorComplex!.nodes);
    assert.equal(r.phi, net.majorComplex!.phi);
    assert.ok(r.tasks > 2, 'the candidates were spread over tasks');
    // A minor complex of the paper, as a plain subsystem.
    const fg = await computePhi(pool, { ...net, nodes: [5, 6] }, { deadlineMs: 10_000 });
    assert.equal(fg.phi, 0.069445);
  });

  it('finds the major complex of Figure 14 (6 nodes): ABC', async () => {
    const net = byName(figures, 'fig14');
    const r = await computePhi(pool, net, { deadlineMs: 30_000, complex: true, workers: 1 });
    assert.deepEqual(r.nodes, [0, 1, 2]);
  });
});

describe('validation', () => {
  it('refuses up front, naming the field, a system too large for the deadline', async () => {
    const n = 9;
    const ring = {
      tpm: Array.from({ length: 1 << n }, (_, s) =>
        Array.from({ length: n }, (_, j) => (s >> ((j + n - 1) % n)) & 1),
      ),
      state: new Array<number>(n).fill(0),
    };
    assert.ok(maxNodesFor(1_000, THREADS) < n);
    const t0 = performance.now();
    await assert.rejects(computePhi(pool, ring, { deadlineMs: 1_000 }), (err) => {
      assert.ok(isJameyError(err, 'JAMEY_ERR_VALIDATION'));
      const details = err.details as { path: string; problem: string }[];
      assert.equal(details[0]!.path, 'tpm');
      assert.match(details[0]!.problem, /9 nodes/);
      return true;
    });
    await assert.rejects(
      computePhi(pool, { ...ring, nodes: [0, 1, 2, 3, 4, 5, 6, 7, 8] }, { deadlineMs: 1_000 }),
      (err) =>
        isJameyError(err, 'JAMEY_ERR_VALIDATION') && (err.details as { path: string }[])[0]!.path === 'nodes',
    );
    assert.ok(performance.now() - t0 < 200, 'refused without computing');
  });

  it('malformed input and unreachable states come back with their codes', async () => {
    const basic = byName(examples, 'basic');
    await assert.rejects(computePhi(pool, { ...basic, state: [1, 2, 0] }, { deadlineMs: 1_000 }), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
    await assert.rejects(computePhi(pool, { ...basic, state: [0, 1, 0] }, { deadlineMs: 1_000 }), (err) =>
      isJameyError(err, 'JAMEY_ERR_STATE_UNREACHABLE'),
    );
    await assert.rejects(computePhi(pool, basic, { deadlineMs: 0 }), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
  });
});
