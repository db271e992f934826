/**
 * The worker pool: Piscina with a bounded queue, a deadline and an AbortSignal per task, and errors
 * rebuilt from codes.
 *
 * - `maxThreads` defaults to the core count; the pool (and its threads) is created on first use, so
 *   a runtime that never computes Φ or scores predictions starts no threads.
 * - A task submitted while `maxQueue` tasks already wait fails at once with JAMEY_ERR_POOL_SATURATED,
 *   before it costs anything.
 * - A task that misses its deadline fails with JAMEY_ERR_DEADLINE_EXCEEDED; Piscina aborts it, which
 *   terminates the thread running it (a runaway computation cannot hold a thread) and a new thread
 *   replaces it. An aborted caller signal gives JAMEY_ERR_ABORTED.
 * - Tasks are functions wrapped with `defineTask` (worker-task.ts) and return `{ok, value}` or
 *   `{ok: false, code, message}`; the host rebuilds the JameyError. A thread that dies mid-task
 *   (uncaught error, `process.exit`, out of memory) gives JAMEY_ERR_WORKER_CRASHED.
 */
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Clock } from './clock.js';
import { type Deadlined, DeadlineTracker } from './deadlines.js';
import { fromErrorData, JameyError } from './errors.js';
import type { PoolOptions } from './options.js';
import type { TaskResult } from './worker-task.js';

/** Names a task: the module a worker loads and the function it exports. */
export interface TaskRef {
  /** Absolute file URL or path of the compiled worker module. */
  readonly filename: string;
  /** Exported function name. @default 'default' */
  readonly name?: string;
  /** Bounded label for metrics (never an id). @default name */
  readonly label?: string;
}

export interface RunOptions {
  /** Milliseconds until JAMEY_ERR_DEADLINE_EXCEEDED. @default pool taskDeadlineMs */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** ArrayBuffers to transfer instead of copying. */
  transferList?: TransferListItem[];
}

export interface PoolStats {
  completed: number;
  failed: number;
  saturated: number;
  deadlineExceeded: number;
  crashed: number;
}

/**
 * One submitted task. It is also the abort signal handed to Piscina: Piscina needs only `aborted`,
 * `reason` and one listener, and a real AbortController per task costs a measurable share of a
 * trivial task's round trip.
 */
class PoolTask implements Deadlined {
  readonly deadline: number;
  settled = false;
  aborted = false;
  reason: unknown;
  expiredByDeadline = false;
  private listener: (() => void) | undefined;

  constructor(deadline: number) {
    this.deadline = deadline;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = undefined;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  expire(): void {
    this.expiredByDeadline = true;
    this.abort(new JameyError('JAMEY_ERR_DEADLINE_EXCEEDED'));
  }
}

export class TaskPool {
  readonly options: PoolOptions;
  readonly stats: PoolStats = { completed: 0, failed: 0, saturated: 0, deadlineExceeded: 0, crashed: 0 };
  /** Observes task durations in seconds by label; set by the metrics registry. */
  observeTask: ((label: string, outcome: string, seconds: number) => void) | undefined;
  private readonly clock: Clock;
  private readonly deadlines: DeadlineTracker;
  private piscina: Piscina | undefined;
  private closing = false;

