/**
 * Injectable clock. Everything time-dependent in the runtime (deadlines, backoff, TTLs, rate limits,
 * decay) reads time and sets timers through a `Clock`, so tests advance a `ManualClock` instead of
 * sleeping. (After xstate's `SimulatedClock`.) The interface is also what XState's `createActor`
 * accepts as its `clock` option, so statecharts share the same time.
 */

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since an arbitrary origin; monotonic for the system clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

const origin = Date.now() - performance.now();

/** The real clock: `performance.now()` offset to wall time, and Node's timers (unref'd). */
export const systemClock: Clock = Object.freeze({
  now: () => origin + performance.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
});

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in order of due time (then creation order)
 * during `advance()`; a timer set by a firing timer fires in the same advance if it falls due.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Due time of the earliest pending timer, or undefined. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers.values()) {
        if (
          t.at <= target &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))
        ) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.timers.delete(next.id);
      this.current = next.at;
      next.fn();
    }
    this.current = target;
  }

  /**
   * Advances time by `ms` in steps, letting promise callbacks run between timers, so that code
   * which awaits and then sets the next timer (a retry loop, a restart backoff) progresses.
   */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    const target = this.current + ms;
    await flushMicrotasks();
    while (this.current < target) {
      const due = this.nextDue();
      const to = due !== undefined && due <= target ? due : Math.min(target, this.current + step);
      this.advance(to - this.current);
      await flushMicrotasks();
    }
  }
}

/** Lets queued promise callbacks (and those they queue, a few levels deep) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
