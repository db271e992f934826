import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TieredCache } from '../src/actors/cache/index.js';
import { ManualClock } from '../src/runtime/clock.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('single-flight: N concurrent misses call compute once and all get its result', async () => {
  const cache = new TieredCache<string>({ clock: new ManualClock() });
  const gate = deferred<string>();
  let calls = 0;
  const compute = () => {
    calls++;
    return gate.promise;
  };
  const all = Array.from({ length: 50 }, () => cache.getOrComputeResult('t', 'k', compute));
  await Promise.resolve();
  assert.equal(cache.inFlight, 1);
  gate.resolve('v');
  const results = await Promise.all(all);
  assert.equal(calls, 1);
  assert.ok(results.every((r) => r.value === 'v'));
  assert.equal(results.filter((r) => r.source === 'computed').length, 1);
  assert.equal(results.filter((r) => r.source === 'shared').length, 49);
  assert.equal(cache.inFlight, 0);
  assert.deepEqual(await cache.getOrComputeResult('t', 'k', compute), { value: 'v', source: 'l1' });
  assert.equal(calls, 1);
});

test('single-flight: an error reaches every waiter and is not cached', async () => {
  const cache = new TieredCache<string>({ clock: new ManualClock() });
  const gate = deferred<string>();
  let calls = 0;
  const all = Array.from({ length: 10 }, () =>
    cache.getOrCompute('t', 'k', () => {
      calls++;
      return gate.promise;
    }),
  );
  await Promise.resolve();
  gate.reject(new Error('upstream down'));
  const settled = await Promise.allSettled(all);
  assert.equal(calls, 1);
  assert.ok(settled.every((s) => s.status === 'rejected' && /upstream down/.test(String(s.reason))));
  assert.equal(cache.get('t', 'k'), undefined);
  assert.equal(cache.inFlight, 0);
  assert.equal(await cache.getOrCompute('t', 'k', () => 'ok'), 'ok', 'the next call computes again');
  // A compute that throws synchronously is an error like any other.
  await assert.rejects(
    cache.getOrCompute('t', 'sync', () => {
      throw new Error('sync');
    }),
    /sync/,
  );
});

test('single-flight is per tenant and per key', async () => {
  const cache = new TieredCache<string>({ clock: new ManualClock() });
  let calls = 0;
  const compute = async () => `v${++calls}`;
  const [a, b, c] = await Promise.all([
    cache.getOrCompute('t1', 'k', compute),
    cache.getOrCompute('t2', 'k', compute),
    cache.getOrCompute('t1', 'j', compute),
  ]);
  assert.equal(calls, 3);
  assert.equal(new Set([a, b, c]).size, 3);
});

test('cache modes: no-store bypasses, no-cache refreshes, cacheable filters, delete cancels a flight', async () => {
  const cache = new TieredCache<string>({ clock: new ManualClock() });
  cache.set('t', 'k', 'old');
  assert.deepEqual(
    await cache.getOrComputeResult('t', 'k', () => 'fresh', { mode: { read: false, write: false } }),
    { value: 'fresh', source: 'bypass' },
  );
  assert.equal(cache.get('t', 'k'), 'old', 'no-store writes nothing');
  assert.deepEqual(
    await cache.getOrComputeResult('t', 'k', () => 'fresh', { mode: { read: false, write: true } }),
    { value: 'fresh', source: 'computed' },
  );
  assert.equal(cache.get('t', 'k'), 'fresh', 'no-cache refreshed the entry');
  await cache.getOrCompute('t', 'err', () => 'HTTP 500', { cacheable: (v) => !v.includes('500') });
  assert.equal(cache.get('t', 'err'), undefined);

  const gate = deferred<string>();
  const pending = cache.getOrCompute('t', 'gone', () => gate.promise);
  await Promise.resolve();
  cache.delete('t', 'gone');
  gate.resolve('stale');
  assert.equal(await pending, 'stale', 'the caller still gets its answer');
  assert.equal(cache.get('t', 'gone'), undefined, 'but it is not stored after the delete');
});

test('generations: read, write and bump, read → recomputed; an old compute lands under the old key', async () => {
  const cache = new TieredCache<number>({ clock: new ManualClock() });
  let data = 1;
  let computes = 0;
  const read = () =>
    cache.getOrCompute('t', cache.generationKey('t', 'memory', 'list'), async () => {
      computes++;
      return data;
    });
  assert.equal(await read(), 1);
  assert.equal(await read(), 1);
  assert.equal(computes, 1);
  data = 2;
  assert.equal(cache.bump('t', 'memory'), 1);
  assert.equal(await read(), 2);
  assert.equal(computes, 2);
  assert.equal(cache.generation('t2', 'memory'), 0, 'per tenant');

  // A compute that started before the write finishes after it: its stale value must not be seen.
  const gate = deferred<number>();
  const before = cache.getOrCompute('t', cache.generationKey('t', 'memory', 'slow'), () => gate.promise);
  await Promise.resolve();
  data = 3;
  cache.bump('t', 'memory');
  const after = cache.getOrCompute('t', cache.generationKey('t', 'memory', 'slow'), async () => data);
  gate.resolve(2);
  assert.equal(await before, 2);
  assert.equal(await after, 3, 'did not join the flight that started before the bump');
  assert.equal(await cache.getOrCompute('t', cache.generationKey('t', 'memory', 'slow'), () => -1), 3);
});

test('property: a read that starts after a write completes never returns a value computed before it', async () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('read' as const),
      key: fc.integer({ min: 0, max: 2 }),
      delay: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ kind: fc.constant('write' as const) }),
    fc.record({ kind: fc.constant('tick' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const cache = new TieredCache<number>({ clock: new ManualClock() });
      // The data is a version number; a write commits a new version and then bumps.
      let version = 0;
      const reads: Array<Promise<void>> = [];
      const tick = () => new Promise<void>((r) => setImmediate(r));
      for (const o of ops) {
        if (o.kind === 'write') {
          version++;
          cache.bump('t', 'memory');
        } else if (o.kind === 'tick') {
          await tick();
        } else {
          const startedAt = version;
          const p = cache
            .getOrCompute('t', cache.generationKey('t', 'memory', `q${o.key}`), async () => {
              const seen = version;
              for (let i = 0; i < o.delay; i++) await tick();
              return seen;
            })
            .then((v) => {
              assert.ok(v >= startedAt, `read started at version ${startedAt} returned ${v}`);
            });
          reads.push(p);
        }
      }
      await Promise.all(reads);
    }),
    { numRuns: 200 },
  );
});
