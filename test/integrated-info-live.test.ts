/**
 * Live Φ: the Laplace-smoothed TPM estimate against hand-computed frequencies, node selection, the
 * actor driven by a scripted activity sequence (Φ equal to the single-threaded answer on the same
 * estimate, fallbacks), and the actor sampling a real runtime's hosts, with its snapshot and metrics.
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createIntegratedInfoActor,
  type IntegratedInfoMessage,
  type IntegratedInfoReply,
  liveMethod,
  type PhiSnapshot,
} from '../src/actors/integrated-info/actor.js';
import { computeSia } from '../src/actors/integrated-info/index.js';
import { ActivityHistory, connectivity, estimateTpm } from '../src/actors/integrated-info/live-estimator.js';
import type { ActorRef } from '../src/runtime/actor.js';
import { createRuntime, type Runtime } from '../src/runtime/runtime.js';

const runtimes: Runtime[] = [];
after(async () => {
  for (const r of runtimes) await r.close();
});

function activity(names: readonly string[], state: readonly number[]): Map<string, boolean> {
  return new Map(names.map((n, i) => [n, state[i] === 1]));
}

describe('TPM estimator', () => {
  it('equals the hand-computed Laplace-smoothed frequencies', () => {
    // Transitions: 00->10, 10->11, 11->01, 01->00, 00->10 (state [a, b], index a + 2b).
    const seq = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
      [1, 0],
    ];
    const { tpm, transitions, visits } = estimateTpm(seq, 2, 1);
    assert.equal(transitions, 5);
    assert.deepEqual(visits, [2, 1, 1, 1]);
    assert.deepEqual(tpm, [
      [(2 + 1) / (2 + 2), (0 + 1) / (2 + 2)], // 00: twice to 10
      [(1 + 1) / (1 + 2), (1 + 1) / (1 + 2)], // 10: once to 11
      [(0 + 1) / (1 + 2), (0 + 1) / (1 + 2)], // 01: once to 00
      [(0 + 1) / (1 + 2), (1 + 1) / (1 + 2)], // 11: once to 01
    ]);
    // Unsmoothed: raw frequencies; a state never left gets 1/2.
    assert.deepEqual(estimateTpm(seq.slice(0, 3), 2, 0).tpm, [
      [1, 0],
      [1, 1],
      [0.5, 0.5],
      [0.5, 0.5],
    ]);
  });

  it('does not count transitions across a tick where a node was not observed', () => {
    const { transitions, visits } = estimateTpm([[0, 0], null, [1, 1], [0, 0]], 2, 1);
    assert.equal(transitions, 1);
    assert.deepEqual(visits, [0, 0, 0, 1]);
  });

  it('selects the varying actors, most active first, and reads their joint states', () => {
    const h = new ActivityHistory(4);
    const names = ['idle', 'busy', 'a', 'b', 'c'];
    for (const s of [
      [0, 1, 1, 0, 1],
      [0, 1, 0, 0, 1],
      [0, 1, 1, 1, 0],
      [0, 1, 1, 0, 1],
      [0, 1, 0, 1, 1],
    ]) {
      h.record(activity(names, s));
    }
    assert.equal(h.size, 4, 'the window keeps the last 4 ticks');
    // Over the last 4 ticks: a 2 active, b 2, c 3; idle never and busy always are constant.
    assert.deepEqual(h.selectNodes(5), ['c', 'a', 'b']);
    assert.deepEqual(h.selectNodes(2), ['c', 'a']);
    assert.deepEqual(h.states(['a', 'c']), [
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 1],
    ]);
    assert.deepEqual(connectivity(['a', 'b'], undefined), [
      [1, 1],
      [1, 1],
    ]);
    assert.deepEqual(
      connectivity(
        ['a', 'b', 'c'],
        [
          ['a', 'c'],
          ['c', 'a'],
          ['x', 'a'],
        ],
      ),
      [
        [0, 0, 1],
        [0, 0, 0],
        [1, 0, 0],
      ],
    );
  });

  it('chooses exact Φ when its measured worst case fits the deadline, else cut-one', () => {
    assert.equal(liveMethod(5, 10_000, 1), 'exact');
    assert.equal(liveMethod(6, 10_000, 1), 'cut-one');
    assert.equal(liveMethod(6, 10_000_000, 2), 'exact');
  });
});

/** A three-actor rhythm: a(t+1) = c(t), b(t+1) = a(t) or c(t), c(t+1) = not b(t), with a glitch. */
function rhythm(ticks: number): number[][] {
  const out: number[][] = [[1, 0, 0]];
  for (let t = 1; t < ticks; t++) {
    const [a, b, c] = out[t - 1]! as [number, number, number];
    const next = [c, a | c, 1 - b];
    if (t % 7 === 0) next[1] = 1 - next[1]!;
    out.push(next);
  }
  return out;
}

