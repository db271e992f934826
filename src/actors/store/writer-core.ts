/**
 * The writer connection's work, shared by the two places it can run: on the event loop (the store
 * actor itself) or on the store's own writer thread (`writer-thread.ts`). Group commit with a
 * SAVEPOINT per write, maintenance, and the file swap of a restore.
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { BatchResult } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import { migrate, schemaVersion } from './migrations.js';
import { sqliteError } from './sqlite-errors.js';

export type WriteHandler = (args: unknown, now: number) => unknown;
/** Prepares a domain's write operations on the writer connection; called on every (re)open. */
export type WritersFactory = (db: Db) => Record<string, WriteHandler>;
/** Deletes what has outlived its time; returns the rows removed. Runs inside a transaction. */
export type Pruner = (db: Db, now: number) => number;

export type MaintenanceTask = 'prune' | 'optimize' | 'incremental-vacuum' | 'checkpoint';
export const MAINTENANCE_TASKS: readonly MaintenanceTask[] = [
  'prune',
  'optimize',
  'incremental-vacuum',
  'checkpoint',
];

export interface MaintenanceReport {
  pruned: Record<string, number>;
  optimized: boolean;
  vacuumedPages: number;
  checkpoint?: { busy: number; log: number; checkpointed: number };
  ms: number;
}

export function openWriterConnection(file: string, busyTimeoutMs = 30_000): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (
      schemaVersion(db) === 0 &&
      (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n === 0
    ) {
      db.pragma('auto_vacuum = INCREMENTAL');
    }
    db.pragma('journal_mode = WAL');
    // The WAL file keeps the largest size it ever reached unless limited: after a burst, the next
    // restart of the log truncates it back to 16 MiB.
    db.pragma('journal_size_limit = 16777216');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err instanceof JameyError ? err : sqliteError(err, `cannot open ${file}`);
  }
  return db;
}

export interface WriterState {
  db: Db;
  writes: Record<string, WriteHandler>;
  begin: Statement;
  commit: Statement;
  rollback: Statement;
  savepoint: Statement;
  release: Statement;
  rollbackTo: Statement;
}

export function openWriterState(
  file: string,
  options: {
    busyTimeoutMs?: number | undefined;
    writers?: Record<string, WritersFactory> | undefined;
  },
): WriterState {
  const db = openWriterConnection(file, options.busyTimeoutMs);
  const writes: Record<string, WriteHandler> = {};
  for (const [domain, factory] of Object.entries(options.writers ?? {})) {
    for (const [name, fn] of Object.entries(factory(db))) writes[`${domain}.${name}`] = fn;
  }
  return {
    db,
    writes,
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT w'),
    release: db.prepare('RELEASE w'),
    rollbackTo: db.prepare('ROLLBACK TO w'),
  };
}

export interface WriteOp {
  op: string;
  args?: unknown;
}

/**
 * Runs `ops[from..to)` in one transaction, each write in its own SAVEPOINT, and fills `results`.
 * Past `budgetMs` it commits what is done and returns where it stopped (the caller continues on a
 * later turn). Returns the end index and how many writes failed.
 */
export function commitWrites(
  state: WriterState,
  ops: readonly WriteOp[],
  from: number,
  to: number,
  ts: number,
  budgetMs: number,
  results: Array<BatchResult<unknown>>,
): { end: number; failed: number } {
  const t0 = performance.now();
  try {
    state.begin.run();
  } catch (err) {
    const e = sqliteError(err, 'cannot begin a transaction');
    for (let k = from; k < to; k++) results[k] = { ok: false, error: e };
    return { end: to, failed: to - from };
  }
  let failed = 0;
  let end = to;
  for (let k = from; k < end; k++) {
    if (k > from && performance.now() - t0 > budgetMs) {
      end = k;
      break;
    }
    const m = ops[k] as WriteOp;
    const handler = state.writes[m.op];
    if (handler === undefined) {
      results[k] = {
        ok: false,
        error: new JameyError('JAMEY_ERR_VALIDATION', `unknown store operation "${m.op}"`),
      };
      failed++;
      continue;
    }
    state.savepoint.run();
    try {
      const value = handler(m.args, ts);
      state.release.run();
      results[k] = { ok: true, value };
    } catch (err) {
      state.rollbackTo.run();
      state.release.run();
      results[k] = {
        ok: false,
        error: err instanceof JameyError ? err : sqliteError(err, `write "${m.op}" failed`),
      };
      failed++;
    }
  }
  try {
    state.commit.run();
  } catch (err) {
    if (state.db.inTransaction) {
      try {
        state.rollback.run();
      } catch {
        // Already rolled back by SQLite.
      }
    }
    const e = sqliteError(err, 'commit failed');
    for (let k = from; k < end; k++) if (results[k]?.ok) results[k] = { ok: false, error: e };
    failed = end - from;
  }
  return { end, failed };
}

export function maintainDb(
  db: Db,
  tasks: readonly MaintenanceTask[],
  pruners: Record<string, Pruner>,
  vacuumPages: number,
  now: number,
): MaintenanceReport {
  const t0 = performance.now();
  const report: MaintenanceReport = { pruned: {}, optimized: false, vacuumedPages: 0, ms: 0 };
  if (tasks.includes('prune')) {
    for (const [name, pruner] of Object.entries(pruners)) {
      report.pruned[name] = db.transaction(() => pruner(db, now)).immediate();
    }
  }
  if (tasks.includes('optimize')) {
    db.pragma('optimize');
    report.optimized = true;
  }
  if (tasks.includes('incremental-vacuum')) {
    const before = db.pragma('freelist_count', { simple: true }) as number;
    db.pragma(`incremental_vacuum(${vacuumPages})`);
    report.vacuumedPages = before - (db.pragma('freelist_count', { simple: true }) as number);
  }
  if (tasks.includes('checkpoint')) {
    const row = db.pragma('wal_checkpoint(PASSIVE)') as Array<{
      busy: number;
      log: number;
      checkpointed: number;
    }>;
    if (row[0] !== undefined) report.checkpoint = row[0];
  }
  report.ms = performance.now() - t0;
  return report;
}

/**
 * Puts the (already checked) backup `file` in place of `target` while no connection of this
 * process writes it: copied beside it, synced, then renamed over it, with the old WAL removed.
 */
export function swapInBackup(file: string, target: string): void {
  const tmp = `${target}.restoring`;
  try {
    copyFileSync(file, tmp);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}
