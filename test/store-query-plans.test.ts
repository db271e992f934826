import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { hitsBySeqsSql, QUERIES } from '../src/actors/memory/repository.js';
import { migrate } from '../src/actors/store/migrations.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir();
after(() => tmp.cleanup());

const ARGS: Record<keyof typeof QUERIES, unknown[]> = {
  byId: ['m1'],
  byHash: ['h', 'semantic', 'e'],
  listByLayer: ['semantic', 1e9, 10],
  listByEntity: ['e', 1e9, 10],
  listByEntityLayer: ['e', 'semantic', 1e9, 10],
  listAll: [1e9, 10],
  preferredModel: ['e'],
  countByLayer: [],
  layerCount: ['working'],
  leastSalient: ['working', 5],
  expired: [1, 10],
  fts: ['sky', 10],
  vectors: [0, 100],
  bySeq: [1],
  seqById: ['m1'],
  embeddingBySeq: [1],
  hitBySeq: [1],
  ftsFiltered: [{ match: 'sky', entity: 'e1', now: 5, limit: 10 }],
  staleLongTerm: [100, 10],
  maxSeq: [],
};

test('every hot query uses an index (EXPLAIN QUERY PLAN), never a full scan of memories', () => {
  const db = new Database(join(tmp.dir, 'plans.db'));
  migrate(db);
  // Enough rows and fresh statistics that the planner's choices are the real ones.
  const insert = db.prepare(
    'INSERT INTO memories (id, layer, entity_id, content, content_hash, salience, created_at, last_accessed_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)',
  );
  const layers = ['short-term', 'working', 'long-term', 'episodic', 'semantic'];
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) {
      insert.run(
        `m${i}`,
        layers[i % 5],
        `e${i % 50}`,
        `the sky is blue ${i}`,
        `h${i}`,
        (i % 10) / 10,
        i,
        i,
        i % 5 === 0 ? i + 300 : null,
      );
    }
  })();
  db.exec('ANALYZE');
  // The recall's hit read, built per size: 20 seqs, the last ones unused (NULL).
  const built: Array<[string, string, unknown[]]> = [
    ['hitsBySeqs', hitsBySeqsSql(20), [1, 2, 3, ...new Array(17).fill(null)]],
  ];
  const all = [
    ...(Object.entries(QUERIES) as Array<[keyof typeof QUERIES, string]>).map(
      ([name, sql]): [string, string, unknown[]] => [name, sql, ARGS[name]],
    ),
    ...built,
  ];
  for (const [name, sql, args] of all) {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
    const details = plan.map((p) => p.detail);
    for (const d of details) {
      if (/^SCAN memories\b/.test(d)) {
        assert.match(d, /USING (COVERING )?INDEX/, `${name}: full scan of memories: ${details.join(' | ')}`);
      }
    }
    assert.ok(
      // A bare "SEARCH memories" is SQLite's min()/max() optimisation on the row id: one b-tree descent.
      details.some((d) =>
        /USING (COVERING )?INDEX|INTEGER PRIMARY KEY|VIRTUAL TABLE INDEX|^SEARCH memories$/.test(d),
      ),
      `${name} uses an index: ${details.join(' | ')}`,
    );
    assert.ok(
      !details.some((d) => /USE TEMP B-TREE FOR ORDER BY/.test(d)) ||
        name === 'fts' ||
        name === 'ftsFiltered',
      `${name} sorts without a temp b-tree: ${details.join(' | ')}`,
    );
  }
  db.close();
});
