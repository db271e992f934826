/**
 * The memory system's SQL: write operations registered with the store actor (prepared once on the
 * writer connection) and read queries on the store's read-only connection. Every query here has an
 * index behind it (test/store-query-plans.test.ts).
 */
import type { Database as Db } from 'better-sqlite3';
import { JameyError } from '../../runtime/errors.js';
import type { StoreReader, WriteHandler } from '../store/store.js';
import type { Layer, Memory, MemoryRecord, ProvenanceEntry } from './types.js';

interface Row {
  seq: number;
  id: string;
  layer: Layer;
  entity_id: string | null;
  content: string;
  content_hash: string;
  embedding: Buffer | null;
  embedding_model: string | null;
  salience: number;
  provider: string | null;
  preferred_model: string | null;
  source: string;
  metadata: string | null;
  provenance: string | null;
  created_at: number;
  last_accessed_at: number;
  access_count: number;
  expires_at: number | null;
}

export function vectorToBlob(v: Float32Array | null): Buffer | null {
  return v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(b: Buffer | null): Float32Array | null {
  if (b === null) return null;
  // Copy: the blob's buffer is reused by SQLite bindings and may be unaligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function rowToRecord(r: Row): MemoryRecord {
  return {
    id: r.id,
    layer: r.layer,
    entityId: r.entity_id,
    content: r.content,
    contentHash: r.content_hash,
    salience: r.salience,
    provider: r.provider,
    preferredModel: r.preferred_model,
    source: r.source,
    metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
    provenance: r.provenance === null ? [] : (JSON.parse(r.provenance) as ProvenanceEntry[]),
    createdAt: r.created_at,
    lastAccessedAt: r.last_accessed_at,
    accessCount: r.access_count,
    expiresAt: r.expires_at,
    embeddingModel: r.embedding_model,
    embedding: blobToVector(r.embedding),
  };
}

export function withoutEmbedding(m: MemoryRecord): Memory {
  const { embedding: _e, ...rest } = m;
  return rest;
}

/** The fields of a memory that recall ranks and returns. */
export interface RecallRow {
  id: string;
  layer: Layer;
  entityId: string | null;
  content: string;
  salience: number;
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number | null;
}

/** Arguments of `memory.insert`. */
export interface InsertArgs {
  id: string;
  layer: Layer;
  entityId: string | null;
  content: string;
  contentHash: string;
  embedding: Float32Array | null;
  embeddingModel: string | null;
  salience: number;
  provider: string | null;
  preferredModel: string | null;
  source: string;
  metadata: Record<string, unknown> | null;
  createdAt: number;
  expiresAt: number | null;
}

export interface UpdateArgs {
  id: string;
  layer?: Layer;
  salience?: number;
  expiresAt?: number | null;
  provenance?: ProvenanceEntry[];
  lastAccessedAt?: number;
  accessCount?: number;
}

/** The write operations of the memory domain, registered with the store as `memory.*`. */
export function memoryWriters(db: Db): Record<string, WriteHandler> {
  const insert = db.prepare(`
    INSERT INTO memories (id, layer, entity_id, content, content_hash, embedding, embedding_model, salience,
      provider, preferred_model, source, metadata, provenance, created_at, last_accessed_at, access_count, expires_at)
    VALUES (@id, @layer, @entityId, @content, @contentHash, @embedding, @embeddingModel, @salience,
      @provider, @preferredModel, @source, @metadata, NULL, @createdAt, @createdAt, 0, @expiresAt)`);
  const touch = db.prepare(
    'UPDATE memories SET last_accessed_at = ?, access_count = access_count + 1 WHERE id = ?',
  );
  const remove = db.prepare('DELETE FROM memories WHERE id = ?');
  const get = db.prepare('SELECT * FROM memories WHERE id = ?');
  const update = db.prepare(`
    UPDATE memories SET layer = @layer, salience = @salience, expires_at = @expiresAt, provenance = @provenance,
      last_accessed_at = @lastAccessedAt, access_count = @accessCount
    WHERE id = @id`);
  return {
    insert(args) {
      const a = args as InsertArgs;
      const info = insert.run({
        ...a,
        embedding: vectorToBlob(a.embedding),
        metadata: a.metadata === null ? null : JSON.stringify(a.metadata),
      });
      return { seq: Number(info.lastInsertRowid) };
    },
    touch(args, now) {
      const { ids, at } = args as { ids: string[]; at?: number };
      let n = 0;
      for (const id of ids) n += touch.run(at ?? now, id).changes;
      return { touched: n };
    },
    delete(args) {
      return { deleted: remove.run((args as { id: string }).id).changes };
    },
    update(args) {
      const a = args as UpdateArgs;
      const row = get.get(a.id) as Row | undefined;
      if (row === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no memory with id "${a.id}"`);
      const current = rowToRecord(row);
      update.run({
        id: a.id,
        layer: a.layer ?? current.layer,
        salience: a.salience ?? current.salience,
        expiresAt: a.expiresAt === undefined ? current.expiresAt : a.expiresAt,
        provenance: JSON.stringify(a.provenance ?? current.provenance),
        lastAccessedAt: a.lastAccessedAt ?? current.lastAccessedAt,
        accessCount: a.accessCount ?? current.accessCount,
      });
      return { updated: 1 };
    },
  };
}

/**
 * Pruning: short-term memories past their expiry, and long-term memories not accessed within
 * `longTermRetentionMs`.
 */
export function memoryPruner(longTermRetentionMs: number) {
  return (db: Db, now: number): number => {
    const expired = db
      .prepare('DELETE FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ?')
      .run(now).changes;
    const stale = db
      .prepare("DELETE FROM memories WHERE layer = 'long-term' AND last_accessed_at < ?")
      .run(now - longTermRetentionMs).changes;
    return expired + stale;
  };
}

export const QUERIES = {
  byId: 'SELECT * FROM memories WHERE id = ?',
  byHash: 'SELECT * FROM memories WHERE content_hash = ? AND layer = ? AND entity_id IS ? LIMIT 1',
  listByLayer: 'SELECT * FROM memories WHERE layer = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  listByEntity: 'SELECT * FROM memories WHERE entity_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  listByEntityLayer:
    'SELECT * FROM memories WHERE entity_id = ? AND layer = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
  listAll: 'SELECT * FROM memories WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  preferredModel:
    'SELECT preferred_model FROM memories WHERE entity_id = ? AND preferred_model IS NOT NULL ORDER BY seq DESC LIMIT 1',
  countByLayer: 'SELECT layer, count(*) AS n FROM memories GROUP BY layer',
  layerCount: 'SELECT count(*) AS n FROM memories WHERE layer = ?',
  leastSalient: 'SELECT * FROM memories WHERE layer = ? ORDER BY salience ASC, last_accessed_at ASC LIMIT ?',
  expired: 'SELECT * FROM memories WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?',
  fts: `SELECT m.seq AS seq, bm25(memories_fts) AS score FROM memories_fts
        JOIN memories m ON m.seq = memories_fts.rowid
        WHERE memories_fts MATCH ? ORDER BY score LIMIT ?`,
  vectors:
    'SELECT seq, id, layer, entity_id, salience, created_at, last_accessed_at, embedding FROM memories WHERE seq > ? ORDER BY seq LIMIT ?',
  bySeq: 'SELECT * FROM memories WHERE seq = ?',
  seqById: 'SELECT seq FROM memories WHERE id = ?',
  embeddingBySeq: 'SELECT embedding, embedding_model FROM memories WHERE seq = ?',
  hitBySeq:
    'SELECT id, layer, entity_id, content, salience, created_at, last_accessed_at, expires_at FROM memories WHERE seq = ?',
  ftsFiltered: `SELECT m.seq AS seq FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid
        WHERE memories_fts MATCH @match AND (@entity IS NULL OR m.entity_id = @entity)
          AND (m.expires_at IS NULL OR m.expires_at > @now)
        ORDER BY bm25(memories_fts) LIMIT @limit`,
  staleLongTerm: "SELECT * FROM memories WHERE layer = 'long-term' AND last_accessed_at < ? LIMIT ?",
  maxSeq: 'SELECT max(seq) AS s FROM memories',
} as const;

/** What recall reads of a memory, as `hitsBySeqs` returns it. */
export interface HitRow {
  seq: number;
  id: string;
  layer: Layer;
  entity_id: string | null;
  content: string;
  salience: number;
  created_at: number;
  last_accessed_at: number;
  expires_at: number | null;
}

/**
 * `hitBySeq` for up to `n` seqs in one statement (`seq IN (?, …)`, a primary-key lookup per
 * value); places past the seqs asked for are bound to NULL, which matches nothing, so a few
 * statement sizes serve every recall.
 */
export function hitsBySeqsSql(n: number): string {
  return `SELECT seq, id, layer, entity_id, content, salience, created_at, last_accessed_at, expires_at FROM memories WHERE seq IN (${new Array<string>(n).fill('?').join(', ')})`;
}

/** Reads of the memory domain on the store's read-only connection. */
export class MemoryQueries {
  constructor(private readonly reader: StoreReader) {}

  get(id: string): MemoryRecord | undefined {
    const row = this.reader.statement(QUERIES.byId).get(id) as Row | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  bySeq(seq: number): MemoryRecord | undefined {
    const row = this.reader.statement(QUERIES.bySeq).get(seq) as Row | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  byHash(hash: string, layer: Layer, entityId: string | null): MemoryRecord | undefined {
    const row = this.reader.statement(QUERIES.byHash).get(hash, layer, entityId) as Row | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  /** Newest first, `before` a seq cursor. */
  list(
    filter: { layer?: Layer; entityId?: string },
    before: number,
    limit: number,
  ): Array<MemoryRecord & { seq: number }> {
    const cursor = before;
    let rows: Row[];
    if (filter.layer !== undefined && filter.entityId !== undefined) {
      rows = this.reader
        .statement(QUERIES.listByEntityLayer)
        .all(filter.entityId, filter.layer, cursor, limit) as Row[];
    } else if (filter.layer !== undefined) {
      rows = this.reader.statement(QUERIES.listByLayer).all(filter.layer, cursor, limit) as Row[];
    } else if (filter.entityId !== undefined) {
      rows = this.reader.statement(QUERIES.listByEntity).all(filter.entityId, cursor, limit) as Row[];
    } else {
      rows = this.reader.statement(QUERIES.listAll).all(cursor, limit) as Row[];
    }
    return rows.map((r) => ({ ...rowToRecord(r), seq: r.seq }));
  }

  countByLayer(): Record<Layer, number> {
    const out: Record<string, number> = {
      'short-term': 0,
      working: 0,
      'long-term': 0,
      episodic: 0,
      semantic: 0,
    };
    for (const r of this.reader.statement(QUERIES.countByLayer).all() as Array<{
      layer: string;
      n: number;
    }>) {
      out[r.layer] = r.n;
    }
    return out as Record<Layer, number>;
  }

  layerCount(layer: Layer): number {
    return (this.reader.statement(QUERIES.layerCount).get(layer) as { n: number }).n;
  }

  leastSalient(layer: Layer, limit: number): MemoryRecord[] {
    return (this.reader.statement(QUERIES.leastSalient).all(layer, limit) as Row[]).map(rowToRecord);
  }

  expired(now: number, limit: number): MemoryRecord[] {
    return (this.reader.statement(QUERIES.expired).all(now, limit) as Row[]).map(rowToRecord);
  }

  /** FTS5 BM25 candidates: seq and score (lower is better, as bm25() reports). */
  fullText(match: string, limit: number): Array<{ seq: number; score: number }> {
    return this.reader.statement(QUERIES.fts).all(match, limit) as Array<{ seq: number; score: number }>;
  }

  /** FTS5 BM25 candidates filtered by entity and expiry, best first. */
  fullTextFiltered(match: string, entityId: string | null, now: number, limit: number): number[] {
    return (
      this.reader.statement(QUERIES.ftsFiltered).all({ match, entity: entityId, now, limit }) as Array<{
        seq: number;
      }>
    ).map((r) => r.seq);
  }

  /** What recall needs of a memory, without the embedding (no vector copied per candidate). */
  hitBySeq(seq: number): RecallRow | undefined {
    const r = this.reader.statement(QUERIES.hitBySeq).get(seq) as
      | Pick<
          Row,
          | 'id'
          | 'layer'
          | 'entity_id'
          | 'content'
          | 'salience'
          | 'created_at'
          | 'last_accessed_at'
          | 'expires_at'
        >
      | undefined;
    if (r === undefined) return undefined;
    return {
      id: r.id,
      layer: r.layer,
      entityId: r.entity_id,
      content: r.content,
      salience: r.salience,
      createdAt: r.created_at,
      lastAccessedAt: r.last_accessed_at,
      expiresAt: r.expires_at,
    };
  }

  /** The rows of the seqs in `params` (NULL-padded to a length `hitsBySeqsSql` was built for), unordered. */
  hitsBySeqs(sql: string, params: unknown[]): HitRow[] {
    return this.reader.statement(sql).all(params) as HitRow[];
  }

  seqOf(id: string): number | undefined {
    return (this.reader.statement(QUERIES.seqById).get(id) as { seq: number } | undefined)?.seq;
  }

  embeddingBySeq(seq: number): { embedding: Float32Array | null; model: string | null } | undefined {
    const row = this.reader.statement(QUERIES.embeddingBySeq).get(seq) as
      | { embedding: Buffer | null; embedding_model: string | null }
      | undefined;
    return row === undefined
      ? undefined
      : { embedding: blobToVector(row.embedding), model: row.embedding_model };
  }

  staleLongTerm(before: number, limit: number): MemoryRecord[] {
    return (this.reader.statement(QUERIES.staleLongTerm).all(before, limit) as Row[]).map(rowToRecord);
  }

  /** Every memory of a layer, oldest first, in pages. */
  *allOfLayer(layer: Layer, page = 1000): Generator<MemoryRecord & { seq: number }> {
    let before = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = this.list({ layer }, before, page);
      for (const r of rows) yield r;
      if (rows.length < page) return;
      before = (rows[rows.length - 1] as { seq: number }).seq;
    }
  }

  maxSeq(): number {
    return ((this.reader.statement(QUERIES.maxSeq).get() as { s: number | null }).s ?? 0) as number;
  }

  /** Rows after `afterSeq` with their vectors, for building the in-memory vector index. */
  vectorsAfter(
    afterSeq: number,
    limit: number,
  ): Array<{
    seq: number;
    id: string;
    layer: Layer;
    entity_id: string | null;
    salience: number;
    created_at: number;
    last_accessed_at: number;
    embedding: Buffer | null;
  }> {
    return this.reader.statement(QUERIES.vectors).all(afterSeq, limit) as never;
  }
}
