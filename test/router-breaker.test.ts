import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveModels } from '../src/actors/llm/config.js';
import { CircuitBreaker } from '../src/actors/router/breaker.js';
import { BudgetBook } from '../src/actors/router/budget.js';
import { ModelRouter } from '../src/actors/router/router.js';
import { ManualClock } from '../src/runtime/clock.js';

test('breaker: closed → open after consecutive failures → half-open probe → closed', () => {
  const b = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, maxCooldownMs: 8000 });
  assert.equal(b.state, 'closed');
  b.failure(0);
  b.failure(1);
  b.success();
  b.failure(2);
  b.failure(3);
  assert.equal(b.state, 'closed', 'a success resets the count');
  b.failure(4);
  assert.equal(b.state, 'open');
  assert.equal(b.tryAcquire(500), false, 'refused while cooling down');
  assert.equal(b.tryAcquire(1004), true, 'the probe passes once the cooldown is over');
  assert.equal(b.state, 'half-open');
  assert.equal(b.tryAcquire(1005), false, 'one probe at a time');
  b.success();
  assert.equal(b.state, 'closed');
  assert.equal(b.failures, 0);
});

test('breaker: a failed probe reopens with a doubled cooldown; an abandoned probe lets the next one try', () => {
  const b = new CircuitBreaker({ threshold: 1, cooldownMs: 1000, maxCooldownMs: 3000 });
  b.failure(0);
  assert.ok(b.tryAcquire(1000));
  b.failure(1000);
  assert.equal(b.state, 'open');
  assert.equal(b.retryAt, 3000, 'cooldown doubled');
  assert.equal(b.tryAcquire(2999), false);
  assert.ok(b.tryAcquire(3000));
  b.failure(3000);
  assert.equal(b.retryAt, 6000, 'capped at maxCooldownMs');
  assert.ok(b.tryAcquire(6000));
  b.release();
  assert.equal(b.state, 'open');
  assert.ok(b.tryAcquire(6001), 'the next request probes at once');
});

const models = resolveModels([
  {
    name: 'cheap',
    kind: 'openai',
    baseUrl: 'http://127.0.0.1:1',
    models: [{ id: 'small', contextTokens: 8000, pricePerMTokIn: 0.1, pricePerMTokOut: 0.4 }],
  },
  {
    name: 'big',
    kind: 'openai',
    baseUrl: 'http://127.0.0.1:2',
    models: [
      {
        id: 'large',
        contextTokens: 200_000,
        pricePerMTokIn: 5,
        pricePerMTokOut: 15,
        capabilities: ['chat', 'stream', 'tools'],
      },
    ],
  },
  { name: 'local', kind: 'local', models: [{ id: 'jamey-local', contextTokens: 8192 }] },
]);
const needs = { capabilities: ['chat' as const], promptTokens: 100, reserveTokens: 500 };

test('router: requested, then preferred, then by score; tools filter; the local responder is not automatic', () => {
  const r = new ModelRouter(models, new ManualClock(), {});
  assert.deepEqual(
    r.plan({ needs, keyId: null }).candidates.map((m) => m.id),
    ['small', 'large'],
    'cheaper and healthy first; local left out',
  );
  const requested = r.plan({ model: 'large', needs, keyId: null });
  assert.equal(requested.reason, 'requested');
  assert.deepEqual(
    requested.candidates.map((m) => m.id),
    ['large', 'small'],
  );
  const preferred = r.plan({ preferred: 'large', needs, keyId: null });
  assert.equal(preferred.reason, 'preferred');
  assert.equal(preferred.candidates[0]?.id, 'large');
  const tools = r.plan({ needs: { ...needs, capabilities: ['chat', 'tools'] }, keyId: null });
  assert.deepEqual(
    tools.candidates.map((m) => m.id),
    ['large'],
  );
  assert.throws(() => r.plan({ model: 'nope', needs, keyId: null }), { code: 'JAMEY_ERR_NOT_FOUND' });
  assert.deepEqual(
    r.plan({ model: 'jamey-local', needs, keyId: null }).candidates.map((m) => m.id),
    ['jamey-local', 'small', 'large'],
  );
});

test('router: failures open a breaker, the model is passed over, and comes back after the probe', () => {
  const clock = new ManualClock(0);
  const r = new ModelRouter(models, clock, { breaker: { threshold: 2, cooldownMs: 10_000 } });
  for (let i = 0; i < 2; i++) {
    assert.ok(r.acquire('small'));
    r.report({ model: 'small', outcome: 'failed', retryable: true, latencyMs: 5 });
  }
  assert.equal(r.breakerState('small'), 'open');
  assert.deepEqual(
    r.plan({ needs, keyId: null }).candidates.map((m) => m.id),
    ['large'],
  );
  // A non-retryable failure (a bad request) says nothing about health.
  r.report({ model: 'large', outcome: 'failed', retryable: false, latencyMs: 5 });
  r.report({ model: 'large', outcome: 'failed', retryable: false, latencyMs: 5 });
  assert.equal(r.breakerState('large'), 'closed');
  clock.advance(10_000);
  const plan = r.plan({ needs, keyId: null });
  assert.ok(
    plan.candidates.some((m) => m.id === 'small'),
    'eligible again for a probe',
  );
  assert.ok(r.acquire('small'));
  assert.equal(r.breakerState('small'), 'half-open');
  r.report({ model: 'small', outcome: 'ok', latencyMs: 3 });
  assert.equal(r.breakerState('small'), 'closed');
});

test('budgets: the request that crosses the limit is served, the next is refused with 402 details', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const r = new ModelRouter(models, clock, { budgets: { dailyUsd: 0.01 } });
  r.plan({ model: 'large', needs, keyId: 'k1' });
  const cost = r.report({
    model: 'large',
    outcome: 'ok',
    latencyMs: 1,
    keyId: 'k1',
    usage: { promptTokens: 1000, completionTokens: 500 },
  });
  assert.equal(cost, (1000 * 5 + 500 * 15) / 1e6);
  assert.throws(
    () => r.plan({ needs, keyId: 'k1' }),
    (err: { code?: string; status?: number; details?: { period?: string; resetsAt?: string } }) =>
      err.code === 'JAMEY_ERR_BUDGET_EXCEEDED' &&
      err.status === 402 &&
      err.details?.period === 'day' &&
      err.details.resetsAt === '2026-11-26T00:00:00.000Z',
  );
  assert.doesNotThrow(() => r.plan({ needs, keyId: 'k2' }), 'other keys are not affected');
  clock.advance(86_400_000);
  assert.doesNotThrow(() => r.plan({ needs, keyId: 'k1' }), 'a new day, a new budget');
});

test('budgets: spend is restored from usage rows (this month only)', () => {
  const now = Date.UTC(2026, 10, 25, 12);
  const b = new BudgetBook({ monthlyUsd: 1 });
  b.load(
    [
      { key_id: 'k', day: '2026-11-25', micros: 600_000 },
      { key_id: 'k', day: '2026-11-02', micros: 500_000 },
      { key_id: 'k', day: '2026-10-30', micros: 9_000_000 },
    ],
    now,
  );
  assert.deepEqual(b.spent('k', now), { dayUsd: 0.6, monthUsd: 1.1 });
  assert.throws(() => b.check('k', now), { code: 'JAMEY_ERR_BUDGET_EXCEEDED' });
});
