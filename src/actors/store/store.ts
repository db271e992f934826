/**
 * The store: the only read-write connection to SQLite, owned by one actor.
 *
 * - One file (default `<dataDir>/jamey.db`), WAL, `synchronous=NORMAL`, `busy_timeout` 30 s,
 *   `foreign_keys=ON`, `auto_vacuum=INCREMENTAL` (set on a new file before any table exists).
 * - Group commit: the actor's `receiveBatch` gets every queued message (up to `maxBatch`) and runs the
 *   writes among them in one transaction; each write runs inside its own SAVEPOINT, so a failing
 *   statement fails only its own write and the rest of the batch commits. A write is acknowledged
 *   (its ask resolves) only after COMMIT returned. (better-sqlite3 `docs/performance.md`: batch
 *   writes in transactions; SQLite "SAVEPOINT".)
 * - Writes are named operations that domain modules register (`writers`): the statements are
 *   prepared once per connection and the store knows nothing of the domain.
 * - Reads never go through the writer's mailbox: `StoreReader` holds a separate read-only
 *   connection with statements prepared once.
 * - Maintenance on a schedule and on demand: registered pruners, `PRAGMA optimize`, incremental
 *   vacuum, WAL checkpoint. Online backup (`db.backup`, stepwise, with progress) runs on the reader's
 *   connection; restore goes through the writer, which swaps the file and reopens.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { ActorContext, ActorRef, ActorSpec, BatchResult, Behavior } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
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

export type StoreMessage =
  | { kind: 'write'; op: string; args?: unknown }
  | { kind: 'maintain'; tasks?: readonly MaintenanceTask[] }
  | { kind: 'restore'; file: string };

export interface MaintenanceReport {
  pruned: Record<string, number>;
  optimized: boolean;
  vacuumedPages: number;
  checkpoint?: { busy: number; log: number; checkpointed: number };
  ms: number;
}

export interface StoreOptions {
  /** The SQLite file. */
  file: string;
  /** @default 30000 */
  busyTimeoutMs?: number;
  /** Writes per transaction at most (bounds how long one commit holds the event loop). @default 256 */
  maxBatch?: number;
  /**
   * Time one transaction may take before it commits and leaves the remaining writes of the batch to
   * the next turn of the event loop (ms). @default 4
   */
  batchBudgetMs?: number;
  /** Mailbox of the writer. @default 10000 */
  mailboxCapacity?: number;
  /** Scheduled maintenance; 0 turns it off. @default 3600000 (1 h) */
  maintenanceIntervalMs?: number;
  /**
   * Runs WAL checkpoints off the main thread (a worker with its own connection). When set, the
   * writer's automatic checkpoint — which would copy the WAL into the database inside a COMMIT on
   * the event loop — is turned off, and this is called after every `checkpointEveryWrites` writes.
   */
  checkpointer?: (file: string) => Promise<unknown>;
  /** @default 1000 */
  checkpointEveryWrites?: number;
  /** Past this WAL size the writer checkpoints itself (a checkpointer that cannot keep up). @default 67108864 */
  maxWalBytes?: number;
  /** Pages freed per incremental vacuum step. @default 2000 */
  vacuumPages?: number;
  writers?: Record<string, WritersFactory>;
  pruners?: Record<string, Pruner>;
  /** Called after each maintenance run (scheduled or on demand), for logs and metrics. */
  onMaintenance?: (report: MaintenanceReport) => void;
  /** Wall-clock milliseconds for timestamps. @default Date.now */
  now?: () => number;
}

/** Counters the metrics read at scrape time. */
export interface StoreStats {
  batches: number;
  writes: number;
  failedWrites: number;
  lastBatchSize: number;
  commitSeconds: number;
  /** Called per committed batch with its size and commit time; set by the metrics registry. */
  observeBatch?: (size: number, seconds: number) => void;
}

export const STORE_ACTOR = 'store';

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
    // The WAL file keeps the largest size it ever reached unless limited; the writer compares its
    // size against maxWalBytes, so without a limit one burst would make every later check fire.
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

interface WriterState {
  db: Db;
  writes: Record<string, WriteHandler>;
  begin: Statement;
  commit: Statement;
  rollback: Statement;
  savepoint: Statement;
  release: Statement;
  rollbackTo: Statement;
}

