/**
 * Bounded priority mailbox on fixed ring buffers, one per lane.
 *
 * Four lanes, `critical > high > normal > low`; FIFO within a lane; `capacity` counts the messages of
 * all lanes together. A lane's ring buffer is allocated on its first use (most actors only ever use
 * `normal`). When the mailbox is full the overflow policy decides:
 * - `reject` (default): the new message is refused (`offer` returns REJECTED; the actor throws
 *   JAMEY_ERR_MAILBOX_FULL);
 * - `drop-oldest`: the oldest message of the lowest-priority non-empty lane is evicted to make room,
 *   unless every queued message outranks the new one, in which case the new one is dropped (a
 *   telemetry sample never displaces a critical message);
 * - `drop-newest`: the new message is dropped.
 * Evicted and dropped messages go to `onDrop`, so the actor can fail a pending `ask` instead of
 * leaving it hanging. (Backpressure after piscina `task_queue/fixed_queue.ts` and Effect `Queue`.)
 */
import type { OverflowPolicy } from './options.js';

/**
 * A fixed-capacity FIFO ring. Unlike mnemonist's `FixedDeque`, `shift` clears the slot it leaves:
 * the ring is allocated once and lives in the old generation, so a taken message still referenced
 * from its slot (an ask, its resolvers, the promise and the reply they reach) would survive every
 * young-generation collection and be promoted, until `capacity` later messages overwrite it.
 */
class Ring<T> {
  size = 0;
  private start = 0;
  private readonly items: Array<T | undefined>;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    let index = this.start + this.size;
    if (index >= this.capacity) index -= this.capacity;
    this.items[index] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const index = this.start;
    const item = this.items[index];
    this.items[index] = undefined;
    this.size--;
    this.start = index + 1 === this.capacity ? 0 : index + 1;
    return item;
  }
}

export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Lane index of each priority; lower is served first. */
export const LANE = Object.freeze({ critical: 0, high: 1, normal: 2, low: 3 } as const);
const LANES = 4;

/** Results of `offer`. */
export const ACCEPTED = 0;
export const REJECTED = 1;
export const DROPPED = 2;
export type OfferResult = typeof ACCEPTED | typeof REJECTED | typeof DROPPED;

export type DropReason = 'drop-oldest' | 'drop-newest';

export class Mailbox<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Messages held now, over all lanes. */
  size = 0;
  /** Messages accepted since creation. */
  enqueued = 0;
  /** Messages refused by the `reject` policy. */
  rejected = 0;
  /** Messages evicted or dropped by a drop policy. */
  dropped = 0;
  private readonly lanes: Array<Ring<T> | undefined>;
  private readonly onDrop: ((message: T, reason: DropReason) => void) | undefined;

  constructor(capacity: number, overflow: OverflowPolicy, onDrop?: (message: T, reason: DropReason) => void) {
    this.capacity = capacity;
    this.overflow = overflow;
    this.onDrop = onDrop;
    this.lanes = [undefined, undefined, new Ring<T>(capacity), undefined];
  }

  /** Adds a message to lane `lane` (see LANE). */
  offer(message: T, lane: number = LANE.normal): OfferResult {
    if (this.size >= this.capacity) return this.offerWhenFull(message, lane);
    this.push(message, lane);
    return ACCEPTED;
  }

  /** Removes and returns the first message of the highest non-empty lane. Check `size` first. */
  shift(): T | undefined {
    const lanes = this.lanes;
    for (let i = 0; i < LANES; i++) {
      const q = lanes[i];
      if (q !== undefined && q.size > 0) {
        this.size--;
        return q.shift();
      }
    }
    return undefined;
  }

  /** Number of messages waiting in one lane. */
  depth(lane: number): number {
    return this.lanes[lane]?.size ?? 0;
  }

  /** Removes and returns every message, highest lane first. */
  takeAll(): T[] {
    const out: T[] = [];
    while (this.size > 0) out.push(this.shift() as T);
    return out;
  }

  private push(message: T, lane: number): void {
    let q = this.lanes[lane];
    if (q === undefined) {
      q = new Ring<T>(this.capacity);
      this.lanes[lane] = q;
    }
    q.push(message);
    this.size++;
    this.enqueued++;
  }

  private offerWhenFull(message: T, lane: number): OfferResult {
    if (this.overflow === 'reject') {
      this.rejected++;
      return REJECTED;
    }
    if (this.overflow === 'drop-oldest') {
      for (let i = LANES - 1; i >= lane; i--) {
        const q = this.lanes[i];
        if (q !== undefined && q.size > 0) {
          const evicted = q.shift() as T;
          this.size--;
          this.dropped++;
          this.onDrop?.(evicted, 'drop-oldest');
          this.push(message, lane);
          return ACCEPTED;
        }
      }
    }
    this.dropped++;
    this.onDrop?.(message, 'drop-newest');
    return DROPPED;
  }
}
