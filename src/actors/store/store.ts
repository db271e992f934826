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
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { ActorContext, ActorRef, ActorSpec, BatchResult, Behavior } from '../../runtime/actor.js';
import { fromErrorData, JameyError } from '../../runtime/errors.js';
import { SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { sqliteError } from './sqlite-errors.js';
import {
  commitWrites,
  MAINTENANCE_TASKS,
  type MaintenanceReport,
  type MaintenanceTask,
  maintainDb,
  openWriterState,
  type Pruner,
  swapInBackup,
  type WriteOp,
  type WritersFactory,
} from './writer-core.js';
import type {
  ModuleExport,
  WireResult,
  WriterCommand,
  WriterReply,
  WriterThreadData,
  WritesReply,
} from './writer-thread.js';

export { openWriterConnection, type WriteHandler } from './writer-core.js';
export {
  MAINTENANCE_TASKS,
  type MaintenanceReport,
  type MaintenanceTask,
  type ModuleExport,
  type Pruner,
  type WritersFactory,
};

export type StoreMessage =
  | { kind: 'write'; op: string; args?: unknown }
  | { kind: 'maintain'; tasks?: readonly MaintenanceTask[] }
  | { kind: 'restore'; file: string };

export interface StoreOptions {
  /** The SQLite file. */
  file: string;
  /** @default 30000 */
  busyTimeoutMs?: number;
  /** Writes per transaction at most (bounds how long one commit holds the writer). @default 256 */
  maxBatch?: number;
  /**
   * On the event loop only (no `thread`): time one transaction may take before it commits and
   * leaves the remaining writes of the batch to the next turn of the event loop (ms). @default 4
   */
  batchBudgetMs?: number;
  /** Mailbox of the writer. @default 10000 */
  mailboxCapacity?: number;
  /** Scheduled maintenance; 0 turns it off. @default 3600000 (1 h) */
  maintenanceIntervalMs?: number;
  /**
   * Runs the writer connection on a thread of its own (`writer-thread.ts`), so that commits, WAL
   * checkpoints and SQLite's syncs never hold the event loop. Writers and pruners are then named
   * by module and export instead of given as functions; `writers` and `pruners` must not be set.
   */
  thread?: {
    writers: Record<string, ModuleExport>;
    pruners?: Record<string, ModuleExport>;
    /** The runtime clock, for pruners with `time: 'clock'`. @default the store's `now` */
    clockNow?: () => number;
  };
  /**
   * Writer thread only: it checkpoints the WAL (PASSIVE) after this many writes. On the event loop,
   * SQLite's automatic checkpoint runs instead. @default 1000
   */
  checkpointEveryWrites?: number;
  /**
   * Writer thread only: under load, the least time between the starts of two commits (ms); the
   * writes that arrive meanwhile join the next one. At rest a write commits at once. @default 4
   */
  commitIntervalMs?: number;
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

const WRITER_THREAD = fileURLToPath(new URL('./writer-thread.js', import.meta.url));

/** Runs `tell` every `interval` ms on the actor clock until the returned cancel is called. */
function scheduleMaintenance(ctx: ActorContext, interval: number): () => void {
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
  return () => {
    if (timer !== undefined) ctx.clock.clearTimeout(timer);
  };
}

function recordBatch(stats: StoreStats, size: number, failed: number, seconds: number): void {
  stats.batches++;
  stats.writes += size - failed;
  stats.failedWrites += failed;
  stats.lastBatchSize = size;
  stats.commitSeconds += seconds;
  stats.observeBatch?.(size, seconds);
}

/** The index after the run of write messages that starts at `i`. */
function writesEnd(messages: readonly StoreMessage[], i: number): number {
  let j = i + 1;
  while (j < messages.length && (messages[j] as StoreMessage).kind === 'write') j++;
  return j;
}

/** The store actor's spec. `stats` is filled as it works. */
export function storeActorSpec(
  options: StoreOptions,
  stats: StoreStats,
  onStop?: () => void,
): ActorSpec<StoreMessage, unknown> {
  if (options.thread !== undefined && (options.writers !== undefined || options.pruners !== undefined)) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      'a store with a writer thread takes its writers and pruners by module (thread), not as functions',
    );
  }
  return {
    name: STORE_ACTOR,
    maxBatch: options.maxBatch ?? 256,
    // On the writer thread, batches queue for group commit (see threadedWriter) while the thread
    // commits earlier ones; on the event loop, one at a time.
    ...(options.thread === undefined ? {} : { concurrency: 64 }),
    mailbox: { capacity: options.mailboxCapacity ?? 10_000 },
    start: (ctx) =>
      options.thread === undefined
        ? inlineWriter(ctx, options, stats, onStop)
        : threadedWriter(ctx, options, options.thread, stats, onStop),
  };
}

