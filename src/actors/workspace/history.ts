/**
 * Broadcast history in `workspace_broadcasts` (migration 6). Writes are named operations on the
 * store actor (`writers: { workspace: workspaceWriters }`), so they ride its group commit; reads run
 * on the store's read-only connection. `at` is the workspace clock's milliseconds, passed in the
 * arguments, so that the pruner and the reads agree with it.
 */
import type { Database as Db } from 'better-sqlite3';
import type { Pruner, WriteHandler } from '../store/store.js';

export interface BroadcastRow {
  seq: number;
  at: number;
  source: string;
  entity_id: string | null;
  content: string;
  activation: number;
  competitors: number;
}

export const HISTORY_QUERIES = {
  /** The newest broadcasts, newest first. */
  recent:
    'SELECT seq, at, source, entity_id, content, activation, competitors FROM workspace_broadcasts ORDER BY seq DESC LIMIT ?',
} as const;

const INSERT = `INSERT OR REPLACE INTO workspace_broadcasts (seq, at, source, entity_id, content, activation, competitors)
  VALUES (@seq, @at, @source, @entity_id, @content, @activation, @competitors)`;

/** The workspace domain's write operations, registered with the store as `workspace.*`. */
export function workspaceWriters(db: Db): Record<string, WriteHandler> {
  const insert = db.prepare(INSERT);
  return {
    record(args) {
      return insert.run(args as BroadcastRow).changes;
    },
  };
}

/** Removes broadcasts older than `retentionMs` (a store pruner, on the store's maintenance schedule). */
export function workspacePruner(retentionMs: number): Pruner {
  return (db, now) =>
    db.prepare('DELETE FROM workspace_broadcasts WHERE at < ?').run(now - retentionMs).changes;
}

/** Seven days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
