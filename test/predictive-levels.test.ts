/**
 * The content and timing levels and their precision-weighted combination: errors where the
 * prediction is good and bad, serialisation, and the documented surprise formula.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContentModel,
  cosineDistance,
  RunningStats,
  SurpriseCombiner,
  TimingModel,
} from '../src/actors/predictive/index.js';
import { mulberry32 } from '../src/runtime/random.js';

const unit = (v: number[]): Float32Array => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};

describe('running statistics', () => {
  it('matches the two-pass mean and variance, and halves its weight past maxCount', () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const s = new RunningStats(100);
    for (const x of xs) s.push(x);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
    assert.ok(Math.abs(s.mean - mean) < 1e-12 && Math.abs(s.variance - variance) < 1e-12);
    const capped = new RunningStats(10);
    for (let i = 0; i < 100; i++) capped.push(0);
    for (let i = 0; i < 20; i++) capped.push(10);
    assert.ok(capped.mean > 8, `follows the shift: ${capped.mean}`);
    assert.ok(capped.count <= 10);
  });
});

describe('content level', () => {
  it('predicts the moving average: an on-topic embedding has a small error, an off-topic one a large error', () => {
    const m = new ContentModel({ alpha: 0.3 });
    assert.equal(m.observe(unit([1, 0, 0, 0])), undefined, 'no prediction before the first embedding');
    for (let i = 0; i < 5; i++) m.observe(unit([1, 0.1 * (i % 2), 0, 0]));
    const near = m.error(unit([1, 0.05, 0, 0]))!;
    const far = m.error(unit([0, 0, 1, 0]))!;
    assert.ok(near < 0.01, `near ${near}`);
    assert.ok(Math.abs(far - 1) < 0.01, `orthogonal ${far}`);
    assert.ok(Math.abs((m.error(unit([-1, 0, 0, 0])) ?? 0) - 2) < 0.02, 'opposite ≈ 2');
    const p = m.predict()!;
    assert.ok(Math.abs(Math.hypot(...p) - 1) < 1e-6, 'prediction is L2-normalised');
  });

  it('adapts to a topic change at the rate alpha', () => {
    const m = new ContentModel({ alpha: 0.5 });
    m.observe(unit([1, 0]));
    m.observe(unit([0, 1]));
    // mean = 0.5·[1,0] + 0.5·[0,1]
    assert.ok(Math.abs(m.error(unit([1, 1]))!) < 1e-9);
    assert.throws(() => m.observe([1, 2, 3]), RangeError);
  });

  it('survives serialisation', () => {
    const m = new ContentModel({ alpha: 0.2 });
    const rand = mulberry32(3);
    for (let i = 0; i < 10; i++) m.observe(Array.from({ length: 8 }, () => rand() - 0.5));
    const probe = Array.from({ length: 8 }, () => rand() - 0.5);
    const back = ContentModel.deserialize(m.serialize());
    assert.equal(back.error(probe), m.error(probe));
    assert.equal(back.count, 10);
    assert.equal(cosineDistance([1, 0], [0, 0]), 1);
  });
});

describe('timing level', () => {
  it('a regular rhythm makes an on-time request unsurprising and a late one surprising', () => {
    const m = new TimingModel();
    let t = 0;
    assert.deepEqual(m.observe(t), { intervalMs: undefined, bits: undefined });
    const rand = mulberry32(11);
    const bits: number[] = [];
    for (let i = 0; i < 200; i++) {
      t += 1000 * Math.exp(0.1 * (rand() - 0.5));
      const r = m.observe(t);
      if (r.bits !== undefined) bits.push(r.bits);
    }
    assert.ok(Math.abs(m.medianMs! - 1000) < 30, `median ${m.medianMs}`);
    const onTime = m.surprisal(1000)!;
    const late = m.surprisal(10_000)!;
    const early = m.surprisal(50)!;
    assert.ok(onTime < 3, `on time ${onTime} bits`);
    assert.ok(late > onTime + 20 && early > onTime + 20, `late ${late}, early ${early}`);
    assert.ok(bits.at(-1)! < bits[0]!, 'learning makes the rhythm less surprising');
  });

  it('surprisal is -log2 of the log-normal density times the bin width', () => {
    const m = new TimingModel({ resolution: 0.05, minSigma: 0.01 });
    m.observe(0);
    m.observe(100);
    m.observe(200);
    // One learned log-interval, ln 100; σ² = (0 + 2·1) / (1 - 1 + 2) = 1 ⇒ σ = 1.
    const x = Math.log(100 * Math.E);
    const density = Math.exp(-0.5) / Math.sqrt(2 * Math.PI);
    const expected = -Math.log2(Math.log1p(0.05) * density);
    assert.equal(m.count, 2);
    const fresh = new TimingModel({ resolution: 0.05, minSigma: 0.01 });
    fresh.observe(0);
    fresh.observe(100);
    assert.ok(Math.abs(fresh.surprisal(Math.exp(x))! - expected) < 1e-9);
  });

  it('survives serialisation', () => {
    const m = new TimingModel();
    for (const t of [0, 500, 1100, 1400, 2500]) m.observe(t);
    const back = TimingModel.deserialize(m.serialize());
    assert.equal(back.surprisal(700), m.surprisal(700));
    assert.deepEqual(back.observe(3000), m.observe(3000));
  });
});

describe('surprise combination', () => {
  it('is the Stouffer sum of precision-weighted z-scores of the present levels', () => {
    const c = new SurpriseCombiner({ minCount: 3, weights: { text: 2, content: 1, timing: 1 } });
    const text = [2, 2.2, 1.8, 2.1, 1.9];
    const content = [0.1, 0.3, 0.2, 0.25, 0.15];
    for (let i = 0; i < text.length; i++) c.observe({ text: text[i]!, content: content[i]! });
    const ts = c.levelStats('text');
    const cs = c.levelStats('content');
    const r = c.score({ text: 3, content: 0.2, timing: 5 });
    assert.deepEqual(r.levels, ['text', 'content'], 'timing has no history yet and is left out');
    const zt = (3 - ts.mean) / ts.sigma;
    const zc = (0.2 - cs.mean) / cs.sigma;
    assert.ok(Math.abs(r.z.text! - zt) < 1e-12 && Math.abs(r.z.content! - zc) < 1e-12);
    assert.ok(Math.abs(r.surprise - (2 * zt + zc) / Math.sqrt(5)) < 1e-12);
    assert.ok(Math.abs(r.energy - 0.5 * (zt * zt + zc * zc)) < 1e-12);
  });

  it('a noisy level counts for less than a precise one for the same raw error', () => {
    const c = new SurpriseCombiner({ minCount: 3 });
    const rand = mulberry32(5);
    for (let i = 0; i < 50; i++)
      c.observe({ text: 2 + 0.01 * (rand() - 0.5), timing: 2 + 4 * (rand() - 0.5) });
    const precise = c.score({ text: 2.5 }).surprise;
    const noisy = c.score({ timing: 2.5 }).surprise;
    assert.ok(precise > 10 * noisy, `${precise} vs ${noisy}`);
    assert.deepEqual(c.score({}), { surprise: 0, energy: 0, z: {}, levels: [] });
    const back = SurpriseCombiner.fromJSON(JSON.parse(JSON.stringify(c.toJSON())));
    assert.deepEqual(back.score({ text: 2.5, timing: 1 }), c.score({ text: 2.5, timing: 1 }));
  });
});
