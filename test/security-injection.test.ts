/**
 * SQL injection and FTS5 query syntax in every text field the HTTP API stores or searches, over real
 * HTTP against the whole service and its SQLite file: memory content, entity, model and provider
 * names and metadata; conscience rule descriptions (names and detectors are refused by pattern);
 * chat messages and `user`; key names; predict, process, evaluate and embedding texts; search
 * queries. Each string is stored and read back byte for byte, filters match it exactly (no LIKE
 * wildcards), searches answer 2xx (FTS5 syntax is text), and afterwards the schema is unchanged,
 * no table lost a row and `PRAGMA integrity_check` is ok.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { DATABASE_FILE } from '../src/jamey.js';
import { type Answer, assertCodedError, lenientSecurity, namesField, send } from './fixtures/http-fuzz.js';
import { type Service, startService } from './fixtures/service.js';

/** Classic injections, quoting tricks, placeholders, LIKE wildcards, NUL, and FTS5 query syntax. */
const HOSTILE = [
  "'; DROP TABLE memories; --",
  '" OR 1=1 --',
  "Robert'); DROP TABLE students;--",
  "' OR '1'='1",
  '1; DELETE FROM api_keys WHERE 1=1; --',
  "x' UNION SELECT secret_hash, id FROM api_keys --",
  "'); ATTACH DATABASE 'elsewhere.db' AS x; --",
  'PRAGMA writable_schema = 1;',
  '/* comment */ SELECT 1',
  "\\'; -- backslash-escaped quote",
  '`backtick` [bracket] "double"',
  '$1 ?1 ?NNN :name @p',
  '%27%20OR%201%3D1',
  '%',
  '_',
  '\u0000',
  'nul\u0000inside',
  '\u2018curly\u2019 \u201cquotes\u201d \u02bcmodifier\u02bc \uff07fullwidth\uff07 \u00b4acute',
  'NEAR(a b) OR content:*',
  '"unterminated',
  'a* OR b* AND NOT c',
  '^start + (group OR',
  'content: "x" entity_id: y',
  '{layer content}: word',
  '-minus ""',
  '*',
  'NEAR("a" "b", 2)',
];

let service: Service;
let pool: Pool;
let admin: Record<string, string>;

before(async () => {
  service = await startService({}, { security: lenientSecurity });
  pool = new Pool(service.base, { connections: 2 });
  admin = { authorization: `Bearer ${service.adminKey}`, 'content-type': 'application/json' };
});
after(async () => {
  await pool.close();
  await service.close();
});

