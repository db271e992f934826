import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMemory } from './fixtures/memory.js';
import { evaluateRecall, loadRecallMemories, loadRecallQueries } from './fixtures/recall/evaluate.js';

let m: Awaited<ReturnType<typeof startMemory>>;
const idOf = new Map<string, string>();

before(async () => {
  m = await startMemory();
  const memories = loadRecallMemories();
  const stored = await Promise.all(
    memories.map((x) => m.memory.store('long-term', x.text, { entityId: 'owner', source: 'fixture' })),
  );
  for (const [i, s] of stored.entries()) idOf.set(s.id, (memories[i] as { id: string }).id);
  assert.equal(
    new Set(stored.map((s) => s.id)).size,
    memories.length,
    'every fixture memory stored as its own record',
  );
});
after(() => m.close());

test('hybrid recall on the paraphrase fixture: recall@5 ≥ 0.8 with the built-in embedder', async (t) => {
  const queries = loadRecallQueries();
  assert.ok(queries.length >= 30 && loadRecallMemories().length >= 200);
  const report = await evaluateRecall(async (query, k) => {
    const hits = await m.memory.recall({ query, entityId: 'owner', limit: k });
    return hits.map((h) => idOf.get(h.id) ?? h.id);
  });
  t.diagnostic(
    `recall@5 = ${report.recallAt5.toFixed(3)}, MRR = ${report.mrr.toFixed(3)} over ${queries.length} queries`,
  );
  for (const q of report.perQuery.filter((p) => p.rank === undefined || p.rank > 5)) {
    t.diagnostic(
      `miss ${q.id}: "${q.query}" → target ${q.target} at ${q.rank ?? '—'}; top ${q.top.slice(0, 3).join(', ')}`,
    );
  }
  assert.ok(report.recallAt5 >= 0.8, `recall@5 ${report.recallAt5}`);
});

test('recall filters by entity and layer', async () => {
  await m.memory.store('episodic', 'Someone else mentioned they are allergic to peanuts.', {
    entityId: 'stranger',
  });
  const mine = await m.memory.recall({ query: 'peanut allergy', entityId: 'owner', limit: 10 });
  assert.ok(mine.length > 0 && mine.every((h) => h.entityId === 'owner'));
  const episodic = await m.memory.recall({ query: 'peanut allergy', layers: ['episodic'], limit: 10 });
  assert.deepEqual(
    episodic.map((h) => h.entityId),
    ['stranger'],
  );
  const scores = mine.map((h) => h.score);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'ranked by score',
  );
});

test('exact tokens that only full-text search sees still reach the top', async () => {
  await m.memory.store('long-term', 'The office door code is 4471.', { entityId: 'owner' });
  await m.memory.store('long-term', 'Booking reference for the Lisbon hotel: QX7P2Z.', { entityId: 'owner' });
  const [code] = await m.memory.recall({ query: '4471', entityId: 'owner', limit: 3 });
  assert.match(code?.content ?? '', /4471/);
  const [booking] = await m.memory.recall({ query: 'QX7P2Z', entityId: 'owner', limit: 3 });
  assert.match(booking?.content ?? '', /QX7P2Z/);
});
