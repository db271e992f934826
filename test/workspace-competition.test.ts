import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  activation,
  baseActivation,
  type Candidate,
  Competition,
  DEFAULT_COMPETITION_OPTIONS,
  relevance,
  type Salience,
  tokenOverlap,
} from '../src/actors/workspace/competition.js';

let n = 0;
function cand(
  salience: Salience,
  postedAt = 0,
  content = `content ${++n}`,
  extra: Partial<Candidate> = {},
): Candidate {
  return { id: `c${++n}`, source: 'test', content, salience, postedAt, ...extra };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('activation is the documented squashed weighted sum of the salience inputs', () => {
  const o = DEFAULT_COMPETITION_OPTIONS;
  const w = o.weights;
  // z = 1.5 with scale 3 → 0.5; priority 0.8; flag → 1; no focus → relevance 0.
  const c = cand({ surprise: 1.5, priority: 0.8, conscience: 'flag' });
  const u = w.surprise * 0.5 + w.priority * 0.8 + w.conscience * 1;
  assert.ok(Math.abs(baseActivation(c, null) - sigmoid(o.gain * (u - o.midpoint))) < 1e-12);
  // Inputs are clamped: surprise beyond the scale and negative surprise add no more than 1 and 0.
  assert.equal(baseActivation(cand({ surprise: 30 }), null), baseActivation(cand({ surprise: 3 }), null));
  assert.equal(baseActivation(cand({ surprise: -4 }), null), baseActivation(cand({}), null));
  // A conscience score is taken as it is; allow adds nothing.
  assert.equal(baseActivation(cand({ conscience: 'allow' }), null), baseActivation(cand({}), null));
  assert.ok(baseActivation(cand({ conscience: 0.5 }), null) > baseActivation(cand({}), null));
  // Monotone in every input.
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (a, b) => {
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        return baseActivation(cand({ priority: lo }), null) <= baseActivation(cand({ priority: hi }), null);
      },
    ),
  );
});

test('relevance: given value, else cosine of embeddings, else token overlap with the focus', () => {
  const focus = { content: 'the router in the hallway', embedding: [1, 0, 0] };
  assert.equal(relevance(cand({ relevance: 0.7 }), focus), 0.7);
  assert.ok(Math.abs(relevance(cand({}, 0, 'x', { embedding: [1, 1, 0] }), focus) - Math.SQRT1_2) < 1e-12);
  assert.equal(relevance(cand({}, 0, 'x', { embedding: [-1, 0, 0] }), focus), 0, 'opposite counts as 0');
  // Tokens {the, router, hallway} vs {the, router, in, hallway}: 3 shared of 4.
  assert.equal(relevance(cand({}, 0, 'The ROUTER, the hallway!'), { content: focus.content }), 0.75);
  assert.equal(tokenOverlap('a b', 'c d'), 0);
  assert.equal(relevance(cand({}, 0, 'anything'), null), 0, 'no focus, no relevance');
  // Relevance to the focus raises activation.
  const on = cand({ priority: 0.5 }, 0, 'the router in the hallway again');
  const off = cand({ priority: 0.5 }, 0, 'something else entirely');
  assert.ok(baseActivation(on, focus) > baseActivation(off, focus));
});

test('activation halves every half-life since posting', () => {
  const c = cand({ priority: 1 }, 1000);
  const a0 = activation(c, null, 1000);
  const h = DEFAULT_COMPETITION_OPTIONS.halfLifeMs;
  assert.ok(Math.abs(activation(c, null, 1000 + h) - a0 / 2) < 1e-12);
  assert.ok(Math.abs(activation(c, null, 1000 + 3 * h) - a0 / 8) < 1e-12);
  assert.equal(activation(c, null, 0), a0, 'no growth before posting');
});