function call(method: string, path: string, body?: unknown): Promise<Answer> {
  return send(pool, {
    method,
    path,
    headers: admin,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function json<T>(answer: Answer, status: number, what: string): T {
  assert.equal(answer.status, status, `${what}: ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text) as T;
}

const db = () => service.jamey.store.reader.connection;

interface DbState {
  schema: string;
  counts: Record<string, number>;
}

function dbState(): DbState {
  const tables = db()
    .prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') ORDER BY name")
    .all() as Array<{ name: string; sql: string | null }>;
  const counts: Record<string, number> = {};
  for (const t of tables) {
    if (t.sql?.startsWith('CREATE TABLE') !== true) continue;
    counts[t.name] = (db().prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n;
  }
  return { schema: JSON.stringify(tables), counts };
}

let before0: DbState;

describe('hostile text in every stored field', () => {
  before(() => {
    before0 = dbState();
    assert.ok((before0.counts['api_keys'] ?? 0) >= 1 && 'memories' in before0.counts);
  });

  test('memories: content, entity, model, provider and metadata read back byte for byte', async () => {
    for (const s of HOSTILE) {
      const created = json<{ id: string }>(
        await call('POST', '/v1/memories', {
          layer: 'episodic',
          content: s,
          entityId: s,
          preferredModel: s,
          provider: s,
          metadata: { [s]: s, nested: [s] },
        }),
        201,
        JSON.stringify(s),
      );
      const read = json<Record<string, unknown>>(await call('GET', `/v1/memories/${created.id}`), 200, s);
      assert.equal(read['content'], s);
      assert.equal(read['entityId'], s);
      assert.equal(read['preferredModel'], s);
      assert.equal(read['provider'], s);
      assert.deepEqual(read['metadata'], { [s]: s, nested: [s] });
      // And in the database itself, not only through the API.
      const row = db().prepare('SELECT content, entity_id FROM memories WHERE id = ?').get(created.id) as {
        content: string;
        entity_id: string;
      };
      assert.equal(row.content, s);
      assert.equal(row.entity_id, s);
    }
  });

  test('a filter by a hostile entity matches that entity only, and searches answer 2xx', async () => {
    for (const s of HOSTILE) {
      const list = json<{ data: Array<{ entityId: string; content: string }> }>(
        await call('GET', `/v1/memories?entityId=${encodeURIComponent(s)}&layer=episodic`),
        200,
        s,
      );
      assert.ok(list.data.length >= 1, `found by entity ${JSON.stringify(s)}`);
      assert.ok(
        list.data.every((m) => m.entityId === s),
        `"${s}" matched only itself: ${JSON.stringify(list.data.map((m) => m.entityId))}`,
      );
      for (const body of [
        { query: s },
        { query: s, entityId: s },
        { query: `find ${s} please`, limit: 100 },
      ]) {
        const found = json<{ results: Array<{ entityId: string; content: string }> }>(
          await call('POST', '/v1/memories/search', body),
          200,
          `search ${JSON.stringify(body)}`,
        );
        if (body.entityId !== undefined) assert.ok(found.results.every((r) => r.entityId === s));
      }
    }
  });

  test('conscience rules: a hostile description reads back verbatim; hostile names and detectors are 400s', async () => {
    for (const [i, s] of HOSTILE.entries()) {
      const name = `injection-${i}`;
      json(
        await call('POST', '/v1/conscience/rules', {
          name,
          description: s,
          weight: 0.1,
          detectors: ['pii-email'],
          action: 'flag',
        }),
        201,
        s,
      );
      const read = json<{ description: string }>(
        await call('GET', `/v1/conscience/rules/${name}`),
        200,
        name,
      );
      assert.equal(read.description, s);
      const updated = json<{ description: string }>(
        await call('PUT', `/v1/conscience/rules/${name}`, { description: `${s} (changed)` }),
        200,
        name,
      );
      assert.equal(updated.description, `${s} (changed)`);
      for (const [field, body] of [
        ['name', { name: s, description: 'x', weight: 0.1, detectors: ['pii-email'], action: 'flag' }],
        ['detectors', { name: `${name}-d`, description: 'x', weight: 0.1, detectors: [s], action: 'flag' }],
      ] as const) {
        const refused = await call('POST', '/v1/conscience/rules', body);
        assert.equal(refused.status, 400, `${field} ${JSON.stringify(s)}: ${refused.text.slice(0, 200)}`);
        assert.ok(namesField(assertCodedError(refused, s).details, field));
      }
      const byPath = await call('GET', `/v1/conscience/rules/${encodeURIComponent(s)}`);
      assert.ok(byPath.status === 400 || byPath.status === 404, `${s}: ${byPath.status}`);
      json(await call('POST', '/v1/conscience/evaluate', { text: s }), 200, `evaluate ${s}`);
    }
  });

  test('chat: hostile messages and user are answered and remembered verbatim', async () => {
    for (const s of HOSTILE) {
      const answer = await call('POST', '/v1/chat/completions', {
        user: s,
        messages: [
          { role: 'system', content: s },
          { role: 'user', content: s },
        ],
      });
      json(answer, 200, `chat ${JSON.stringify(s)}`);
    }
    await service.jamey.chat.settled();
    for (const s of HOSTILE) {
      const episodes = json<{ data: Array<{ content: string; entityId: string }> }>(
        await call('GET', `/v1/memories?entityId=${encodeURIComponent(s)}&layer=episodic&limit=100`),
        200,
        s,
      );
      assert.ok(
        episodes.data.some((m) => m.content.startsWith(`User: ${s}\n`)),
        `the turn of ${JSON.stringify(s)} is remembered as it was said`,
      );
    }
  });

  test('key names read back verbatim', async () => {
    for (const s of HOSTILE) {
      const created = json<{ id: string }>(
        await call('POST', '/v1/keys', { name: s, scopes: ['chat'] }),
        201,
        JSON.stringify(s),
      );
      assert.equal(json<{ name: string }>(await call('GET', `/v1/keys/${created.id}`), 200, s).name, s);
    }
  });

  test('predict, process and embedding texts are answered 2xx', async () => {
    for (const s of HOSTILE) {
      json(await call('POST', '/v1/predict', { text: s, entity: s }), 200, `predict ${JSON.stringify(s)}`);
      json(await call('POST', '/v1/consciousness/process', { content: s, entityId: s }), 200, `process ${s}`);
      json(await call('POST', '/v1/embeddings', { input: [s, `${s} again`] }), 200, `embed ${s}`);
    }
  });

  test('afterwards the schema is unchanged, no table lost a row, and the database is intact', async () => {
    await service.jamey.keys.flush();
    const now = dbState();
    assert.equal(now.schema, before0.schema, 'no table, index or trigger was added, changed or dropped');
    for (const [table, n] of Object.entries(before0.counts)) {
      assert.ok((now.counts[table] ?? -1) >= n, `${table}: ${n} rows before, ${now.counts[table]} after`);
    }
    assert.ok((now.counts['memories'] ?? 0) >= before0.counts['memories']! + 2 * HOSTILE.length);
    assert.ok((now.counts['api_keys'] ?? 0) >= before0.counts['api_keys']! + HOSTILE.length);
    assert.deepEqual(db().pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    assert.deepEqual(db().pragma('foreign_key_check'), []);
    // The full-text index agrees with its table (FTS5's check is an INSERT: on a connection of its own).
    const checker = new Database(join(service.jamey.runtime.options.dataDir, DATABASE_FILE), {
      fileMustExist: true,
    });
    try {
      checker.pragma('busy_timeout = 30000');
      checker.prepare("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')").run();
    } finally {
      checker.close();
    }
  });
});
