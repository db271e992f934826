/**
 * The audit log: every refusal (401, 403, 429, ban, shed), key change and admin action, in the
 * `audit_log` table through the store actor.
 *
 * Refusals are recorded on the request path, so `record` is synchronous and allocates little: entries
 * wait in a bounded buffer and go to the store in batches (one store write per flush, every
 * `flushIntervalMs` or as soon as `maxBatch` entries wait). Identical refusals within one flush (same
 * actor, action, target and outcome) are coalesced into one row with a `count`, so a flood of refused
 * requests costs a handful of rows, not one per request. Writing is fire-and-forget but never silent:
 * an entry that cannot be written (store failure, or the buffer full) is counted in
 * `jamey_security_audit_failures_total` and logged. Key changes do not go through the buffer: their
 * audit row is written in the same transaction as the change (see keys.ts).
 *
 * Secrets never reach a row: details are passed through `redact`, which drops fields whose names
 * suggest credentials and masks anything shaped like an API key.
 */
import type { Database as Db } from 'better-sqlite3';
import type { Clock, TimerHandle } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log.js';
import { OptionChecker } from '../../runtime/options.js';
import type { Store, WriteHandler } from '../store/store.js';

export interface AuditEntry {
  /** Who: `key:<id>`, `ip:<address>` or `system`. Never a secret. */
  actor: string;
  /** What: `request.refused`, `key.create`, `key.rotate`, `key.revoke`, `key.bootstrap`, `ip.ban`, `admin.<action>`. */
  action: string;
  /** What it was done to: a key id, a route, an address. */
  target?: string | null;
  /** `ok`, a refusal reason, or an error code. */
  outcome: string;
  details?: Record<string, unknown> | null;
}

/** A row as written (`at` in the security layer's clock, milliseconds). */
export interface AuditRow {
  at: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: string | null;
}

export interface AuditRecord {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}

export interface AuditOptions {
  /** Time between flushes of buffered entries to the store, in ms. @default 1000 */
  flushIntervalMs: number;
  /** Distinct entries buffered at most; further ones are dropped and counted as failures. @default 10000 */
  maxPending: number;
  /** Rows per store write; a buffer this full is flushed at once. @default 500 */
  maxBatch: number;
  /** Rows older than this are pruned by the store's maintenance, in ms. @default 7776000000 (90 days) */
  retentionMs: number;
}

export const DEFAULT_AUDIT_OPTIONS: Readonly<AuditOptions> = Object.freeze({
  flushIntervalMs: 1000,
  maxPending: 10_000,
  maxBatch: 500,
  retentionMs: 90 * 86_400_000,
});

export function resolveAuditOptions(input: Partial<AuditOptions> = {}, prefix = 'audit'): AuditOptions {
  const c = new OptionChecker();
  const d = DEFAULT_AUDIT_OPTIONS;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(d, key)) c.problems.push(`unknown option "${prefix}.${key}"`);
  }
  const out: AuditOptions = {
    flushIntervalMs: c.number(
      `${prefix}.flushIntervalMs`,
      input.flushIntervalMs ?? d.flushIntervalMs,
      1,
      3_600_000,
    ),
    maxPending: c.integer(`${prefix}.maxPending`, input.maxPending ?? d.maxPending, 1, 10_000_000),
    maxBatch: c.integer(`${prefix}.maxBatch`, input.maxBatch ?? d.maxBatch, 1, 100_000),
    retentionMs: c.number(
      `${prefix}.retentionMs`,
      input.retentionMs ?? d.retentionMs,
      1,
      100 * 365 * 86_400_000,
    ),
  };
  c.throwIfAny();
  return out;
}

/** A `jmy_<id>_<secret>` token anywhere in a string. */
const TOKEN_PATTERN = /jmy_[A-Za-z0-9]+_[A-Za-z0-9_-]+/g;
/** Field names whose values are never recorded. */
const SECRET_FIELD = /secret|token|authorization|password|passwd|cookie|hash|api[-_]?key/i;
const MAX_DETAILS_CHARS = 4096;

/** A copy of `value` with credential-like fields dropped and key-shaped strings masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(TOKEN_PATTERN, 'jmy_[redacted]');
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

function detailsJson(details: Record<string, unknown> | null | undefined): string | null {
  if (details === null || details === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(redact(details));
  } catch {
    return JSON.stringify({ unserializable: true });
  }
  if (json.length > MAX_DETAILS_CHARS) return JSON.stringify({ truncated: json.slice(0, MAX_DETAILS_CHARS) });
  return json;
}

/** A string with anything shaped like an API key masked (a raw URL or header passed by mistake). */
function mask(value: unknown): string {
  return String(value).replace(TOKEN_PATTERN, 'jmy_[redacted]');
}

/** Turns an entry into a row (redacted details, bounded sizes). */
export function auditRow(entry: AuditEntry, at: number): AuditRow {
  return {
    at,
    actor: mask(entry.actor).slice(0, 200),
    action: mask(entry.action).slice(0, 100),
    target: entry.target === undefined || entry.target === null ? null : mask(entry.target).slice(0, 500),
    outcome: mask(entry.outcome).slice(0, 100),
    details: detailsJson(entry.details),
  };
}

export const AUDIT_INSERT_SQL =
  'INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES (@at, @actor, @action, @target, @outcome, @details)';

/** Write operations of the audit log, registered with the store as part of `security.*`. */
export function auditWriters(db: Db): Record<string, WriteHandler> {
  const insert = db.prepare(AUDIT_INSERT_SQL);
  return {
    /** Args: AuditRow[]. */
    audit(args) {
      const rows = args as AuditRow[];
      for (const r of rows) insert.run(r);
      return { written: rows.length };
    },
  };
}