/** The writer connection on the event loop: transactions are cut into time-budgeted slices. */
function inlineWriter(
  ctx: ActorContext,
  options: StoreOptions,
  stats: StoreStats,
  onStop: (() => void) | undefined,
): Behavior<StoreMessage, unknown> {
  const now = options.now ?? Date.now;
  const open = () =>
    openWriterState(options.file, { busyTimeoutMs: options.busyTimeoutMs, writers: options.writers });
  let state = open();
  const cancelMaintenance = scheduleMaintenance(ctx, options.maintenanceIntervalMs ?? 3_600_000);
  // A transaction holds the event loop: past the time budget, commit what is done and leave the
  // rest for the next turn (after I/O), so heavy writes cannot stall requests.
  const budgetMs = options.batchBudgetMs ?? 4;

  const maintain = (tasks: readonly MaintenanceTask[]): MaintenanceReport => {
    const report = maintainDb(state.db, tasks, options.pruners ?? {}, options.vacuumPages ?? 2000, now());
    options.onMaintenance?.(report);
    return report;
  };

  const restore = (file: string): { restoredFrom: string; schemaVersion: number } => {
    checkBackupFile(file);
    state.db.close();
    try {
      swapInBackup(file, options.file);
    } finally {
      state = open();
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
            const j = writesEnd(messages, i);
            const t0 = performance.now();
            const { end, failed } = commitWrites(
              state,
              messages as readonly WriteOp[],
              i,
              j,
              now(),
              budgetMs,
              results,
            );
            recordBatch(stats, end - i, failed, (performance.now() - t0) / 1000);
            i = end;
            if (end < j) return i; // over the time budget: continue on the next turn
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
      cancelMaintenance();
      try {
        state.db.pragma('optimize');
      } catch {
        // Best effort on the way down.
      }
      onStop?.();
      state.db.close();
    },
  };
}

/**
 * The writer connection on its own thread: each run of writes in a batch crosses over in one
 * message and is acknowledged when the thread has committed it. If the thread dies, the actor
 * crashes: the writes in flight fail (`JAMEY_ERR_ACTOR_CRASHED`, none of them acknowledged) and the
 * supervisor starts a new incarnation on a new thread.
 */
