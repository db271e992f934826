import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter, rateLimitHeaders } from '../src/actors/security/rate-limiter.js';
import { ManualClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';

test('defaults: a burst of 50, then a refusal with Retry-After, then one token per 100 ms', () => {
  const clock = new ManualClock(1_000_000);
  const rl = new RateLimiter({}, clock);
  for (let i = 0; i < 50; i++) {
    const d = rl.take('k');
    assert.equal(d.allowed, true, `request ${i + 1} of the burst`);
    assert.equal(d.remaining, 49 - i);
    assert.equal(d.limit, 50);
  }
  const refused = rl.take('k');
  assert.equal(refused.allowed, false);
  assert.equal(refused.remaining, 0);
  assert.ok(Math.abs(refused.retryAfterMs - 100) < 1e-6, `retry after ${refused.retryAfterMs} ms`);
  assert.equal(refused.retryAfterSeconds, 1, 'Retry-After is whole seconds, rounded up');
  assert.equal(refused.resetSeconds, 5, '50 tokens at 10/s');
  assert.deepEqual(rateLimitHeaders(refused), {
    'RateLimit-Limit': '50',
    'RateLimit-Remaining': '0',
    'RateLimit-Reset': '5',
    'Retry-After': '1',
  });

  clock.advance(99);
  assert.equal(rl.take('k').allowed, false, 'not yet: 0.99 of a token');
  clock.advance(1);
  const allowed = rl.take('k');
  assert.equal(allowed.allowed, true, 'one token after 1/rps s');
  assert.equal(allowed.remaining, 0);
  assert.equal(rateLimitHeaders(allowed)['Retry-After'], undefined, 'no Retry-After when allowed');
  assert.equal(rl.take('k').allowed, false);

  // Refill never goes past the burst.
  clock.advance(60_000);
  const full = rl.peek('k');
  assert.equal(full.remaining, 50);
  assert.equal(full.resetSeconds, 0);
  // Another key has its own bucket.
  assert.equal(rl.take('other').remaining, 49);
});

test('per-key limits: a custom rps and burst, and a limit changed on a live bucket', () => {
  const clock = new ManualClock(0);
  const rl = new RateLimiter({}, clock);
  const slow = { rps: 2, burst: 3 };
  assert.deepEqual(
    [rl.take('a', slow), rl.take('a', slow), rl.take('a', slow)].map((d) => d.allowed),
    [true, true, true],
  );
  const refused = rl.take('a', slow);
  assert.equal(refused.allowed, false);
  assert.equal(refused.limit, 3);
  assert.equal(refused.retryAfterMs, 500, 'one token at 2/s');
  assert.equal(refused.resetSeconds, 2, '3 tokens at 2/s = 1.5 s, rounded up');
  clock.advance(500);
  assert.equal(rl.take('a', slow).allowed, true);
  // A bigger limit applies at once but does not conjure tokens; a smaller one caps them.
  clock.advance(1000);
  const bigger = rl.take('a', { rps: 100, burst: 1000 });
  assert.equal(bigger.limit, 1000);
  assert.equal(bigger.remaining, 1, '2 tokens refilled at the old rate, one taken');
  clock.advance(10_000);
  assert.equal(rl.take('a', { rps: 1, burst: 5 }).remaining, 4, 'capped at the new burst');
});

test('the default limit is configurable, and memory is bounded by the LRU', () => {
  const clock = new ManualClock(0);
  const rl = new RateLimiter({ defaultLimit: { rps: 1, burst: 1 }, capacity: 3 }, clock);
  assert.equal(rl.take('x').allowed, true);
  assert.equal(rl.take('x').allowed, false);
  for (const k of ['a', 'b', 'c']) rl.take(k);
  assert.equal(rl.size, 3);
  assert.equal(rl.take('x').allowed, true, 'an evicted bucket comes back full');
});

test('options are validated with the option name, the expectation and the value', () => {
  assert.throws(
    () => new RateLimiter({ defaultLimit: { rps: 0, burst: 1.5 }, capacity: -1 }),
    (err: unknown) => {
      assert.ok(isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'));
      assert.match(
        err.message,
        /"rateLimit\.defaultLimit\.rps" must be a number from 0\.001 to 1000000, got 0/,
      );
      assert.match(
        err.message,
        /"rateLimit\.defaultLimit\.burst" must be an integer from 1 to 10000000, got 1\.5/,
      );
      assert.match(err.message, /"rateLimit\.capacity" must be an integer from 1 to 100000000, got -1/);
      return true;
    },
  );
});

test('the hot path is cheap: 200k decisions well under a second', () => {
  const rl = new RateLimiter({ defaultLimit: { rps: 1e6, burst: 1e6 } });
  const t0 = performance.now();
  for (let i = 0; i < 200_000; i++) rl.take(`k${i & 1023}`);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});
