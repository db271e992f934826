/**
 * Worker task: a PASSIVE WAL checkpoint on the worker's own connection. PASSIVE copies what it can
 * without waiting for readers or blocking the writer (SQLite "wal_checkpoint"), so the event loop
 * never pays for it.
 */
import Database, { type Database as Db } from 'better-sqlite3';
import { defineTask } from '../../runtime/worker-task.js';

const connections = new Map<string, Db>();

export const checkpoint = defineTask((file: string) => {
  let db = connections.get(file);
  if (db === undefined) {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    connections.set(file, db);
  }
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{
    busy: number;
    log: number;
    checkpointed: number;
  }>;
  return row;
});