async function scripted(
  script: readonly (Map<string, boolean> | null)[],
  options: Parameters<typeof createIntegratedInfoActor>[1],
) {
  const runtime = createRuntime({ logLevel: 'silent', pool: { maxThreads: 2 } }, { defaultMetrics: false });
  runtimes.push(runtime);
  let i = 0;
  const spec = createIntegratedInfoActor(runtime, {
    live: false,
    sampler: () => script[Math.min(i++, script.length - 1)] ?? new Map(),
    ...options,
  });
  const ref = runtime.spawn(spec) as ActorRef<IntegratedInfoMessage, IntegratedInfoReply>;
  await runtime.start();
  const tick = async (n: number): Promise<void> => {
    for (let k = 0; k < n; k++) await ref.ask({ type: 'tick' });
    await spec.settled();
  };
  return { runtime, spec, ref, tick };
}

describe('integrated-info actor, scripted activity', () => {
  const names = ['a', 'b', 'c'];
  const seq = rhythm(40);

  it('computes Φ of the estimated TPM in the pool, equal to the single-threaded answer', async () => {
    const { spec, ref, tick, runtime } = await scripted(
      seq.map((s) => activity(names, s)),
      { tickMs: 1000, computeEveryMs: 40_000, minTransitions: 10 },
    );
    await tick(39);
    assert.equal(spec.snapshot(), null, 'nothing computed before the period');
    await tick(1);
    const snap = (await ref.ask({ type: 'snapshot' })) as PhiSnapshot;
    assert.ok(snap !== null);
    // The same estimate by hand: nodes in selection order, the last state, fully connected.
    const nodes = spec.history.selectNodes(5);
    assert.deepEqual(new Set(nodes), new Set(names));
    const order = nodes.map((n) => names.indexOf(n));
    const est = estimateTpm(
      seq.map((s) => order.map((i) => s[i]!)),
      3,
      1,
    );
    const state = order.map((i) => seq[39]![i]!);
    const expected = computeSia({ tpm: est.tpm, state });
    assert.equal(snap.phi, expected.phi);
    assert.ok(snap.phi > 0, `Φ ${snap.phi}`);
    assert.deepEqual(snap.nodes, nodes);
    assert.deepEqual(snap.state, state);
    assert.equal(snap.method, 'exact');
    assert.equal(snap.transitions, 39);
    assert.deepEqual(snap.cut, {
      from: expected.cut!.from.map((i) => nodes[i]),
      to: expected.cut!.to.map((i) => nodes[i]),
    });
    assert.equal(typeof snap.elapsedMs, 'number');
    assert.ok(!Number.isNaN(Date.parse(snap.computedAt)));
    assert.equal(snap.reason, undefined);
    const text = await runtime.metrics.render();
    assert.match(text, new RegExp(`jamey_phi ${snap.phi}`));
    assert.match(text, /jamey_phi_compute_seconds_count\{kind="live"\} 1/);
    assert.match(text, /jamey_phi_requests_total\{kind="live",outcome="ok"\} 1/);
  });

  it('falls back to Φ = 0 with a reason, and keeps answering', async () => {
    // Too few varying actors.
    const flat = await scripted([activity(['a', 'b'], [1, 0])], { tickMs: 1000, computeEveryMs: 2000 });
    await flat.tick(2);
    assert.equal(flat.spec.snapshot()?.reason, 'too-few-nodes');
    // Not enough transitions yet.
    const early = await scripted(
      seq.map((s) => activity(names, s)),
      { tickMs: 1000, computeEveryMs: 5000, minTransitions: 10 },
    );
    await early.tick(5);
    assert.equal(early.spec.snapshot()?.reason, 'warming-up');
    assert.equal(early.spec.snapshot()?.phi, 0);
    // Unsmoothed, every state left the same way, and the current state reached across a gap: it
    // cannot be reached under the estimate (10 -> 11 -> 01 -> 00 -> 11 ..., then 10).
    const cycle = [
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
      [1, 1],
      [0, 1],
      [0, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ];
    const script: (Map<string, boolean> | null)[] = cycle.map((s) => activity(['a', 'b'], s));
    script.push(new Map([['a', true]]), activity(['a', 'b'], [1, 0]));
    const gap = await scripted(script, {
      tickMs: 1000,
      computeEveryMs: 12_000,
      smoothing: 0,
      minTransitions: 5,
    });
    await gap.tick(12);
    const snap = gap.spec.snapshot();
    assert.equal(snap?.reason, 'state-unreachable');
    assert.equal(snap?.phi, 0);
    assert.deepEqual(snap?.state, [1, 0]);
    assert.equal(await gap.ref.ask({ type: 'snapshot' }), snap, 'the actor still answers');
    const text = await gap.runtime.metrics.render();
    assert.match(text, /jamey_phi_requests_total\{kind="live",outcome="JAMEY_ERR_STATE_UNREACHABLE"\} 1/);
  });
});

describe('integrated-info actor, real hosts', () => {
  it('observes the actors of the runtime and publishes a snapshot', async () => {
    const runtime = createRuntime({ logLevel: 'silent', pool: { maxThreads: 2 } }, { defaultMetrics: false });
    runtimes.push(runtime);
    const echo = () => ({ receive: (m: unknown) => m });
    const a = runtime.spawn({ name: 'a', start: echo });
    const b = runtime.spawn({ name: 'b', start: echo });
    runtime.spawn({ name: 'quiet', start: echo });
    const spec = createIntegratedInfoActor(runtime, { tickMs: 20, computeEveryMs: 400, minTransitions: 5 });
    runtime.spawn(spec);
    await runtime.start();
    // Traffic in a rhythm slower than the ticks, so both actors are sometimes idle.
    let n = 0;
    const traffic = setInterval(() => {
      n++;
      if (n % 3 !== 0) a.tell('ping');
      if (n % 4 < 2) b.tell('ping');
    }, 15);
    try {
      const deadline = performance.now() + 5_000;
      let snap = spec.snapshot();
      while ((snap === null || snap.reason !== undefined) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        snap = spec.snapshot();
      }
      assert.ok(snap !== null && snap.reason === undefined, `snapshot ${JSON.stringify(snap)}`);
      assert.deepEqual(Object.keys(snap).sort(), [
        'computedAt',
        'cut',
        'elapsedMs',
        'method',
        'nodes',
        'phi',
        'state',
        'transitions',
      ]);
      assert.deepEqual([...snap.nodes].sort(), ['a', 'b'], 'quiet never varied; itself not observed');
      assert.equal(snap.method, 'exact');
      assert.ok(snap.phi >= 0);
      const text = await runtime.metrics.render();
      assert.match(text, /^jamey_phi \d/m);
      assert.match(text, /jamey_phi_compute_seconds_bucket\{le="[^"]+",kind="live"\}/);
      assert.match(text, /jamey_phi_requests_total\{kind="live",outcome="ok"\} \d/);
    } finally {
      clearInterval(traffic);
    }
  });
});