async function threadedWriter(
  ctx: ActorContext,
  options: StoreOptions,
  thread: NonNullable<StoreOptions['thread']>,
  stats: StoreStats,
  onStop: (() => void) | undefined,
): Promise<Behavior<StoreMessage, unknown>> {
  const now = options.now ?? Date.now;
  const data: WriterThreadData = {
    file: options.file,
    busyTimeoutMs: options.busyTimeoutMs,
    vacuumPages: options.vacuumPages ?? 2000,
    checkpointEveryWrites: options.checkpointEveryWrites ?? 1000,
    writers: thread.writers,
    pruners: thread.pruners ?? {},
  };
  const worker = new Worker(WRITER_THREAD, { workerData: data });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: JameyError | undefined;
  const fail = (err: JameyError): void => {
    dead ??= err;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  worker.on('message', (r: WriterReply) => {
    const p = pending.get(r.id);
    if (p === undefined) return;
    pending.delete(r.id);
    // The thread keeps the process alive only while it has work of ours: a store left open does not
    // hold the process, and a write under way is not cut short by its exit.
    if (pending.size === 0) worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(fromErrorData(r.error));
  });
  worker.on('error', (err) => fail(sqliteError(err, 'the store writer thread failed')));
  worker.on('exit', (code) =>
    fail(new JameyError('JAMEY_ERR_STORE_FAILED', `the store writer thread exited (code ${code})`)),
  );
  const ready = new Promise((resolve, reject) => pending.set(0, { resolve, reject }));
  const call = <T>(request: WriterCommand): Promise<T> => {
    if (dead !== undefined) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (pending.size === 1) worker.ref();
      try {
        worker.postMessage({ ...request, id });
      } catch (err) {
        pending.delete(id);
        if (pending.size === 0) worker.unref();
        reject(
          new JameyError('JAMEY_ERR_INTERNAL', `cannot hand the ${request.type} to the store writer thread`, {
            cause: err,
          }),
        );
      }
    });
  };
  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const cancelMaintenance = scheduleMaintenance(ctx, options.maintenanceIntervalMs ?? 3_600_000);
  /** A dead thread crashes the actor (a plain error; a JameyError would only refuse the batch). */
  const crashIfDead = (): void => {
    if (dead !== undefined) throw new Error(dead.message, { cause: dead });
  };

  // Group commit across the actor's batches: the actor hands over each batch at once (it runs
  // several batches concurrently), and they queue here. One command is with the thread at a time;
  // consecutive writes leave together as one transaction, and under load at most one every
  // `commitIntervalMs`, so that many small commits do not each rewrite the same pages (B-tree
  // interiors, FTS5 segments) into the WAL. At rest a write leaves at once.
  type Item = { kind: 'writes'; ops: WriteOp[] } | { kind: 'other'; command: WriterCommand };
  /** Resolves with the item's results (writes) or the command's value (other). */
  type Queued = Item & { resolve: (v: unknown) => void; reject: (e: unknown) => void };
  const queue: Queued[] = [];
  const interval = options.commitIntervalMs ?? 4;
  const maxBatch = options.maxBatch ?? 256;
  let busy = false;
  let lastWrites = Number.NEGATIVE_INFINITY;
  let linger: NodeJS.Timeout | undefined;
  const pump = (): void => {
    if (busy || linger !== undefined || queue.length === 0) return;
    const head = queue[0] as Queued;
    if (head.kind === 'other') {
      queue.shift();
      busy = true;
      call(head.command)
        .then(head.resolve, head.reject)
        .finally(() => {
          busy = false;
          pump();
        });
      return;
    }
    const wait = lastWrites + interval - performance.now();
    if (wait > 0) {
      // Ref'd: a process whose last work is this write must not exit before it commits.
      linger = setTimeout(() => {
        linger = undefined;
        pump();
      }, wait);
      return;
    }
    // Up to maxBatch writes per transaction (always at least one batch of the actor's).
    const groups: Array<Extract<Queued, { kind: 'writes' }>> = [];
    let size = 0;
    while (queue.length > 0 && (queue[0] as Queued).kind === 'writes') {
      const next = queue[0] as Extract<Queued, { kind: 'writes' }>;
      if (groups.length > 0 && size + next.ops.length > maxBatch) break;
      groups.push(queue.shift() as Extract<Queued, { kind: 'writes' }>);
      size += next.ops.length;
    }
    const ops = groups.flatMap((g) => g.ops);
    busy = true;
    lastWrites = performance.now();
    call<WritesReply>({ type: 'writes', ops, ts: now() })
      .then(
        (reply) => {
          recordBatch(stats, ops.length, reply.failed, reply.seconds);
          let offset = 0;
          for (const g of groups) {
            g.resolve(reply.results.slice(offset, offset + g.ops.length));
            offset += g.ops.length;
          }
        },
        (err: unknown) => {
          for (const g of groups) g.reject(err);
        },
      )
      .finally(() => {
        busy = false;
        pump();
      });
  };
  const enqueue = <T>(item: Item): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ ...item, resolve: resolve as (v: unknown) => void, reject });
      pump();
    });

  const runWrites = async (
    messages: readonly StoreMessage[],
    from: number,
    to: number,
    results: Array<BatchResult<unknown>>,
  ): Promise<void> => {
    const ops: WriteOp[] = [];
    for (let k = from; k < to; k++) {
      const m = messages[k] as Extract<StoreMessage, { kind: 'write' }>;
      ops.push(m.args === undefined ? { op: m.op } : { op: m.op, args: m.args });
    }
    let replies: WireResult[];
    try {
      replies = await enqueue<WireResult[]>({ kind: 'writes', ops });
    } catch (err) {
      // The thread died (the actor crashes below and is restarted) or the arguments could not be
      // sent: none of these writes is acknowledged.
      const e = err instanceof JameyError ? err : sqliteError(err, 'write failed');
      for (let k = from; k < to; k++) results[k] = { ok: false, error: e };
      crashIfDead();
      return;
    }
    replies.forEach((r, n) => {
      results[from + n] = r.ok ? r : { ok: false, error: fromErrorData(r.error) };
    });
  };

  return {
    async receiveBatch(messages) {
      const results: Array<BatchResult<unknown>> = new Array(messages.length);
      let i = 0;
      while (i < messages.length) {
        const m = messages[i] as StoreMessage;
        if (m.kind === 'write') {
          const j = writesEnd(messages, i);
          await runWrites(messages, i, j, results);
          i = j;
          continue;
        }
        try {
          if (m.kind === 'maintain') {
            const report = await enqueue<MaintenanceReport>({
              kind: 'other',
              command: {
                type: 'maintain',
                tasks: m.tasks ?? MAINTENANCE_TASKS,
                now: now(),
                clockNow: (thread.clockNow ?? now)(),
              },
            });
            options.onMaintenance?.(report);
            results[i] = { ok: true, value: report };
          } else {
            checkBackupFile(m.file);
            results[i] = {
              ok: true,
              value: await enqueue({ kind: 'other', command: { type: 'restore', file: m.file } }),
            };
          }
        } catch (err) {
          crashIfDead();
          results[i] = {
            ok: false,
            error: err instanceof JameyError ? err : sqliteError(err, `${m.kind} failed`),
          };
        }
        i++;
      }
      return results;
    },
    async stop() {
      cancelMaintenance();
      if (linger !== undefined) clearTimeout(linger);
      // Writes still waiting for their commit are not acknowledged.
      const stopped = new JameyError(
        'JAMEY_ERR_SHUTTING_DOWN',
        'the store stopped before this write committed',
      );
      for (const item of queue.splice(0)) item.reject(stopped);
      onStop?.();
      try {
        await call({ type: 'close' });
      } catch {
        // The thread is gone already.
      }
      await worker.terminate();
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