  constructor(options: PoolOptions, clock: Clock) {
    this.options = options;
    this.clock = clock;
    this.deadlines = new DeadlineTracker(clock);
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number {
    return this.piscina?.queueSize ?? 0;
  }

  get threads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  /** Share of the pool's capacity spent running tasks since start, 0..1 (Piscina's utilization). */
  get utilization(): number {
    return this.piscina?.utilization ?? 0;
  }

  /** The underlying Piscina instance (created on first use). */
  get instance(): Piscina {
    if (this.piscina === undefined) {
      if (this.closing) throw new JameyError('JAMEY_ERR_SHUTTING_DOWN', 'worker pool is closed');
      this.piscina = new Piscina({
        maxThreads: this.options.maxThreads,
        minThreads: this.options.maxThreads,
        maxQueue: this.options.maxQueue,
        idleTimeout: this.options.idleTimeoutMs,
      });
    }
    return this.piscina;
  }

  async run<T>(task: TaskRef, payload: unknown, options?: RunOptions): Promise<T> {
    if (this.closing) throw new JameyError('JAMEY_ERR_SHUTTING_DOWN', 'worker pool is closing');
    const piscina = this.instance;
    const label = task.label ?? task.name ?? 'default';
    if (piscina.queueSize >= this.options.maxQueue && piscina.queueSize > 0) {
      this.stats.saturated++;
      this.observeTask?.(label, 'saturated', 0);
      throw new JameyError(
        'JAMEY_ERR_POOL_SATURATED',
        `worker pool queue is full (${this.options.maxQueue} waiting)`,
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
    const deadlineMs = options?.deadlineMs ?? this.options.taskDeadlineMs;
    const t = new PoolTask(
      deadlineMs === Number.POSITIVE_INFINITY ? deadlineMs : this.clock.now() + deadlineMs,
    );
    const onAbort = signal === undefined ? undefined : (): void => t.abort(signal.reason);
    if (signal !== undefined) signal.addEventListener('abort', onAbort as () => void, { once: true });
    this.deadlines.add(t);
    const t0 = this.observeTask === undefined ? 0 : performance.now();
    let outcome = 'ok';
    try {
      const runOptions: {
        filename: string;
        name: string;
        signal: PoolTask;
        transferList?: TransferListItem[];
      } = {
        filename: task.filename,
        name: task.name ?? 'default',
        signal: t,
      };
      if (options?.transferList !== undefined) runOptions.transferList = options.transferList;
      const result = (await piscina.run(payload, runOptions)) as TaskResult<T>;
      if (result.ok) {
        this.stats.completed++;
        return result.value;
      }
      this.stats.failed++;
      outcome = result.code;
      throw fromErrorData(result);
    } catch (err) {
      if (err instanceof JameyError) throw err;
      if (t.expiredByDeadline) {
        this.stats.deadlineExceeded++;
        outcome = 'JAMEY_ERR_DEADLINE_EXCEEDED';
        throw new JameyError(
          'JAMEY_ERR_DEADLINE_EXCEEDED',
          `task "${label}" missed its deadline of ${deadlineMs} ms`,
          { details: { task: label, deadlineMs } },
        );
      }
      if (signal?.aborted) {
        outcome = 'JAMEY_ERR_ABORTED';
        throw new JameyError('JAMEY_ERR_ABORTED', `task "${label}" was aborted`, { cause: signal.reason });
      }
      const message = err instanceof Error ? err.message : String(err);
      if (/queue is at limit/i.test(message)) {
        this.stats.saturated++;
        outcome = 'JAMEY_ERR_POOL_SATURATED';
        throw new JameyError(
          'JAMEY_ERR_POOL_SATURATED',
          `worker pool queue is full (${this.options.maxQueue} waiting)`,
        );
      }
      if (this.closing) {
        outcome = 'JAMEY_ERR_SHUTTING_DOWN';
        throw new JameyError('JAMEY_ERR_SHUTTING_DOWN', `task "${label}" was cancelled by shutdown`, {
          cause: err,
        });
      }
      this.stats.crashed++;
      outcome = 'JAMEY_ERR_WORKER_CRASHED';
      throw new JameyError('JAMEY_ERR_WORKER_CRASHED', `task "${label}" failed in its worker: ${message}`, {
        cause: err,
      });
    } finally {
      t.settled = true;
      this.deadlines.settled();
      if (signal !== undefined) signal.removeEventListener('abort', onAbort as () => void);
      if (this.observeTask !== undefined) this.observeTask(label, outcome, (performance.now() - t0) / 1000);
    }
  }

  /** Graceful: lets queued and running tasks finish, then ends the threads. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const p = this.piscina;
    this.piscina = undefined;
    if (p !== undefined) await p.close();
  }

  /** Cancels queued and running tasks and ends the threads at once. Idempotent. */
  async destroy(): Promise<void> {
    this.closing = true;
    const p = this.piscina;
    this.piscina = undefined;
    this.deadlines.clear();
    if (p !== undefined) await p.destroy();
  }
}