function openState(file: string, options: StoreOptions): WriterState {
  const db = openWriterConnection(file, options.busyTimeoutMs);
  if (options.checkpointer !== undefined) db.pragma('wal_autocheckpoint = 0');
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

/** The store actor's spec. `stats` is filled as it works. */
export function storeActorSpec(
  options: StoreOptions,
  stats: StoreStats,
  onStop?: () => void,
): ActorSpec<StoreMessage, unknown> {
  const now = options.now ?? Date.now;
  return {
    name: STORE_ACTOR,
    maxBatch: options.maxBatch ?? 256,
    mailbox: { capacity: options.mailboxCapacity ?? 10_000 },
    start(ctx: ActorContext): Behavior<StoreMessage, unknown> {
      let state = openState(options.file, options);
      let writesSinceCheckpoint = 0;
      let checkpointing = false;
      const afterCommit = (writes: number): void => {
        const checkpointer = options.checkpointer;
        if (checkpointer === undefined) return;
        writesSinceCheckpoint += writes;
        if (checkpointing || writesSinceCheckpoint < (options.checkpointEveryWrites ?? 1000)) return;
        writesSinceCheckpoint = 0;
        let walBytes = 0;
        try {
          walBytes = statSync(`${options.file}-wal`).size;
        } catch {
          // No WAL file yet.
        }
        if (walBytes > (options.maxWalBytes ?? 64 * 1024 * 1024)) {
          state.db.pragma('wal_checkpoint(RESTART)');
          return;
        }
        checkpointing = true;
        checkpointer(options.file)
          .catch(() => undefined)
          .finally(() => {
            checkpointing = false;
          });
      };
      const interval = options.maintenanceIntervalMs ?? 3_600_000;
      let timer: unknown;
      const schedule = (): void => {
        if (interval <= 0) return;
        timer = ctx.clock.setTimeout(() => {
          try {
            ctx.actor<StoreMessage>(STORE_ACTOR).tell({ kind: 'maintain' }, { priority: 'low' });
          } catch {
            // A full mailbox skips one round of maintenance.
          }
          schedule();
        }, interval);
      };
      schedule();

      const commitWrites = (
        messages: readonly StoreMessage[],
        from: number,
        to: number,
        results: Array<BatchResult<unknown>>,
      ): number => {
        const t0 = performance.now();
        const ts = now();
        try {
          state.begin.run();
        } catch (err) {
          const e = sqliteError(err, 'cannot begin a transaction');
          for (let k = from; k < to; k++) results[k] = { ok: false, error: e };
          return to;
        }
        let failed = 0;
        // A transaction holds the event loop: past the time budget, commit what is done and leave
        // the rest for the next turn (after I/O), so heavy writes cannot stall requests.
        const budgetMs = options.batchBudgetMs ?? 4;
        let end = to;
        for (let k = from; k < end; k++) {
          if (k > from && performance.now() - t0 > budgetMs) {
            end = k;
            break;
          }
          const m = messages[k] as Extract<StoreMessage, { kind: 'write' }>;
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
        const seconds = (performance.now() - t0) / 1000;
        stats.batches++;
        stats.writes += end - from - failed;
        stats.failedWrites += failed;
        stats.lastBatchSize = end - from;
        stats.commitSeconds += seconds;
        stats.observeBatch?.(end - from, seconds);
        afterCommit(end - from - failed);
        return end;
      };

      const maintain = (tasks: readonly MaintenanceTask[]): MaintenanceReport => {
        const t0 = performance.now();
        const report: MaintenanceReport = { pruned: {}, optimized: false, vacuumedPages: 0, ms: 0 };
        const db = state.db;
        if (tasks.includes('prune')) {
          const ts = now();
          for (const [name, pruner] of Object.entries(options.pruners ?? {})) {
            report.pruned[name] = db.transaction(() => pruner(db, ts)).immediate();
          }
        }
        if (tasks.includes('optimize')) {
          db.pragma('optimize');
          report.optimized = true;
        }
        if (tasks.includes('incremental-vacuum')) {
          const before = db.pragma('freelist_count', { simple: true }) as number;
          db.pragma(`incremental_vacuum(${options.vacuumPages ?? 2000})`);
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
        options.onMaintenance?.(report);
        return report;
      };

      const restore = (file: string): { restoredFrom: string; schemaVersion: number } => {
        checkBackupFile(file);
        state.db.close();
        const target = options.file;
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
          state = openState(target, options);
        }
        return { restoredFrom: file, schemaVersion: schemaVersion(state.db) };
      };

      return {
        receiveBatch(messages) {
          const results: Array<BatchResult<unknown>> = new Array(messages.length);
          const run = (start: number): number => {
            let i = start;
            while (i < messages.length) {
              const m = messages[i] as StoreMessage;
              if (m.kind === 'write') {
                let j = i + 1;
                while (j < messages.length && (messages[j] as StoreMessage).kind === 'write') j++;
                const done = commitWrites(messages, i, j, results);
                i = done;
                if (done < j) return i; // over the time budget: continue on the next turn
                continue;
              }
              try {
                results[i] = {
                  ok: true,
                  value: m.kind === 'maintain' ? maintain(m.tasks ?? MAINTENANCE_TASKS) : restore(m.file),
                };
              } catch (err) {
                results[i] = {
                  ok: false,
                  error: err instanceof JameyError ? err : sqliteError(err, `${m.kind} failed`),
                };
              }
              i++;
            }
            return i;
          };
          let i = run(0);
          if (i >= messages.length) return results;
          return (async () => {
            while (i < messages.length) {
              await new Promise((resolve) => setImmediate(resolve));
              i = run(i);
            }
            return results;
          })();
        },
        stop() {
          if (timer !== undefined) ctx.clock.clearTimeout(timer);
          try {
            state.db.pragma('optimize');
          } catch {
            // Best effort on the way down.
          }
          onStop?.();
          state.db.close();
        },
      };
    },
  };
}

/** Refuses a file that is not a healthy Jamey database this build can open. */
export function checkBackupFile(file: string): void {
  if (!existsSync(file)) throw new JameyError('JAMEY_ERR_VALIDATION', `backup file ${file} does not exist`);
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new JameyError('JAMEY_ERR_VALIDATION', `backup file ${file} is damaged: ${String(check)}`);
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new JameyError(
        'JAMEY_ERR_STORE_VERSION',
        `backup file ${file} has schema version ${version}, newer than this build supports (${SCHEMA_VERSION})`,
      );
    }
  } catch (err) {
    if (err instanceof JameyError) throw err;
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `backup file ${file} is not a SQLite database: ${(err as Error).message}`,
    );
  } finally {
    db?.close();
  }
}

