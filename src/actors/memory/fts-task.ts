/**
 * Worker task: a full-text (FTS5 BM25) query on the worker's own read-only connection, so a long
 * posting-list walk never holds the main thread. Connections are opened once per file per worker.
 */
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { defineTask } from '../../runtime/worker-task.js';
import { QUERIES } from './repository.js';

const connections = new Map<string, { db: Db; statement: Statement }>();

export interface FullTextTask {
  file: string;
  match: string;
  entityId: string | null;
  now: number;
  limit: number;
}

export const fullText = defineTask((t: FullTextTask): number[] => {
  let c = connections.get(t.file);
  if (c === undefined) {
    const db = new Database(t.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 30000');
    c = { db, statement: db.prepare(QUERIES.ftsFiltered) };
    connections.set(t.file, c);
  }
  const rows = c.statement.all({ match: t.match, entity: t.entityId, now: t.now, limit: t.limit }) as Array<{
    seq: number;
  }>;
  return rows.map((r) => r.seq);
});
