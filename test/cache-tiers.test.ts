import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import {
  EmbeddingTier,
  ExpiringLru,
  registerCacheMetrics,
  resolveCacheOptions,
  TieredCache,
  withTieredEmbeddings,
} from '../src/actors/cache/index.js';
import type { EmbeddingProvider } from '../src/actors/memory/embedding/provider.js';
import { ManualClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';

const tier = (clock: ManualClock, capacity = 3, ttlMs = 1000, ttiMs = 500) =>
  new ExpiringLru<string>({ capacity, ttlMs, ttiMs }, clock);

test('TTL: an entry read within its idle time still expires at its time to live', () => {
  const clock = new ManualClock();
  const t = tier(clock);
  t.set('a', 'A');
  for (let i = 0; i < 4; i++) {
    clock.advance(240);
    assert.equal(t.get('a'), 'A', `alive at ${clock.now()}`);
  }
  clock.advance(40); // 1000 ms after the write
  assert.equal(t.get('a'), undefined);
  assert.equal(t.size, 0, 'removed on the read that found it expired');
  assert.deepEqual([t.hits, t.misses, t.expirations], [4, 1, 1]);
});

test('TTL per entry is capped by the tier TTL', () => {
  const clock = new ManualClock();
  const t = tier(clock, 3, 1000, 10_000);
  t.set('short', 'S', 100);
  t.set('long', 'L', 60_000);
  clock.advance(100);
  assert.equal(t.get('short'), undefined);
  clock.advance(899);
  assert.equal(t.get('long'), 'L');
  clock.advance(1);
  assert.equal(t.get('long'), undefined);
  for (const bad of [0, -1, Number.NaN]) {
    assert.throws(
      () => t.set('x', 'X', bad),
      (e) => isJameyError(e, 'JAMEY_ERR_VALIDATION'),
    );
  }
});

test('TTI: an entry not read for its idle time expires; each read restarts the idle time', () => {
  const clock = new ManualClock();
  const t = tier(clock);
  t.set('a', 'A');
  t.set('b', 'B');
  clock.advance(400);
  assert.equal(t.get('a'), 'A');
  clock.advance(100); // b idle 500 ms, a idle 100 ms
  assert.equal(t.get('b'), undefined);
  assert.equal(t.get('a'), 'A');
  clock.advance(500);
  assert.equal(t.get('a'), undefined);
});

test('capacity: the least recently used entry is evicted and counted', () => {
  const clock = new ManualClock();
  const t = tier(clock, 3, 60_000, 60_000);
  t.set('a', 'A');
  t.set('b', 'B');
  t.set('c', 'C');
  assert.equal(t.get('a'), 'A'); // a is now the most recent; b the least
  t.set('a', 'A2'); // an update evicts nothing
  assert.equal(t.evictions, 0);
  t.set('d', 'D');
  assert.equal(t.evictions, 1);
  assert.equal(t.get('b'), undefined);
  assert.equal(t.get('c'), 'C');
  t.set('e', 'E'); // evicts a (c and d were used after it)
  t.set('f', 'F'); // evicts d
  assert.equal(t.evictions, 3);
  assert.deepEqual(
    ['a', 'c', 'd', 'e', 'f'].map((k) => t.get(k)),
    [undefined, 'C', undefined, 'E', 'F'],
  );
  assert.equal(t.size, 3);
  assert.equal(t.stats().evictions, 3);
});

test('sweep removes idle entries from the LRU end, within its bound', () => {
  const clock = new ManualClock();
  const t = new ExpiringLru<number>({ capacity: 100, ttlMs: 60_000, ttiMs: 1000 }, clock);
  for (let i = 0; i < 10; i++) t.set(`old${i}`, i);
  clock.advance(600);
  for (let i = 0; i < 5; i++) t.set(`new${i}`, i);
  clock.advance(500); // old* idle 1100 ms, new* 500 ms
  assert.equal(t.sweep(4), 4, 'bounded');
  assert.equal(t.size, 11);
  assert.equal(t.sweep(1000), 6);
  assert.equal(t.size, 5);
  assert.equal(t.expirations, 10);
  assert.equal(t.get('new0'), 0);
  t.delete('new1');
  clock.advance(1000);
  assert.equal(t.sweep(1000), 4, 'after a delete the walk still follows the list');
  assert.equal(t.size, 0);
});

test('tenants: the same key under two tenants never crosses; invalidating one leaves the other', async () => {
  const clock = new ManualClock();
  const cache = new TieredCache<string>({ clock });
  cache.set('alice', 'GET /v1/memories', 'alice-data');
  assert.equal(cache.get('bob', 'GET /v1/memories'), undefined);
  cache.set('bob', 'GET /v1/memories', 'bob-data');
  assert.equal(cache.get('alice', 'GET /v1/memories'), 'alice-data');
  assert.equal(cache.get('bob', 'GET /v1/memories'), 'bob-data');
  // A tenant name that is a prefix of another, and keys that try to spell another tenant's key.
  cache.set('al', 'ice\u0000GET /v1/memories', 'al');
  assert.equal(cache.get('alice', 'GET /v1/memories'), 'alice-data');
  assert.throws(
    () => cache.set('alice\u0000x', 'k', 'v'),
    (e) => isJameyError(e, 'JAMEY_ERR_VALIDATION'),
  );
  assert.throws(
    () => cache.get('', 'k'),
    (e) => isJameyError(e, 'JAMEY_ERR_VALIDATION'),
  );
  assert.deepEqual(await cache.invalidateTenant('alice'), { l1: 1, l3: 0 });
  assert.equal(cache.get('alice', 'GET /v1/memories'), undefined);
  assert.equal(cache.get('bob', 'GET /v1/memories'), 'bob-data');
  assert.equal(cache.get('al', 'ice\u0000GET /v1/memories'), 'al');
  // getOrCompute is scoped the same way.
  assert.equal(await cache.getOrCompute('carol', 'GET /v1/memories', () => 'carol-data'), 'carol-data');
  assert.equal(cache.get('bob', 'GET /v1/memories'), 'bob-data');
});

test('L2: vectors keyed by tenant, model and text; long texts by digest; TTL from the tier', () => {
  const clock = new ManualClock();
  const l2 = new EmbeddingTier({ clock, options: { l2: { capacity: 2, ttlMs: 1000, ttiMs: 1000 } } });
  const v = new Float32Array([1, 0]);
  const long = 'x'.repeat(500);
  l2.set('t1', 'model-a', long, v);
  assert.equal(l2.get('t1', 'model-a', long), v);
  assert.equal(l2.get('t1', 'model-b', long), undefined, 'models never mix');
  assert.equal(l2.get('t2', 'model-a', long), undefined, 'tenants never mix');
  assert.equal(l2.get('t1', 'model-a', `${long}y`), undefined);
  l2.set('t1', 'model-a', 'short', v);
  l2.set('t1', 'model-a', 'third', v);
  assert.equal(l2.stats().evictions, 1);
  clock.advance(1000);
  assert.equal(l2.get('t1', 'model-a', 'third'), undefined);
  assert.throws(
    () => l2.set('t1', 'm', 'x', [1, 2] as unknown as Float32Array),
    (e) => isJameyError(e, 'JAMEY_ERR_VALIDATION'),
  );
});

test('L2 adapter: the EmbeddingCache shape for one tenant, and a provider wrapper with single-flight', async () => {
  const l2 = new EmbeddingTier();
  const view = l2.forTenant('t1');
  view.set('p', 'hello', new Float32Array([1]));
  assert.deepEqual(view.get('p', 'hello'), new Float32Array([1]));
  assert.equal(l2.forTenant('t2').get('p', 'hello'), undefined);
  assert.deepEqual(view.stats, { hits: 1, misses: 1, size: 1, capacity: 10_000 });

  const calls: string[][] = [];
  const provider: EmbeddingProvider = {
    id: 'p',
    dimensions: 1,
    async embed(texts) {
      calls.push([...texts]);
      await new Promise((r) => setTimeout(r, 5));
      return texts.map((t) => new Float32Array([t.length]));
    },
  };
  const wrapped = withTieredEmbeddings(provider, l2, 't1');
  const [a, b] = await Promise.all([wrapped.embed(['aa', 'bbb', 'aa']), wrapped.embed(['bbb', 'cccc'])]);
  assert.deepEqual(calls, [['aa', 'bbb'], ['cccc']], 'bbb is embedded once though two calls asked');
  assert.deepEqual(
    a.map((v) => v[0]),
    [2, 3, 2],
  );
  assert.deepEqual(
    b.map((v) => v[0]),
    [3, 4],
  );
  assert.deepEqual(
    (await wrapped.embed(['hello', 'aa'])).map((v) => v[0]),
    [1, 2],
  );
  assert.equal(calls.length, 2, 'all from L2');

  const failing = withTieredEmbeddings(
    {
      id: 'q',
      dimensions: 1,
      embed: async () => {
        throw new Error('down');
      },
    },
    l2,
    't1',
  );
  await assert.rejects(failing.embed(['z']), /down/);
  assert.equal(l2.get('t1', 'q', 'z'), undefined);
});

test('options: defaults, and every problem named with the expected and given value', () => {
  const o = resolveCacheOptions();
  assert.deepEqual(o.l1, { capacity: 10_000, ttlMs: 3_600_000, ttiMs: 1_800_000 });
  assert.equal(o.l3.pruneIntervalMs, 300_000);
  assert.throws(
    () =>
      resolveCacheOptions({ l1: { capacity: 0 }, l2: { ttlMs: -1 }, bogus: 1 } as unknown as Parameters<
        typeof resolveCacheOptions
      >[0]),
    (e: unknown) =>
      isJameyError(e, 'JAMEY_ERR_INVALID_OPTION') &&
      /option "cache\.l1\.capacity" must be an integer from 1 to 100000000, got 0/.test(e.message) &&
      /option "cache\.l2\.ttlMs" must be a number from 1 to \d+, got -1/.test(e.message) &&
      /unknown option "cache\.bogus"/.test(e.message),
  );
});

test('metrics: hits, misses, evictions and size per tier, read at scrape time', async () => {
  const clock = new ManualClock();
  const cache = new TieredCache<string>({ clock, options: { l1: { capacity: 1 } } });
  const l2 = new EmbeddingTier({ clock });
  const registry = new Registry();
  registerCacheMetrics(registry, { cache, embeddings: l2 });
  cache.set('t', 'a', 'A');
  cache.get('t', 'a');
  cache.get('t', 'b');
  cache.set('t', 'b', 'B');
  l2.get('t', 'm', 'x');
  const text = await registry.metrics();
  assert.match(text, /jamey_cache_hits_total\{tier="l1"\} 1/);
  assert.match(text, /jamey_cache_misses_total\{tier="l1"\} 1/);
  assert.match(text, /jamey_cache_evictions_total\{tier="l1"\} 1/);
  assert.match(text, /jamey_cache_size\{tier="l1"\} 1/);
  assert.match(text, /jamey_cache_misses_total\{tier="l2"\} 1/);
  assert.match(text, /jamey_cache_size\{tier="l2"\} 0/);
  assert.doesNotMatch(text, /tier="l3"/, 'no L3 without a store');
});
