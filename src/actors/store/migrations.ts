/**
 * Schema migrations by `PRAGMA user_version`: forward-only, each in its own transaction, applied in
 * order from the file's version to the newest. A file newer than this build refuses to open
 * (JAMEY_ERR_STORE_VERSION) rather than risk writing a schema it does not know.
 */
import type { Database } from 'better-sqlite3';
import { JameyError } from '../../runtime/errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
}

/**
 * Version 1: the memory system. `seq` is the row id (FTS5 content rowid, cursor order); `id` is the
 * public id. Every query path has an index; test/store-query-plans.test.ts checks them with
 * EXPLAIN QUERY PLAN.
 */
const V1 = `
CREATE TABLE memories (
  seq               INTEGER PRIMARY KEY,
  id                TEXT    NOT NULL UNIQUE,
  layer             TEXT    NOT NULL CHECK (layer IN ('short-term','working','long-term','episodic','semantic')),
  entity_id         TEXT,
  content           TEXT    NOT NULL,
  content_hash      TEXT    NOT NULL,
  embedding         BLOB,
  embedding_model   TEXT,
  salience          REAL    NOT NULL DEFAULT 0.5 CHECK (salience >= 0 AND salience <= 1),
  provider          TEXT,
  preferred_model   TEXT,
  source            TEXT    NOT NULL DEFAULT 'api',
  metadata          TEXT,
  provenance        TEXT,
  created_at        INTEGER NOT NULL,
  last_accessed_at  INTEGER NOT NULL,
  access_count      INTEGER NOT NULL DEFAULT 0,
  expires_at        INTEGER
);
CREATE INDEX memories_layer_seq ON memories (layer, seq);
CREATE INDEX memories_entity_layer_seq ON memories (entity_id, layer, seq);
CREATE INDEX memories_entity_seq ON memories (entity_id, seq);
CREATE INDEX memories_hash ON memories (content_hash, layer, entity_id);
CREATE INDEX memories_expires ON memories (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX memories_layer_accessed ON memories (layer, last_accessed_at);
CREATE INDEX memories_layer_salience ON memories (layer, salience, last_accessed_at);

CREATE VIRTUAL TABLE memories_fts USING fts5 (
  content,
  content = 'memories',
  content_rowid = 'seq',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
  INSERT INTO memories_fts (memories_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  INSERT INTO memories_fts (rowid, content) VALUES (new.seq, new.content);
END;
`;

/**
 * Version 2: the security layer and the persistent cache tier.
 * - api_keys: a key is shown once as `jmy_<id>_<secret>`; only SHA-256(secret) is stored. A rotated
 *   key keeps working until `expires_at` (the grace period); a revoked key has `revoked_at`.
 * - audit_log: every refusal, key change and admin action.
 * - cache_entries: the L3 cache tier, scoped per tenant.
 */
const V2 = `
CREATE TABLE api_keys (
  id            TEXT    PRIMARY KEY,
  name          TEXT    NOT NULL,
  secret_hash   TEXT    NOT NULL,
  scopes        TEXT    NOT NULL,
  rate_limit    TEXT,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  revoked_at    INTEGER,
  replaced_by   TEXT,
  last_used_at  INTEGER
);
CREATE INDEX api_keys_created ON api_keys (created_at);

CREATE TABLE audit_log (
  seq      INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  actor    TEXT    NOT NULL,
  action   TEXT    NOT NULL,
  target   TEXT,
  outcome  TEXT    NOT NULL,
  details  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);

CREATE TABLE cache_entries (
  tenant         TEXT    NOT NULL,
  key            TEXT    NOT NULL,
  value          BLOB    NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  last_access_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX cache_entries_expires ON cache_entries (expires_at);
CREATE INDEX cache_entries_idle ON cache_entries (last_access_at);
`;

/**
 * Chat: conversations and their turns (the context manager's history) and token usage per key, day
 * and model (the router's budgets), and the entity's preferred model looked up by index. Money is
 * stored in micro-dollars as integers, so sums are exact.
 */
const V3 = `
CREATE TABLE conversations (
  id         TEXT    PRIMARY KEY,
  entity_id  TEXT,
  key_id     TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  turns      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX conversations_entity ON conversations (entity_id, updated_at);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE turns (
  conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  role            TEXT    NOT NULL,
  content         TEXT,
  name            TEXT,
  tool_calls      TEXT,
  tool_call_id    TEXT,
  model           TEXT,
  tokens          INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

CREATE TABLE llm_usage (
  key_id            TEXT    NOT NULL,
  day               TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  requests          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost_micros       INTEGER NOT NULL,
  PRIMARY KEY (key_id, day, model)
) WITHOUT ROWID;
CREATE INDEX llm_usage_day ON llm_usage (day);

CREATE INDEX memories_entity_preferred ON memories (entity_id, seq) WHERE preferred_model IS NOT NULL;
`;

/**
 * Conscience rules (the principles the conscience evaluates against), editable at run time.
 * `detectors` is a JSON array of detector ids; `position` keeps the order rules were added in (the
 * order principles are evaluated and listed). `conscience_seeded` records every built-in principle
 * ever seeded, so a built-in that an operator deleted is not seeded again on the next start, while a
 * built-in added by a later version still is.
 */
const V4 = `
CREATE TABLE conscience_rules (
  name        TEXT    PRIMARY KEY,
  description TEXT    NOT NULL,
  weight      REAL    NOT NULL CHECK (weight >= 0 AND weight <= 1),
  detectors   TEXT    NOT NULL,
  action      TEXT    NOT NULL CHECK (action IN ('flag','block')),
  enabled     INTEGER NOT NULL DEFAULT 1,
  builtin     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  position    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE conscience_seeded (
  name      TEXT    PRIMARY KEY,
  seeded_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Learned predictive models (src/actors/predictive): one packed row per scope. */
const V5 = `
CREATE TABLE predictive_models (
  scope      TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  data       BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  messages   INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Version 6: the global workspace's broadcast history, pruned by age (index on `at`). `seq` is the
 * workspace's own broadcast number.
 */
const V6 = `
CREATE TABLE workspace_broadcasts (
  seq          INTEGER PRIMARY KEY,
  at           INTEGER NOT NULL,
  source       TEXT    NOT NULL,
  entity_id    TEXT,
  content      TEXT    NOT NULL,
  activation   REAL    NOT NULL,
  competitors  INTEGER NOT NULL
);
CREATE INDEX workspace_broadcasts_at ON workspace_broadcasts (at);
`;

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'memories', up: V1 },
  { version: 2, name: 'security and cache', up: V2 },
  { version: 3, name: 'conversations and usage', up: V3 },
  { version: 4, name: 'conscience rules', up: V4 },
  { version: 5, name: 'predictive models', up: V5 },
  { version: 6, name: 'workspace broadcasts', up: V6 },
]);

export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the pending migrations; returns the versions before and after. */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  const from = schemaVersion(db);
  const latest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  if (from > latest) {
    throw new JameyError(
      'JAMEY_ERR_STORE_VERSION',
      `database schema version ${from} is newer than this build supports (${latest}); refusing to open it`,
      { details: { fileVersion: from, supported: latest } },
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: schemaVersion(db) };
}
