/**
 * The predictive worker task through a real worker pool: a batch scored against a shared snapshot
 * gives exactly the main thread's scores, the owner can keep learning meanwhile, and a bad
 * payload comes back as a coded error.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { PREDICT_TASK_FILE, type ScoredText, TextModel } from '../src/actors/predictive/index.js';
import { systemClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';
import { TaskPool } from '../src/runtime/pool.js';

const prose = readFileSync(
  new URL('../../test/fixtures/predictive/devil-sample.txt', import.meta.url),
  'utf8',
);
const task = { filename: PREDICT_TASK_FILE, name: 'scoreBatch', label: 'predict.scoreBatch' };

const pool = new TaskPool(
  { maxThreads: 2, maxQueue: 64, taskDeadlineMs: 30_000, idleTimeoutMs: 60_000 },
  systemClock,
);
after(() => pool.destroy());

describe('predict task', () => {
  it('scores a batch in a worker exactly as the main thread does', async () => {
    const model = new TextModel({ sizeBytes: 1024 * 1024 });
    model.learn(prose.slice(0, 12_000));
    const texts = prose
      .slice(12_000)
      .split('\n\n')
      .filter((t) => t.length > 0)
      .slice(0, 40);
    texts.push('', 'naïve café — 日本語 😀');
    const snapshot = model.snapshot();
    const pending = pool.run<ScoredText[]>(task, { model: snapshot, texts });
    model.learn(prose.slice(12_000)); // the owner keeps learning while the worker scores
    const got = await pending;
    const frozen = new TextModel(snapshot, { readOnly: true });
    assert.equal(got.length, texts.length);
    assert.deepEqual(
      got,
      texts.map((t) => frozen.score(t)),
    );
    assert.notDeepEqual(
      got,
      texts.map((t) => model.score(t)),
      'the worker saw the snapshot, not the later state',
    );
  });

  it('copies a shared live model in a worker: the copy scores as the model did, and stays put', async () => {
    const model = new TextModel({ sizeBytes: 256 * 1024, shared: true });
    assert.ok(model.buffer instanceof SharedArrayBuffer);
    model.learn(prose.slice(0, 8000));
    const copy = await pool.run<SharedArrayBuffer>(
      { filename: PREDICT_TASK_FILE, name: 'copyModel', label: 'predict.copyModel' },
      { model: model.buffer },
    );
    assert.ok(copy instanceof SharedArrayBuffer && copy !== model.buffer);
    const frozen = new TextModel(copy, { readOnly: true });
    const probe = prose.slice(8000, 9000);
    const before = model.score(probe);
    assert.deepEqual(frozen.score(probe), before);
    model.learn(prose.slice(8000, 16_000));
    assert.deepEqual(frozen.score(probe), before, 'learning after the copy does not reach it');
    assert.notDeepEqual(model.score(probe), before);
  });

  it('returns per-symbol surprisals when asked, summing to the total', async () => {
    const model = new TextModel({ sizeBytes: 256 * 1024 });
    model.learn(prose.slice(0, 3000));
    const [r] = await pool.run<ScoredText[]>(task, {
      model: model.snapshot(),
      texts: ['the devil'],
      perSymbol: true,
    });
    assert.ok(r?.symbols);
    assert.equal(r.symbols.length, 9);
    assert.ok(Math.abs(r.symbols.reduce((a, b) => a + b, 0) - r.bits) < 1e-9);
    assert.deepEqual(r.symbols, Array.from(model.symbolBits('the devil')));
  });

  it('a payload without a snapshot or with a corrupt one fails with JAMEY_ERR_VALIDATION', async () => {
    await assert.rejects(pool.run(task, { model: new ArrayBuffer(8), texts: ['x'] }), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
    await assert.rejects(pool.run(task, { model: new SharedArrayBuffer(1024), texts: ['x'] }), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
    const model = new TextModel({ sizeBytes: 256 * 1024 });
    await assert.rejects(pool.run(task, { model: model.snapshot(), texts: [1] }), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
  });
});
