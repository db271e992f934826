/**
 * The store's writer thread: the one read-write connection to SQLite, off the event loop.
 *
 * better-sqlite3 is synchronous, so on the main thread every COMMIT (its page writes), every WAL
 * checkpoint and the fsync SQLite makes of the WAL header each time the log restarts (with
 * `synchronous=NORMAL`, SQLite "PRAGMA synchronous") would hold the event loop — tens of
 * milliseconds on a slow disk. Here they hold only this thread; the store actor on the main thread
 * keeps its mailbox and group commit and hands each batch over in one message.
 *
 * The writers and pruners are named by module and export (functions cannot cross threads); the
 * thread imports them and prepares their statements on its connection. It also checkpoints the WAL
 * itself every `checkpointEveryWrites` writes: as the only writer, its PASSIVE checkpoint between
 * two transactions can copy the whole log, so the next write restarts the WAL instead of growing it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchResult } from '../../runtime/actor.js';
import { isJameyError, type JameyError } from '../../runtime/errors.js';
import { yieldToEventLoop } from '../../runtime/thread-priority.js';
import { schemaVersion } from './migrations.js';
import { sqliteError } from './sqlite-errors.js';
import {
  commitWrites,
  type MaintenanceTask,
  maintainDb,
  openWriterState,
  type Pruner,
  swapInBackup,
  type WriteOp,
  type WriterState,
  type WritersFactory,
} from './writer-core.js';

/** A function exported by a module, by name: what a thread can be told to load. */
export interface ModuleExport {
  /** The module's URL (`new URL('./x.js', import.meta.url).href`). */
  module: string;
  export: string;
  /** Arguments for a factory (pruners): structured-cloneable. */
  args?: readonly unknown[];
  /** Pruners: prune against the store's wall time (default) or the runtime clock's time. */
  time?: 'wall' | 'clock';
}

export interface WriterThreadData {
  file: string;
  busyTimeoutMs?: number | undefined;
  vacuumPages: number;
  checkpointEveryWrites: number;
  writers: Record<string, ModuleExport>;
  pruners: Record<string, ModuleExport>;
}

export type WriterCommand =
  | { type: 'writes'; ops: WriteOp[]; ts: number }
  | { type: 'maintain'; tasks: readonly MaintenanceTask[]; now: number; clockNow: number }
  | { type: 'restore'; file: string }
  | { type: 'close' };

export type WriterRequest = WriterCommand & { id: number };

/** A result as it crosses the thread boundary: errors as plain data. */
export type WireResult =
  | { ok: true; value: unknown }
  | { ok: false; error: ReturnType<JameyError['toJSON']> };

export interface WritesReply {
  results: WireResult[];
  failed: number;
  seconds: number;
}

export type WriterReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ReturnType<JameyError['toJSON']> };

function wireError(err: unknown, what: string): ReturnType<JameyError['toJSON']> {
  return (isJameyError(err) ? err : sqliteError(err, what)).toJSON();
}

async function load<T>(ref: ModuleExport): Promise<T> {
  const mod = (await import(ref.module)) as Record<string, unknown>;
  const fn = mod[ref.export];
  if (typeof fn !== 'function') throw new Error(`${ref.module} has no function "${ref.export}"`);
  return fn as T;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('the store writer must run in a worker thread');
  // The event loop comes first when both want a core (src/runtime/thread-priority.ts).
  yieldToEventLoop('writer');
  const data = workerData as WriterThreadData;
  const writers: Record<string, WritersFactory> = {};
  const pruners: Record<string, Pruner> = {};
  /** The runtime clock's time of the maintenance run under way (for `time: 'clock'` pruners). */
  let clockNow = 0;
  let state: WriterState;
  try {
    for (const [domain, ref] of Object.entries(data.writers)) writers[domain] = await load(ref);
    for (const [name, ref] of Object.entries(data.pruners)) {
      const pruner = (await load<(...a: unknown[]) => Pruner>(ref))(...(ref.args ?? []));
      pruners[name] = ref.time === 'clock' ? (db, _now) => pruner(db, clockNow) : pruner;
    }
    state = openWriterState(data.file, { busyTimeoutMs: data.busyTimeoutMs, writers });
  } catch (err) {
    port.postMessage({ id: 0, ok: false, error: wireError(err, `cannot open ${data.file}`) });
    return;
  }
  port.postMessage({ id: 0, ok: true, value: schemaVersion(state.db) });

  let sinceCheckpoint = 0;
  const writes = (ops: WriteOp[], ts: number): WritesReply => {
    const t0 = performance.now();
    const results: Array<BatchResult<unknown>> = new Array(ops.length);
    const { failed } = commitWrites(state, ops, 0, ops.length, ts, Number.POSITIVE_INFINITY, results);
    const seconds = (performance.now() - t0) / 1000;
    sinceCheckpoint += ops.length - failed;
    if (sinceCheckpoint >= data.checkpointEveryWrites) {
      sinceCheckpoint = 0;
      try {
        state.db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // A failed checkpoint leaves the WAL longer; the next one retries.
      }
    }
    return {
      results: results.map((r) => (r.ok ? r : { ok: false, error: wireError(r.error, 'write failed') })),
      failed,
      seconds,
    };
  };

  port.on('message', (m: WriterRequest) => {
    let reply: WriterReply;
    try {
      let value: unknown;
      switch (m.type) {
        case 'writes':
          value = writes(m.ops, m.ts);
          break;
        case 'maintain':
          clockNow = m.clockNow;
          value = maintainDb(state.db, m.tasks, pruners, data.vacuumPages, m.now);
          break;
        case 'restore':
          state.db.close();
          try {
            swapInBackup(m.file, data.file);
          } finally {
            state = openWriterState(data.file, { busyTimeoutMs: data.busyTimeoutMs, writers });
          }
          value = { restoredFrom: m.file, schemaVersion: schemaVersion(state.db) };
          break;
        case 'close':
          try {
            state.db.pragma('optimize');
          } catch {
            // Best effort on the way down.
          }
          state.db.close();
          value = null;
          break;
      }
      reply = { id: m.id, ok: true, value };
    } catch (err) {
      reply = { id: m.id, ok: false, error: wireError(err, `${m.type} failed`) };
    }
    port.postMessage(reply);
    if (m.type === 'close') port.close();
  });
}

void main();
