import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { MemoryQueries, memoryWriters } from '../src/actors/memory/repository.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/actors/store/migrations.js';
import { openWriterConnection } from '../src/actors/store/store.js';
import { isJameyError } from '../src/runtime/errors.js';
import { memoryArgs, newSystem, startStore, tempDir, WRITER_MODES } from './fixtures/store.js';

const tmp = tempDir();
after(() => tmp.cleanup());

test('the writer connection is configured as documented', async () => {
  const file = join(tmp.dir, 'pragmas.db');
  const { system } = await startStore(file);
  const db = new Database(file, { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
  const w = openWriterConnection(join(tmp.dir, 'pragmas2.db'));
  assert.equal(w.pragma('synchronous', { simple: true }), 1, 'NORMAL');
  assert.equal(w.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(w.pragma('busy_timeout', { simple: true }), 30_000);
  w.close();
  await system.close();
});

for (const mode of WRITER_MODES) {
  test(`group commit: concurrent writes share transactions and each is acknowledged after commit (${mode})`, async () => {
    const file = join(tmp.dir, `group-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, { maxBatch: 64 }, mode);
    const rows = Array.from({ length: 500 }, () => memoryArgs());
    const results = await Promise.all(rows.map((r) => store.write<{ seq: number }>('memory.insert', r)));
    assert.equal(results.length, 500);
    assert.equal(store.stats.writes, 500);
    assert.ok(store.stats.batches < 100, `500 writes in ${store.stats.batches} transactions`);
    assert.ok(store.stats.batches >= Math.ceil(500 / 64), 'no transaction larger than maxBatch');
    // Acknowledged means committed: a separate connection sees every row.
    const q = new MemoryQueries(store.reader);
    for (const r of rows) assert.equal(q.get(r.id)?.content, r.content);
    await system.close();
  });
}

test('a batch longer than the time budget commits in parts and lets the event loop run between them', async () => {
  const file = join(tmp.dir, 'budget.db');
  // A write op that takes 2 ms: 20 of them would hold the loop 40 ms in one transaction.
  const slow = () => ({
    spin: () => {
      const until = performance.now() + 2;
      while (performance.now() < until) {
        /* busy */
      }
      return true;
    },
  });
  const { store, system } = await startStore(file, {
    batchBudgetMs: 5,
    writers: { memory: memoryWriters, slow },
  });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const before = store.stats.batches;
  const acks = await Promise.all(Array.from({ length: 20 }, () => store.write('slow.spin')));
  clearInterval(timer);
  assert.deepEqual(acks, Array(20).fill(true));
  const parts = store.stats.batches - before;
  assert.ok(parts >= 5, `20 writes of 2 ms in ${parts} transactions under a 5 ms budget`);
  assert.ok(ticks >= 3, `the loop ran between the parts (${ticks} timer ticks)`);
  await system.close();
});

for (const mode of WRITER_MODES) {
  test(`a failing write fails alone; the rest of its batch commits (${mode})`, async () => {
    const file = join(tmp.dir, `savepoint-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, {}, mode);
    const first = memoryArgs();
    await store.write('memory.insert', first);
    const batch = [
      memoryArgs(),
      { ...memoryArgs(), id: first.id },
      memoryArgs(),
      { ...memoryArgs(), layer: 'nope' as never },
      memoryArgs(),
    ];
    const outcomes = await Promise.allSettled([
      ...batch.map((r) => store.write('memory.insert', r)),
      store.write('memory.bogus', {}),
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code)),
      ['ok', 'JAMEY_ERR_CONFLICT', 'ok', 'JAMEY_ERR_CONFLICT', 'ok', 'JAMEY_ERR_VALIDATION'],
    );
    const q = new MemoryQueries(store.reader);
    assert.equal(q.get(batch[0]!.id)?.layer, 'long-term');
    assert.equal(q.get(batch[2]!.id)?.layer, 'long-term');
    assert.equal(q.get(batch[4]!.id)?.layer, 'long-term');
    assert.equal(q.get(first.id)?.content, first.content, 'the duplicate did not overwrite');
    assert.equal(q.countByLayer()['long-term'], 4);
    assert.equal(store.stats.failedWrites, 3);
    await system.close();
  });
}

test('migrations: an empty file is migrated to the newest version; a newer file is refused', () => {
  const file = join(tmp.dir, 'migrate.db');
  const db = new Database(file);
  assert.deepEqual(migrate(db), { from: 0, to: SCHEMA_VERSION });
  assert.deepEqual(migrate(db), { from: SCHEMA_VERSION, to: SCHEMA_VERSION }, 'idempotent');
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => openWriterConnection(file),
    (err) =>
      isJameyError(err, 'JAMEY_ERR_STORE_VERSION') && /newer than this build supports/.test(err.message),
  );
});

test('migrations: a previous-version file keeps its data; a failing migration changes nothing', () => {
  const file = join(tmp.dir, 'previous.db');
  const db = new Database(file);
  migrate(db, MIGRATIONS);
  db.prepare(
    "INSERT INTO memories (id, layer, content, content_hash, created_at, last_accessed_at) VALUES ('m1', 'semantic', 'sky is blue', 'h', 1, 1)",
  ).run();
  const next = [
    ...MIGRATIONS,
    {
      version: SCHEMA_VERSION + 1,
      name: 'tags',
      up: "ALTER TABLE memories ADD COLUMN tags TEXT; UPDATE memories SET tags = '[]';",
    },
  ];
  assert.deepEqual(migrate(db, next), { from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
  assert.deepEqual(db.prepare("SELECT content, tags FROM memories WHERE id = 'm1'").get(), {
    content: 'sky is blue',
    tags: '[]',
  });
  const broken = [
    ...next,
    {
      version: SCHEMA_VERSION + 2,
      name: 'broken',
      up: 'ALTER TABLE memories ADD COLUMN x INT; SELECT * FROM nope;',
    },
  ];
  assert.throws(() => migrate(db, broken));
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  const columns = (db.prepare('PRAGMA table_info(memories)').all() as Array<{ name: string }>).map(
    (c) => c.name,
  );
  assert.ok(!columns.includes('x'), 'the failed migration was rolled back whole');
  db.close();
});

for (const mode of WRITER_MODES) {
  test(`many actors writing at once: every write lands exactly once (${mode})`, async () => {
    const file = join(tmp.dir, `many-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, {}, mode);
    const writers = Array.from({ length: 20 }, (_, w) =>
      (async () => {
        const ids: string[] = [];
        for (let i = 0; i < 50; i++) {
          const args = memoryArgs({ entityId: `writer-${w}` });
          await store.write('memory.insert', args);
          ids.push(args.id);
        }
        return ids;
      })(),
    );
    const ids = (await Promise.all(writers)).flat();
    assert.equal(new Set(ids).size, 1000);
    const q = new MemoryQueries(store.reader);
    assert.equal(q.countByLayer()['long-term'], 1000);
    assert.equal(q.list({ entityId: 'writer-7' }, Number.MAX_SAFE_INTEGER, 100).length, 50);
    await system.close();
  });
}

test('concurrent writes from many actors through the one writer', async () => {
  const file = join(tmp.dir, 'actors.db');
  const { store, system } = await startStore(file);
  // Ten actors share nothing but the store; each writes 40 rows on one message.
  const other = newSystem();
  const refs = Array.from({ length: 10 }, (_, a) =>
    other.spawn<number, string[]>({
      name: `writer-${a}`,
      start: () => ({
        receive: async (n) => {
          const ids: string[] = [];
          await Promise.all(
            Array.from({ length: n }, async () => {
              const args = memoryArgs({ entityId: `actor-${a}` });
              await store.write('memory.insert', args);
              ids.push(args.id);
            }),
          );
          return ids;
        },
      }),
    }),
  );
  await other.start();
  const ids = (await Promise.all(refs.map((r) => r.ask(40)))).flat();
  assert.equal(new Set(ids).size, 400);
  const q = new MemoryQueries(store.reader);
  for (let a = 0; a < 10; a++)
    assert.equal(q.list({ entityId: `actor-${a}` }, Number.MAX_SAFE_INTEGER, 100).length, 40);
  assert.ok(store.stats.batches < 400, `${store.stats.batches} transactions for 400 writes`);
  await other.close();
  await system.close();
});

test('on the writer thread, a long write does not hold the event loop', async () => {
  const file = join(tmp.dir, 'thread-loop.db');
  const { store, system } = await startStore(file, {}, 'writer thread');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const ran = await store.write<number>('test.spin', 60);
  clearInterval(timer);
  assert.notEqual(ran, threadId, 'the write ran on another thread');
  // On the event loop the same write would allow no tick at all while it runs.
  assert.ok(ticks >= 20, `the loop kept turning while the thread wrote (${ticks} ticks of 1 ms in 60 ms)`);
  await system.close();
});

test('a writer thread that dies fails its writes with a code and is replaced', async () => {
  const file = join(tmp.dir, 'thread-crash.db');
  const { store, system } = await startStore(file, {}, 'writer thread');
  const before = memoryArgs();
  await store.write('memory.insert', before);
  await assert.rejects(
    store.write('test.exit'),
    (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_CRASHED') && /writer thread exited/.test(err.message),
  );
  // The supervisor restarts the store actor on a new thread after a backoff (on the runtime's
  // unref'd timers: a ref'd one keeps this test process alive meanwhile, as a server would).
  const alive = setInterval(() => undefined, 20);
  const after1 = memoryArgs();
  await store.write('memory.insert', after1);
  clearInterval(alive);
  // What was committed before the crash is still there.

  const q = new MemoryQueries(store.reader);
  assert.equal(q.get(before.id)?.content, before.content);
  assert.equal(q.get(after1.id)?.content, after1.content);
  await system.close();
});

test('on the writer thread, writes sent one per turn of the event loop share commits under load', async () => {
  const file = join(tmp.dir, 'thread-linger.db');
  const { store, system } = await startStore(file, { commitIntervalMs: 20 }, 'writer thread');
  const rows = Array.from({ length: 200 }, () => memoryArgs());
  const acks: Array<Promise<unknown>> = [];
  for (const r of rows) {
    acks.push(store.write('memory.insert', r));
    // A write a millisecond, each in a turn of its own, as requests' writes arrive: committed one
    // by one, each would be a transaction of its own (a commit takes less than a millisecond).
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(acks);
  assert.equal(store.stats.writes, 200);
  assert.ok(store.stats.batches < 60, `200 writes, one a millisecond, in ${store.stats.batches} commits`);
  const q = new MemoryQueries(store.reader);
  for (const r of rows) assert.equal(q.get(r.id)?.content, r.content, 'acknowledged means committed');
  await system.close();
});
