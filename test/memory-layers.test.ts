import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJameyError, type JameyError } from '../src/runtime/errors.js';
import { startMemory } from './fixtures/memory.js';

const MIN = 60_000;
const DAY = 86_400_000;

test('short-term memories expire after the TTL (manual clock) and consolidation removes them', async () => {
  const m = await startMemory();
  const a = await m.memory.store('short-term', 'The parking spot today is level 3, row F.');
  assert.equal(a.expiresAt, a.createdAt + 5 * MIN);
  m.clock.advance(5 * MIN - 1);
  assert.equal((await m.memory.get(a.id)).id, a.id);
  m.clock.advance(1);
  await assert.rejects(m.memory.get(a.id), (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'));
  assert.deepEqual((await m.memory.list({ layer: 'short-term' })).data, []);
  assert.equal((await m.memory.recall({ query: 'where did I park' })).length, 0);
  const report = await m.memory.consolidate();
  assert.equal(report.expired, 1);
  assert.equal((await m.memory.counts())['short-term'], 0);
  await m.close();
});

test('rehearsal and salience promote short-term → working → long-term', async () => {
  const m = await startMemory();
  const rehearsed = await m.memory.store('short-term', 'Maria prefers morning meetings before ten.');
  const salient = await m.memory.store('short-term', 'The office door code changed to 4471.', {
    salience: 0.8,
  });
  const plain = await m.memory.store('short-term', 'It rained a little at lunch.');
  await m.memory.get(rehearsed.id);
  await m.memory.get(rehearsed.id);
  await new Promise((r) => setTimeout(r, 20)); // the touches are written after the replies
  let report = await m.memory.consolidate();
  assert.equal(report.toWorking, 2);
  assert.equal((await m.memory.get(rehearsed.id)).layer, 'working');
  assert.equal((await m.memory.get(salient.id)).expiresAt, null, 'promotion clears the expiry');
  assert.equal((await m.memory.get(plain.id)).layer, 'short-term');
  for (let i = 0; i < 3; i++) await m.memory.get(rehearsed.id);
  await new Promise((r) => setTimeout(r, 20));
  report = await m.memory.consolidate();
  assert.equal(report.toLongTerm, 1);
  assert.equal((await m.memory.get(rehearsed.id)).layer, 'long-term');
  await m.close();
});

test('working memory holds its capacity; the least salient is promoted or dropped', async () => {
  const m = await startMemory({ workingCapacity: 3 });
  const low = await m.memory.store('working', 'Buy oat milk on the way home.', { salience: 0.1 });
  const keep = await m.memory.store('working', 'The quarterly report is due on the 14th.', {
    salience: 0.55,
  });
  await m.memory.store('working', 'Sam is allergic to peanuts.', { salience: 0.9 });
  await m.memory.store('working', 'The staging server runs Debian 12.', { salience: 0.8 });
  assert.equal((await m.memory.counts()).working, 3);
  await assert.rejects(m.memory.get(low.id), (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'));
  await m.memory.store('working', 'Flight AB123 leaves at 07:40 from gate 12.', { salience: 0.95 });
  assert.equal(
    (await m.memory.get(keep.id)).layer,
    'long-term',
    'evicted with salience ≥ 0.5: kept in long-term',
  );
  assert.equal((await m.memory.counts()).working, 3);
  await m.close();
});

test('long-term memories are pruned after 30 days without access; episodic and semantic stay', async () => {
  const m = await startMemory();
  const stale = await m.memory.store('long-term', 'The old wifi password was hunter2.');
  const used = await m.memory.store('long-term', 'The dentist is Dr. Okafor on Elm Street.');
  const fact = await m.memory.store('semantic', 'Water boils at 100 °C at sea level.');
  const event = await m.memory.store('episodic', 'User asked about the weather in Lisbon.');
  m.clock.advance(29 * DAY);
  await m.memory.get(used.id);
  await new Promise((r) => setTimeout(r, 20));
  m.clock.advance(2 * DAY);
  const report = await m.memory.consolidate();
  assert.equal(report.pruned, 1);
  await assert.rejects(m.memory.get(stale.id), (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'));
  for (const id of [used.id, fact.id, event.id]) assert.equal((await m.memory.get(id)).id, id);
  await m.close();
});

test('exact and near duplicates merge into the existing memory with provenance; episodic events do not', async () => {
  const m = await startMemory();
  const first = await m.memory.storeWithProvider(
    'semantic',
    'The user’s favourite colour is teal.',
    'user-1',
    'gpt-4o',
  );
  assert.equal(first.preferredModel, 'gpt-4o');
  const again = await m.memory.store('semantic', '  the USER’S favourite   colour is teal. ', {
    entityId: 'user-1',
    source: 'chat',
  });
  assert.equal(again.id, first.id);
  assert.equal(again.merged, 'exact');
  assert.equal(again.accessCount, 1);
  const near = await m.memory.store('semantic', "The user's favorite color is teal", {
    entityId: 'user-1',
    source: 'import',
  });
  assert.equal(near.id, first.id, 'near duplicate merged');
  assert.equal(near.merged, 'near');
  const stored = await m.memory.get(first.id);
  assert.deepEqual(
    stored.provenance.map((p) => [p.merge, p.source]),
    [
      ['exact', 'chat'],
      ['near', 'import'],
    ],
  );
  assert.ok((stored.provenance[1]?.similarity ?? 0) >= 0.85);
  // Close in meaning but a different detail: never merged.
  const monday = await m.memory.store('semantic', 'The team meeting is on Monday at 10.', {
    entityId: 'user-1',
  });
  const tuesday = await m.memory.store('semantic', 'The team meeting is on Tuesday at 10.', {
    entityId: 'user-1',
  });
  assert.notEqual(monday.id, tuesday.id);
  const blue = await m.memory.store('semantic', 'The user’s favourite colour is blue.', {
    entityId: 'user-1',
  });
  assert.notEqual(blue.id, first.id);
  const other = await m.memory.store('semantic', 'The user’s favourite colour is teal.', {
    entityId: 'user-2',
  });
  assert.notEqual(other.id, first.id, 'another entity keeps its own memory');
  const e1 = await m.memory.store('episodic', 'User said good morning.');
  const e2 = await m.memory.store('episodic', 'User said good morning.');
  assert.notEqual(e1.id, e2.id, 'two events, two records');
  await m.close();
});

test('a recalled memory handed back is not stored again; concurrent identical stores make one memory', async () => {
  const m = await startMemory();
  await m.memory.store('long-term', 'Our anniversary dinner is booked at Lumen for the 21st.', {
    entityId: 'u',
  });
  const [hit] = await m.memory.recall({ query: 'when is the anniversary dinner', entityId: 'u' });
  assert.ok(hit);
  const back = await m.memory.store('long-term', hit.content, { entityId: 'u', source: 'recall' });
  assert.equal(back.id, hit.id);
  const results = await Promise.all(
    Array.from({ length: 25 }, () =>
      m.memory.store('semantic', 'Paris is the capital of France.', { entityId: 'u' }),
    ),
  );
  assert.equal(new Set(results.map((r) => r.id)).size, 1);
  assert.equal((await m.memory.counts()).semantic, 1);
  await m.close();
});

test('bad input gets a coded error naming every field, and nothing is written', async () => {
  const m = await startMemory();
  const bad = async (input: unknown) => {
    try {
      await m.ref.ask({ op: 'store', input } as never);
    } catch (err) {
      assert.ok(isJameyError(err, 'JAMEY_ERR_VALIDATION'), String(err));
      return (err as JameyError).details as Array<{ path: string }>;
    }
    assert.fail('accepted bad input');
  };
  assert.deepEqual(
    (await bad({ layer: 'long-term', content: '   ' })).map((d) => d.path),
    ['/content'],
  );
  assert.deepEqual(
    (await bad({ layer: 'dreams', content: 'x' })).map((d) => d.path),
    ['/layer'],
  );
  assert.deepEqual(
    (await bad({ layer: 'working', content: 'x'.repeat(40_000) })).map((d) => d.path),
    ['/content'],
  );
  assert.deepEqual(
    (await bad({ layer: 'nope', content: 7, salience: 2, entityId: '', metadata: [] }))
      .map((d) => d.path)
      .sort(),
    ['/content', '/entityId', '/layer', '/metadata', '/salience'],
  );
  // Metadata nested past what JSON.stringify can walk is refused, not a crash of the actor.
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  assert.deepEqual(
    (await bad({ layer: 'working', content: 'x', metadata: deep })).map((d) => d.path),
    ['/metadata'],
  );
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.deepEqual(
    (await bad({ layer: 'working', content: 'x', metadata: cyclic })).map((d) => d.path),
    ['/metadata'],
  );
  await assert.rejects(m.memory.get('mem_nope'), (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'));
  await assert.rejects(m.memory.delete('mem_nope'), (err) => isJameyError(err, 'JAMEY_ERR_NOT_FOUND'));
  await assert.rejects(m.memory.list({ cursor: 'garbage' }), (err) =>
    isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
  await assert.rejects(m.memory.recall({ query: '', limit: 0 } as never), (err) => {
    assert.ok(isJameyError(err, 'JAMEY_ERR_VALIDATION'));
    assert.deepEqual(
      (err.details as Array<{ path: string }>).map((d) => d.path),
      ['/query', '/limit'],
    );
    return true;
  });
  const counts = await m.memory.counts();
  assert.equal(
    Object.values(counts).reduce((a, b) => a + b, 0),
    0,
  );
  await m.close();
});

test('list pages with a cursor and filters by layer and entity', async () => {
  const m = await startMemory();
  for (let i = 0; i < 7; i++)
    await m.memory.store('episodic', `event ${i}`, { entityId: i % 2 === 0 ? 'even' : 'odd' });
  const page1 = await m.memory.list({ layer: 'episodic', limit: 3 });
  assert.deepEqual(
    page1.data.map((d) => d.content),
    ['event 6', 'event 5', 'event 4'],
  );
  assert.ok(page1.nextCursor);
  const page2 = await m.memory.list({ layer: 'episodic', limit: 3, cursor: page1.nextCursor });
  assert.deepEqual(
    page2.data.map((d) => d.content),
    ['event 3', 'event 2', 'event 1'],
  );
  const evens = await m.memory.list({ entityId: 'even', limit: 10 });
  assert.deepEqual(
    evens.data.map((d) => d.content),
    ['event 6', 'event 4', 'event 2', 'event 0'],
  );
  assert.equal(evens.nextCursor, null);
  await m.close();
});

test('lexical compatibility accepts spelling variants and word order, refuses changed details', async () => {
  const { lexicallyCompatible, editDistance } = await import('../src/actors/memory/dedup.js');
  assert.equal(editDistance('colour', 'color'), 1);
  assert.equal(editDistance('favourite', 'favorite'), 1);
  assert.equal(editDistance('monday', 'tuesday'), 3);
  assert.ok(lexicallyCompatible('The user’s favourite colour is teal.', "the user's favorite color is teal"));
  assert.ok(lexicallyCompatible('Paris is the capital of France.', 'The capital of France is Paris'));
  assert.ok(!lexicallyCompatible('Meeting on Monday at 10', 'Meeting on Tuesday at 10'));
  assert.ok(!lexicallyCompatible('Room 101', 'Room 102'));
  assert.ok(!lexicallyCompatible('Sam is allergic to peanuts', 'Sam is allergic to shellfish'));
});

test('the consolidation actor consolidates on its interval, under supervision', async () => {
  const m = await startMemory({}, { consolidationIntervalMs: 30 });
  const salient = await m.memory.store('short-term', 'The vet appointment for Miso moved to Thursday.', {
    salience: 0.9,
  });
  for (let i = 0; i < 100 && (await m.memory.get(salient.id)).layer !== 'working'; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal((await m.memory.get(salient.id)).layer, 'working');
  assert.equal(m.system.supervision().find((c) => c.name === 'memory-consolidation')?.status, 'running');
  await m.close();
});
