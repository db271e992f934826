/**
 * Dead letters: messages that could not be delivered (sent to a stopped, closed or failed actor,
 * dropped by an overflow policy, or left in a mailbox by `destroy`). Counted per actor and reason;
 * the most recent ones are kept for inspection in a bounded ring buffer.
 */
import { CircularBuffer } from 'mnemonist';

export type DeadLetterReason = 'stopped' | 'closed' | 'failed' | 'destroyed' | 'drop-oldest' | 'drop-newest';

export interface DeadLetter {
  readonly actor: string;
  readonly reason: DeadLetterReason;
  readonly message: unknown;
  readonly at: number;
}

export class DeadLetters {
  /** Total dead letters since creation. */
  total = 0;
  private readonly recentBuffer: CircularBuffer<DeadLetter>;
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<(letter: DeadLetter) => void>();

  constructor(keep = 100) {
    this.recentBuffer = new CircularBuffer<DeadLetter>(Array, Math.max(1, keep));
  }

  record(actor: string, reason: DeadLetterReason, message: unknown, at: number): void {
    this.total++;
    const key = `${actor}\u0000${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const letter: DeadLetter = { actor, reason, message, at };
    this.recentBuffer.push(letter);
    for (const listener of this.listeners) listener(letter);
  }

  /** The most recent dead letters, oldest first. */
  recent(): DeadLetter[] {
    return this.recentBuffer.toArray() as DeadLetter[];
  }

  /** Counts by actor and reason. */
  countsBy(): Array<{ actor: string; reason: DeadLetterReason; count: number }> {
    const out: Array<{ actor: string; reason: DeadLetterReason; count: number }> = [];
    for (const [key, count] of this.counts) {
      const [actor, reason] = key.split('\u0000') as [string, DeadLetterReason];
      out.push({ actor, reason, count });
    }
    return out;
  }

  count(actor?: string): number {
    if (actor === undefined) return this.total;
    let n = 0;
    for (const { actor: a, count } of this.countsBy()) if (a === actor) n += count;
    return n;
  }

  subscribe(listener: (letter: DeadLetter) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