/**
 * A read-only connection with statements prepared once. Reads run here, never through the
 * writer's mailbox. Reopened after a restore.
 */
export class StoreReader {
  readonly file: string;
  private db: Db | undefined;
  private readonly statements = new Map<string, Statement>();

  constructor(file: string) {
    this.file = file;
  }

  get connection(): Db {
    if (this.db === undefined) {
      this.db = new Database(this.file, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 30000');
    }
    return this.db;
  }

  /** The prepared statement for `sql` (prepared on first use). */
  statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.connection.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  close(): void {
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }
}

export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

/** The store's public face: writes through the actor, reads through the reader, backup and restore. */
export class Store {
  readonly file: string;
  readonly reader: StoreReader;
  readonly stats: StoreStats = { batches: 0, writes: 0, failedWrites: 0, lastBatchSize: 0, commitSeconds: 0 };
  readonly spec: ActorSpec<StoreMessage, unknown>;
  private ref: ActorRef<StoreMessage, unknown> | undefined;

  constructor(options: StoreOptions) {
    this.file = options.file;
    this.reader = new StoreReader(options.file);
    // Readers close just before the writer, so the writer is the last connection out: it checkpoints
    // and removes the WAL.
    this.spec = storeActorSpec(options, this.stats, () => this.reader.close());
  }

  /** Registers the store actor with a runtime (or system); call before start. */
  register(spawner: { spawn<M, R>(spec: ActorSpec<M, R>): ActorRef<M, R> }): ActorRef<StoreMessage, unknown> {
    this.ref = spawner.spawn(this.spec);
    return this.ref;
  }

  private actor(): ActorRef<StoreMessage, unknown> {
    if (this.ref === undefined)
      throw new JameyError('JAMEY_ERR_NOT_READY', 'the store actor is not registered');
    return this.ref;
  }

  /** Runs the named write; resolves with its result once committed. */
  write<T = unknown>(op: string, args?: unknown, options?: { deadlineMs?: number }): Promise<T> {
    return this.actor().ask({ kind: 'write', op, args }, options) as Promise<T>;
  }

  maintain(tasks?: readonly MaintenanceTask[]): Promise<MaintenanceReport> {
    return this.actor().ask(tasks === undefined ? { kind: 'maintain' } : { kind: 'maintain', tasks }, {
      priority: 'high',
    }) as Promise<MaintenanceReport>;
  }

  /** Online backup to `file` (written beside it, then renamed), stepwise so the event loop keeps turning. */
  async backup(
    file: string,
    onProgress?: (p: BackupProgress) => void,
  ): Promise<{ file: string; totalPages: number; bytes: number }> {
    const tmp = join(dirname(file), `.${Date.now()}-${process.pid}.backup-tmp`);
    let totalPages = 0;
    try {
      const result = await this.reader.connection.backup(tmp, {
        progress: (p) => {
          totalPages = p.totalPages;
          onProgress?.(p);
          return 256;
        },
      });
      totalPages = result.totalPages;
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err instanceof JameyError ? err : sqliteError(err, 'backup failed');
    }
    return { file, totalPages, bytes: statSync(file).size };
  }

  /** Replaces the database with a backup: the writer swaps the file and reopens; readers reopen. */
  async restore(file: string): Promise<{ restoredFrom: string; schemaVersion: number }> {
    this.reader.close();
    try {
      return (await this.actor().ask({ kind: 'restore', file }, { priority: 'high' })) as {
        restoredFrom: string;
        schemaVersion: number;
      };
    } finally {
      this.reader.close();
    }
  }
}

const CHECKPOINT_TASK = fileURLToPath(new URL('./checkpoint-task.js', import.meta.url));

/** A checkpointer for `StoreOptions.checkpointer` that runs in the worker pool. */
export function poolCheckpointer(pool: {
  run<T>(task: { filename: string; name: string; label: string }, payload: unknown): Promise<T>;
}) {
  return (file: string): Promise<unknown> =>
    pool.run({ filename: CHECKPOINT_TASK, name: 'checkpoint', label: 'store.checkpoint' }, file);
}
