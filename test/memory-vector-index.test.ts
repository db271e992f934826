import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ANY_ENTITY,
  layerMask,
  NO_ENTITY,
  type ScanFilter,
  searchIndex,
  VectorIndex,
} from '../src/actors/memory/vector-index.js';
import { mulberry32 } from '../src/runtime/random.js';

const DIMS = 48;

function unit(random: () => number): Float32Array {
  const v = new Float32Array(DIMS);
  let n = 0;
  for (let d = 0; d < DIMS; d++) {
    v[d] = random() - 0.5;
    n += (v[d] as number) ** 2;
  }
  for (let d = 0; d < DIMS; d++) v[d] = (v[d] as number) / Math.sqrt(n);
  return v;
}

/** 3 000 rows over 7 entities and unowned rows; the index starts small so its lists grow many times. */
function build(): { index: VectorIndex; random: () => number } {
  const random = mulberry32(7);
  const index = new VectorIndex(DIMS, 16);
  for (let i = 0; i < 3000; i++) {
    const entityId = i % 8 === 7 ? null : `user-${i % 8}`;
    const layer = i % 3 === 0 ? 'episodic' : 'long-term';
    index.add({ seq: i + 1, layer, entityId, expiresAt: i % 11 === 0 ? 1000 : null }, unit(random));
  }
  for (let seq = 5; seq <= 3000; seq += 37) index.remove(seq);
  return { index, random };
}

test("an entity's row list gives the same search as a full scan with the entity filter", () => {
  const { index, random } = build();
  for (const [entity, layers] of [
    [index.entityCode('user-3'), undefined],
    [index.entityCode('user-0'), ['long-term'] as const],
    [NO_ENTITY, undefined],
  ] as const) {
    const full = unit(random);
    const query = index.project(full);
    const filter: ScanFilter = { entity, layerMask: layerMask(layers ? [...layers] : undefined), now: 2000 };
    const rows = index.rowsOf(entity);
    assert.ok(rows.length > 300);
    const listed = searchIndex(
      index.views,
      query,
      full,
      filter,
      { list: rows.list, start: 0, end: rows.length },
      40,
      10,
    );
    const scanned = searchIndex(
      index.views,
      query,
      full,
      filter,
      { list: null, start: 0, end: index.count },
      40,
      10,
    );
    assert.equal(listed.rows.length, 10);
    assert.deepEqual(listed, scanned);
    for (const row of listed.rows) assert.equal(index.has(index.seqOfRow(row)), true);
  }
});

test('an entity with no rows has an empty list; ANY_ENTITY is not a list', () => {
  const { index } = build();
  assert.deepEqual(index.rowsOf(index.entityCode('nobody')), { list: null, length: 0 });
  assert.deepEqual(index.rowsOf(ANY_ENTITY), { list: null, length: 0 });
});
