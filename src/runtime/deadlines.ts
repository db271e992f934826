/**
 * Deadline tracking without a timer per request.
 *
 * Most deadlines are "now + the same default", so they arrive in non-decreasing order: those go to a
 * FIFO, and one timer is armed for the FIFO's head. Settled entries are popped from the head as soon
 * as they settle and compacted away when they pile up behind a slow head, so memory follows the
 * number of requests in flight, not the deadline length. An entry whose deadline is earlier than the
 * FIFO's tail (a custom, shorter deadline) gets a timer of its own.
 */
import type { Clock, TimerHandle } from './clock.js';

export interface Deadlined {
  /** Absolute time on the tracker's clock; Infinity for none. */
  readonly deadline: number;
  /** True once the request has completed, failed or expired. */
  settled: boolean;
  /** Called once, when the deadline passes before `settled` (the tracker sets `settled` first). */
  expire(): void;
}

const COMPACT_MIN = 1024;

export class DeadlineTracker {
  private readonly clock: Clock;
  private items: Deadlined[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private settledSinceCompact = 0;
  private readonly onTimer = (): void => this.fire();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Entries tracked (including settled ones not yet removed). */
  get size(): number {
    return this.items.length - this.head;
  }

  add(item: Deadlined): void {
    const deadline = item.deadline;
    if (deadline === Number.POSITIVE_INFINITY) return;
    const items = this.items;
    const tail = items.length > this.head ? items[items.length - 1] : undefined;
    if (tail !== undefined && tail.deadline > deadline) {
      // Out of order: a timer of its own, rather than sorting.
      this.clock.setTimeout(
        () => {
          if (item.settled) return;
          item.settled = true;
          item.expire();
        },
        Math.max(0, deadline - this.clock.now()),
      );
      return;
    }
    items.push(item);
    // The timer may still be armed for an entry that has since settled and left; re-arm if this
    // one is due sooner.
    if (this.timer === undefined) this.arm(deadline);
    else if (deadline < this.timerAt) {
      this.clock.clearTimeout(this.timer);
      this.arm(deadline);
    }
  }

  /** Call after settling an item, so settled entries leave the head promptly. */
  settled(): void {
    this.settledSinceCompact++;
    const items = this.items;
    let head = this.head;
    while (head < items.length && (items[head] as Deadlined).settled) head++;
    this.head = head;
    if (head === items.length) {
      this.items = [];
      this.head = 0;
    } else if (head >= COMPACT_MIN && head * 2 >= items.length) {
      this.items = items.slice(head);
      this.head = 0;
    } else if (items.length - head >= COMPACT_MIN * 4 && this.settledSinceCompact * 2 > items.length - head) {
      // A slow head is holding many settled entries behind it: keep only the live ones.
      this.items = items.slice(head).filter((i) => !i.settled);
      this.head = 0;
      this.settledSinceCompact = 0;
    }
  }

  /** Cancels the timer; entries are forgotten without expiring. */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.items = [];
    this.head = 0;
  }

  private arm(at: number): void {
    this.timerAt = at;
    this.timer = this.clock.setTimeout(this.onTimer, Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const items = this.items;
    let head = this.head;
    while (head < items.length) {
      const item = items[head] as Deadlined;
      if (!item.settled) {
        if (item.deadline > now) break;
        item.settled = true;
        item.expire();
      }
      head++;
    }
    this.head = head;
    this.settled();
    const next = this.items[this.head];
    if (next !== undefined) this.arm(next.deadline);
  }
}