test('ignition: the winner is broadcast only at or above the threshold; a weak pool fails to ignite', () => {
  const ws = new Competition();
  ws.post(cand({ priority: 0.2 }), 0);
  ws.post(cand({ priority: 0.3 }), 0);
  const weak = ws.cycle(0);
  assert.equal(weak.competitors, 2);
  assert.equal(weak.ignited, false);
  assert.ok(weak.winner !== null && weak.winner.activation < DEFAULT_COMPETITION_OPTIONS.threshold);
  assert.equal(ws.size, 2, 'losers stay to compete again');
  const strong = cand({ priority: 1, surprise: 3 }, 0, 'a strong content');
  ws.post(strong, 0);
  const out = ws.cycle(10);
  assert.equal(out.ignited, true);
  assert.equal(out.winner?.candidate.id, strong.id);
  assert.equal(out.competitors, 3);
  assert.deepEqual(
    out.activations.map((a) => a.activation),
    out.activations.map((a) => a.activation).sort((x, y) => y - x),
  );
  assert.equal(ws.size, 2, 'the winner leaves the workspace');
  assert.equal(ws.focus?.content, 'a strong content', 'the broadcast becomes the focus');
  // The same candidate, decayed past the threshold, no longer ignites.
  const later = new Competition();
  later.post(cand({ priority: 1, surprise: 3 }, 0), 0);
  assert.equal(later.cycle(4 * DEFAULT_COMPETITION_OPTIONS.halfLifeMs).ignited, false);
});

test('capacity keeps the strongest candidates and drops the weakest', () => {
  const ws = new Competition({ capacity: 3 });
  const kept = [0.9, 0.5, 0.7].map((p) => cand({ priority: p }));
  for (const c of kept) assert.equal(ws.post(c, 0).removed, null);
  const r = ws.post(cand({ priority: 0.6 }), 0);
  assert.equal(r.reason, 'capacity');
  assert.equal(r.removed?.id, kept[1]?.id, 'the 0.5 one goes');
  const newcomer = cand({ priority: 0.1 });
  const r2 = ws.post(newcomer, 0);
  assert.equal(r2.removed?.id, newcomer.id, 'a newcomer weaker than all is the one dropped');
  assert.equal(ws.size, 3);
  // A blocked candidate never enters.
  const blocked = ws.post(cand({ priority: 1, conscience: 'block' }), 0);
  assert.equal(blocked.reason, 'blocked');
  assert.equal(ws.size, 3);
});

test('refractory: a broadcast content cannot win again until the period has passed', () => {
  const ws = new Competition({ refractoryMs: 1000 });
  ws.post(cand({ priority: 1 }, 0, 'Hello  world'), 0);
  assert.equal(ws.cycle(0).winner?.candidate.content, 'Hello  world');
  // The same words re-posted (case and spacing differ) with a weaker rival.
  ws.post(cand({ priority: 1 }, 100, 'hello world'), 100);
  ws.post(cand({ priority: 1 }, 100, 'a rival'), 100);
  const second = ws.cycle(100);
  assert.equal(second.winner?.candidate.content, 'a rival', 'inhibition of return');
  assert.equal(second.ignited, true);
  assert.ok(
    (second.activations.find((a) => a.id !== second.winner?.candidate.id)?.activation ?? 0) >
      (second.winner?.activation ?? 1),
    'the inhibited content was stronger',
  );
  assert.equal(second.competitors, 2, 'the inhibited content still competed');
  ws.post(cand({ priority: 0.5 }, 1100, 'another rival'), 1100);
  const third = ws.cycle(1100);
  assert.equal(third.winner?.candidate.content, 'hello world', 'free to win once the period is over');
  assert.equal(third.ignited, true);
});

test('faded candidates are removed and counted', () => {
  const ws = new Competition({ minActivation: 0.05 });
  ws.post(cand({}), 0);
  const out = ws.cycle(20 * DEFAULT_COMPETITION_OPTIONS.halfLifeMs);
  assert.equal(out.faded, 1);
  assert.equal(out.competitors, 0);
  assert.equal(out.winner, null);
  assert.equal(ws.size, 0);
});
