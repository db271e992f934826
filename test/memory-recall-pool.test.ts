import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../src/runtime/clock.js';
import { defaultOptions } from '../src/runtime/options.js';
import { TaskPool } from '../src/runtime/pool.js';
import { startMemory } from './fixtures/memory.js';
import { loadRecallMemories, loadRecallQueries } from './fixtures/recall/evaluate.js';

// The same memories in two systems: one searching on the event loop, one sending every scan and
// full-text query to the pool, scans split in small partitions. Recall must not tell them apart.
const pool = new TaskPool({ ...defaultOptions().pool, maxThreads: 2 }, systemClock);
let local: Awaited<ReturnType<typeof startMemory>>;
let pooled: Awaited<ReturnType<typeof startMemory>>;

before(async () => {
  local = await startMemory();
  pooled = await startMemory({ poolScanThreshold: 0, ftsPoolThreshold: 0, scanPartitionRows: 40 }, { pool });
  const memories = loadRecallMemories();
  for (const [i, x] of memories.entries()) {
    const entityId = i % 3 === 2 ? undefined : `owner-${i % 3}`;
    const options = entityId === undefined ? {} : { entityId };
    await local.memory.store('long-term', x.text, options);
    await pooled.memory.store('long-term', x.text, options);
  }
});
after(async () => {
  await local.close();
  await pooled.close();
  await pool.destroy();
});

test('recall in the pool (one task, or a split scan) returns what recall on the event loop does', async () => {
  const queries = loadRecallQueries().slice(0, 12);
  for (const [i, q] of queries.entries()) {
    for (const input of [
      { query: q.query, limit: 8 },
      { query: q.query, entityId: `owner-${i % 2}`, limit: 5 },
      { query: q.query, layers: ['long-term' as const], limit: 3 },
    ]) {
      const a = await local.memory.recall(input);
      const b = await pooled.memory.recall(input);
      assert.ok(a.length > 0);
      assert.deepEqual(
        b.map((h) => [h.content, h.score, h.entityId]),
        a.map((h) => [h.content, h.score, h.entityId]),
        JSON.stringify(input),
      );
    }
  }
});