/** Deletes audit rows older than `retentionMs` (a store pruner). */
export function auditPruner(retentionMs: number, clock: Clock = systemClock) {
  // The store passes Date.now(); rows carry the security clock's time, which the system clock keeps
  // within a hair of wall time. A manual clock (tests) prunes with its own time.
  const prune = auditPrunerAt(retentionMs);
  return (db: Db, _now: number): number => prune(db, clock.now());
}

/** Deletes audit rows older than `retentionMs` before the time it is given (the security clock's). */
export function auditPrunerAt(retentionMs: number) {
  return (db: Db, now: number): number =>
    db.prepare('DELETE FROM audit_log WHERE at < ?').run(now - retentionMs).changes;
}

export const AUDIT_QUERIES = {
  /** Newest first, before a sequence number (keyset pagination). */
  recent:
    'SELECT seq, at, actor, action, target, outcome, details FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  /** One action since a time, newest first (index audit_log_action_at). */
  byAction:
    'SELECT seq, at, actor, action, target, outcome, details FROM audit_log WHERE action = ? AND at >= ? ORDER BY at DESC LIMIT ?',
} as const;

type DbAuditRow = AuditRow & { seq: number };

export interface AuditQuery {
  /** Only this action. */
  action?: string;
  /** With `action`: rows at or after this time. @default 0 */
  since?: number;
  /** Rows with a smaller sequence number (the previous page's last `seq`). */
  before?: number;
  /** @default 100 (at most 1000) */
  limit?: number;
}

interface Pending {
  row: AuditRow;
  count: number;
  lastAt: number;
  details: Record<string, unknown> | null | undefined;
}

export interface AuditLogDeps {
  store: Store;
  clock?: Clock;
  log?: Logger;
  options?: Partial<AuditOptions>;
  /** Called with the number of entries lost each time some are (for the failures metric). */
  onFailure?: (lost: number) => void;
}

export class AuditLog {
  readonly options: Readonly<AuditOptions>;
  /** Entries that could not be written, since start. */
  failures = 0;
  /** Entries written (coalesced entries count once per request they stand for). */
  written = 0;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly onFailure: ((lost: number) => void) | undefined;
  private pending = new Map<string, Pending>();
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight = new Set<Promise<void>>();

  constructor(deps: AuditLogDeps) {
    this.options = Object.freeze(resolveAuditOptions(deps.options));
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.onFailure = deps.onFailure;
  }

  /** Entries waiting to be written. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Buffers an entry (synchronous, never throws). */
  record(entry: AuditEntry): void {
    const now = this.clock.now();
    const key = `${entry.actor}\u0000${entry.action}\u0000${entry.target ?? ''}\u0000${entry.outcome}`;
    const p = this.pending.get(key);
    if (p !== undefined) {
      p.count++;
      p.lastAt = now;
      return;
    }
    if (this.pending.size >= this.options.maxPending) {
      this.lost(1, 'audit buffer full: entry dropped');
      return;
    }
    // The row's details are built at flush time (with the count), but the entry's fields are copied
    // now so the caller may reuse its objects.
    this.pending.set(key, {
      row: auditRow({ ...entry, details: null }, now),
      count: 1,
      lastAt: now,
      details: entry.details,
    });
    if (this.pending.size >= this.options.maxBatch) void this.flush();
  }

  /** Writes what is buffered; resolves when written (or counted as lost). Never rejects. */
  flush(): Promise<void> {
    if (this.pending.size === 0) return Promise.all(this.inFlight).then(() => undefined);
    const batch = [...this.pending.values()];
    this.pending = new Map();
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < batch.length; i += this.options.maxBatch) {
      const chunk = batch.slice(i, i + this.options.maxBatch);
      let entries = 0;
      const rows = chunk.map((p) => {
        entries += p.count;
        const details =
          p.count > 1 ? { ...(p.details ?? {}), count: p.count, lastAt: p.lastAt } : (p.details ?? null);
        return { ...p.row, details: detailsJson(details) };
      });
      writes.push(this.writeRows(rows, entries));
    }
    const done = Promise.all(writes).then(() => undefined);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return Promise.all(this.inFlight).then(() => undefined);
  }

  private async writeRows(rows: AuditRow[], entries: number): Promise<void> {
    try {
      await this.store.write('security.audit', rows);
      this.written += entries;
    } catch (err) {
      this.lost(entries, 'audit write failed', err);
    }
  }

  /** Writes one entry now, bypassing the buffer (admin actions); resolves once committed or counted as lost. */
  async write(entry: AuditEntry): Promise<void> {
    await this.writeRows([auditRow(entry, this.clock.now())], 1);
  }

  private lost(n: number, msg: string, err?: unknown): void {
    this.failures += n;
    try {
      this.onFailure?.(n);
      this.log?.error(msg, {
        lost: n,
        ...(err === undefined
          ? {}
          : { code: (err as { code?: unknown }).code, error: (err as Error).message ?? String(err) }),
      });
    } catch {
      // Counting must not throw into the request path.
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      void this.flush();
      this.schedule();
    }, this.options.flushIntervalMs);
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Reads the log (newest first) on the store's read-only connection. */
  list(query: AuditQuery = {}): AuditRecord[] {
    const limit = Math.max(1, Math.min(1000, Math.floor(query.limit ?? 100)));
    const rows =
      query.action !== undefined
        ? (this.store.reader
            .statement(AUDIT_QUERIES.byAction)
            .all(query.action, query.since ?? 0, limit) as DbAuditRow[])
        : (this.store.reader
            .statement(AUDIT_QUERIES.recent)
            .all(query.before ?? Number.MAX_SAFE_INTEGER, limit) as DbAuditRow[]);
    return rows.map((r) => ({
      ...r,
      details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
    }));
  }
}
