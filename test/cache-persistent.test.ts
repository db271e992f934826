import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import {
  CACHE_QUERIES,
  CACHE_WRITES,
  type CacheStore,
  cacheActorSpec,
  cacheWriters,
  registerCacheMetrics,
  TieredCache,
} from '../src/actors/cache/index.js';
import { migrate } from '../src/actors/store/migrations.js';
import { Store } from '../src/actors/store/store.js';
import { ManualClock } from '../src/runtime/clock.js';
import { newSystem, startStore, tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-cache-');
after(() => tmp.cleanup());

let files = 0;
const nextFile = () => join(tmp.dir, `cache-${++files}.db`);
const open = (file: string) => startStore(file, { writers: { cache: cacheWriters } });
const rows = (store: Store): Array<{ tenant: string; key: string }> =>
  store.reader.statement('SELECT tenant, key FROM cache_entries ORDER BY tenant, key').all() as Array<{
    tenant: string;
    key: string;
  }>;

interface Value {
  n: number;
  body: Buffer;
}

test('L3: a persistent entry survives a restart of the store and is promoted to L1 on read', async () => {
  const file = nextFile();
  const clock = new ManualClock(1_000_000);
  let { store, system } = await open(file);
  const first = new TieredCache<Value>({ clock, store });
  first.set('t1', 'GET /a', { n: 1, body: Buffer.from('hello') }, { persist: true });
  first.set('t1', 'GET /b', { n: 2, body: Buffer.from('memory only') });
  first.set('t2', 'GET /a', { n: 3, body: Buffer.from('other tenant') }, { persist: true });
  await first.flush();
  assert.deepEqual(rows(store), [
    { tenant: 't1', key: 'GET /a' },
    { tenant: 't2', key: 'GET /a' },
  ]);
  await system.close();

  ({ store, system } = await open(file));
  clock.advance(60_000);
  const second = new TieredCache<Value>({ clock, store });
  const r = await second.getOrComputeResult('t1', 'GET /a', () => assert.fail('must come from L3'));
  assert.equal(r.source, 'l3');
  assert.equal(r.value.n, 1);
  assert.ok(Buffer.isBuffer(r.value.body));
  assert.equal(r.value.body.toString(), 'hello');
  assert.equal((await second.getOrComputeResult('t1', 'GET /a', () => assert.fail())).source, 'l1');
  assert.equal(second.get('t1', 'GET /b'), undefined, 'not persisted');
  assert.equal(second.get('t2', 'GET /a')?.n, 3);
  assert.equal(second.get('t3', 'GET /a'), undefined);
  assert.deepEqual(
    { hits: second.l3.hits, misses: second.l3.misses },
    { hits: 2, misses: 2 },
    'L3 hits for t1 and t2, misses for /b and t3',
  );
  await second.flush();
  assert.equal(second.l3.writeFailures, 0);
  assert.equal(second.stats().l3.size, 2);
  const registry = new Registry();
  registerCacheMetrics(registry, { cache: second });
  const text = await registry.metrics();
  assert.match(text, /jamey_cache_hits_total\{tier="l3"\} 2/);
  assert.match(text, /jamey_cache_misses_total\{tier="l3"\} 2/);
  assert.match(text, /jamey_cache_size\{tier="l3"\} 2/);
  assert.match(text, /jamey_cache_l3_write_failures_total 0/);
  await system.close();
});

test('L3: TTL and TTI on read, the read refreshes the idle time, prune removes expired and idle rows', async () => {
  const clock = new ManualClock(5_000_000);
  const { store, system } = await open(nextFile());
  const options = { l3: { ttlMs: 10_000, ttiMs: 1_000, pruneBatch: 2 } };
  const writer = new TieredCache<string>({ clock, store, options });
  writer.set('t', 'ttl', 'x', { persist: true, ttlMs: 500 });
  writer.set('t', 'idle', 'x', { persist: true });
  writer.set('t', 'read', 'x', { persist: true });
  for (let i = 0; i < 5; i++) writer.set('t', `bulk${i}`, 'x', { persist: true, ttlMs: 100 });
  await writer.flush();
  clock.advance(600);
  // A fresh cache has an empty L1, so these reads go to L3.
  const reader = new TieredCache<string>({ clock, store, options });
  assert.equal(reader.get('t', 'ttl'), undefined);
  assert.equal(reader.get('t', 'read'), 'x');
  await reader.flush(); // the touch
  clock.advance(600); // idle: 1200 ms since written; read: 600 ms since the read
  const third = new TieredCache<string>({ clock, store, options });
  assert.equal(third.get('t', 'idle'), undefined);
  assert.equal(third.get('t', 'read'), 'x');
  assert.equal(third.l3.expirations, 1);
  assert.equal(rows(store).length, 8, 'reads never delete');
  // Expired rows are idle too by now, so which pass takes a row depends on the batch order.
  const pruned = await third.prune();
  assert.equal(pruned.expired + pruned.idle, 7, 'ttl, idle and the five bulk rows, in batches of 2');
  assert.equal(pruned.evicted, 0);
  assert.deepEqual(rows(store), [{ tenant: 't', key: 'read' }]);
  await system.close();
});

test('L3 prune: over capacity the least recently used rows go first', async () => {
  const clock = new ManualClock(9_000_000);
  const { store, system } = await open(nextFile());
  const cache = new TieredCache<number>({ clock, store, options: { l3: { capacity: 5, pruneBatch: 3 } } });
  for (let i = 0; i < 12; i++) {
    cache.set('t', `k${String(i).padStart(2, '0')}`, i, { persist: true });
    clock.advance(1);
  }
  await cache.flush();
  assert.deepEqual(await cache.prune(), { expired: 0, idle: 0, evicted: 7 });
  assert.deepEqual(
    rows(store).map((r) => r.key),
    ['k07', 'k08', 'k09', 'k10', 'k11'],
  );
  assert.equal(cache.l3.evictions, 7);
  await system.close();
});

test('L3: delete and invalidateTenant reach SQLite; a pending delete is never read back', async () => {
  const clock = new ManualClock(1_000);
  const { store, system } = await open(nextFile());
  const cache = new TieredCache<string>({ clock, store });
  cache.set('a', 'k', 'A', { persist: true });
  cache.set('a', 'j', 'A', { persist: true });
  cache.set('b', 'k', 'B', { persist: true });
  await cache.flush();
  assert.equal(cache.delete('a', 'j'), true);
  assert.equal(cache.get('a', 'j'), undefined, 'L1 gone, and L3 skipped until the delete commits');
  await cache.flush();
  assert.deepEqual(await cache.invalidateTenant('a'), { l1: 1, l3: 1 });
  assert.deepEqual(rows(store), [{ tenant: 'b', key: 'k' }]);
  const fresh = new TieredCache<string>({ clock, store });
  assert.equal(fresh.get('a', 'k'), undefined);
  assert.equal(fresh.get('b', 'k'), 'B');
  await system.close();
});

test('L3 write failures are counted and never reach the request', async () => {
  const failing: CacheStore = {
    write: () => Promise.reject(new Error('disk on fire')),
    reader: {
      statement: () => {
        throw new Error('no reader');
      },
    },
  };
  const cache = new TieredCache<string>({ clock: new ManualClock(), store: failing });
  assert.equal(await cache.getOrCompute('t', 'k', () => 'v', { persist: true }), 'v');
  assert.equal(cache.get('t', 'k'), 'v', 'L1 still serves it');
  assert.equal(cache.get('t', 'other'), undefined, 'a failing L3 read is a miss');
  await cache.flush();
  assert.equal(cache.l3.writeFailures, 1);
  assert.equal(cache.l3.readFailures, 2, 'the miss before the compute, and "other"');
  assert.match(String(cache.lastWriteError), /disk on fire/);
});

test('cache actor: stats, invalidate by namespace and tenant, prune on its timer', async () => {
  const st = new Store({ file: nextFile(), maintenanceIntervalMs: 0, writers: { cache: cacheWriters } });
  const sys = newSystem();
  st.register(sys);
  const cache = new TieredCache<string>({
    store: st,
    options: { l3: { pruneIntervalMs: 20, ttlMs: 1 }, sweepIntervalMs: 20 },
  });
  const ref = sys.spawn(cacheActorSpec({ cache }));
  await sys.start();
  cache.set('t', 'k', 'v', { persist: true });
  await cache.flush();
  assert.equal(rows(st).length, 1);
  const key = cache.generationKey('t', 'memory', 'q');
  assert.deepEqual(await ref.ask({ kind: 'invalidate', tenant: 't', namespace: 'memory' }), {
    generation: 1,
  });
  assert.notEqual(cache.generationKey('t', 'memory', 'q'), key);
  for (let i = 0; i < 50 && rows(st).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rows(st).length, 0, 'the prune timer removed the expired row');
  cache.set('t', 'k2', 'v');
  // k is still in L1: each tier has its own TTL (L1's is the default hour).
  assert.deepEqual(await ref.ask({ kind: 'invalidate', tenant: 't' }), { l1: 2, l2: 0, l3: 0 });
  const stats = (await ref.ask({ kind: 'stats' })) as { l1: { size: number }; l3: { size: number } };
  assert.equal(stats.l1.size, 0);
  assert.equal(stats.l3.size, 0);
  await sys.close();
});

test('every cache query uses the primary key or an index (EXPLAIN QUERY PLAN)', () => {
  const db = new Database(join(tmp.dir, 'plans.db'));
  migrate(db);
  const insert = db.prepare(
    'INSERT INTO cache_entries (tenant, key, value, created_at, expires_at, last_access_at) VALUES (?,?,?,?,?,?)',
  );
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`t${i % 7}`, `k${i}`, Buffer.alloc(8), i, i + 500, i);
  })();
  db.exec('ANALYZE');
  const args: Record<string, unknown[]> = {
    get: ['t1', 'k1'],
    count: [],
    put: [{ tenant: 't', key: 'k', value: Buffer.alloc(1), now: 1, expiresAt: 2 }],
    touch: [1, 't', 'k'],
    delete: ['t', 'k'],
    deleteTenant: ['t'],
    pruneExpired: [100, 10],
    pruneIdle: [100, 10],
    pruneOldest: [10],
  };
  for (const [name, sql] of Object.entries({ ...CACHE_QUERIES, ...CACHE_WRITES })) {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args[name] ?? [])) as Array<{
      detail: string;
    }>;
    const details = plan.map((p) => p.detail);
    if (name === 'put') continue; // an INSERT has no plan rows of its own: the upsert uses the primary key
    for (const d of details) {
      if (/^SCAN cache_entries\b/.test(d)) {
        assert.match(d, /USING (COVERING )?INDEX/, `${name}: full scan: ${details.join(' | ')}`);
      }
    }
    assert.ok(
      details.some((d) => /USING (COVERING )?INDEX|USING PRIMARY KEY/.test(d)),
      `${name} uses an index: ${details.join(' | ')}`,
    );
    assert.ok(
      !details.some((d) => /USE TEMP B-TREE/.test(d)),
      `${name} sorts without a temp b-tree: ${details.join(' | ')}`,
    );
  }
  db.close();
});
