/**
 * The live-Φ estimator: the runtime observed as a network of binary nodes.
 *
 * Every tick each actor is a node that is ON when it was active during the tick (it processed a
 * message, or had a handler running or messages waiting when the tick was sampled) and OFF
 * otherwise. The history keeps the last `capacity` ticks. For a chosen set of k actors, the
 * sequence of their joint states gives transitions s_t -> s_{t+1}; the state-by-node TPM is the
 * Laplace-smoothed (additive, pseudo-count α) frequency that node j is ON after state s:
 *
 *   P(j ON at t+1 | s at t) = (c(s, j) + α) / (n(s) + 2α)
 *
 * with n(s) the number of transitions out of s and c(s, j) how many of those had node j ON. A state
 * never seen gets 1/2 for every node; with α = 0 it gets 1/2 too (no information) but observed
 * states keep their raw frequencies, so the current state can be unreachable. A state-by-node TPM
 * assumes the nodes' next states are independent given the current one (PyPhi's conditional
 * independence); that is an assumption of the estimator, not something it checks. Rows use PyPhi's
 * little-endian order (node 0 is the lowest bit).
 *
 * Nodes: the actors whose activity changed during the window (a node that is always OFF or always
 * ON carries no transition information and is not strongly connected in any useful sense), most
 * active first (active ticks, then name), at most `maxNodes`.
 */

export type Activity = ReadonlyMap<string, boolean>;

/** A ring buffer of per-tick activity. */
export class ActivityHistory {
  readonly capacity: number;
  private readonly ticks: (Activity | undefined)[];
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ticks = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  record(activity: Activity): void {
    this.ticks[this.head] = activity;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Ticks oldest first. */
  *entries(): IterableIterator<Activity> {
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) yield this.ticks[(start + i) % this.capacity]!;
  }

  /** The last tick, if any. */
  last(): Activity | undefined {
    return this.count === 0 ? undefined : this.ticks[(this.head - 1 + this.capacity) % this.capacity];
  }

  /** Actors whose activity varied in the window, most active first (ties by name), at most `max`. */
  selectNodes(max: number): string[] {
    const active = new Map<string, number>();
    const seen = new Map<string, number>();
    for (const tick of this.entries()) {
      for (const [name, on] of tick) {
        seen.set(name, (seen.get(name) ?? 0) + 1);
        if (on) active.set(name, (active.get(name) ?? 0) + 1);
      }
    }
    const varying = [...seen.keys()].filter((n) => {
      const a = active.get(n) ?? 0;
      return a > 0 && a < (seen.get(n) ?? 0);
    });
    varying.sort((a, b) => (active.get(b) ?? 0) - (active.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
    return varying.slice(0, max);
  }

  /**
   * The joint states of `nodes` tick by tick, oldest first; a tick where one of them was not
   * observed (not yet spawned) is `null` and breaks the sequence.
   */
  states(nodes: readonly string[]): (number[] | null)[] {
    const out: (number[] | null)[] = [];
    for (const tick of this.entries()) {
      const s: number[] = [];
      let complete = true;
      for (const n of nodes) {
        const on = tick.get(n);
        if (on === undefined) {
          complete = false;
          break;
        }
        s.push(on ? 1 : 0);
      }
      out.push(complete ? s : null);
    }
    return out;
  }
}

export interface TpmEstimate {
  /** State-by-node TPM, 2^k rows, little-endian. */
  tpm: number[][];
  /** Transitions counted. */
  transitions: number;
  /** Transitions out of each state n(s). */
  visits: number[];
}

function stateIndex(s: readonly number[]): number {
  let idx = 0;
  for (let j = 0; j < s.length; j++) if (s[j]) idx |= 1 << j;
  return idx;
}

/**
 * Laplace-smoothed state-by-node TPM from a sequence of k-node states (see the module comment);
 * `null` entries break the sequence (no transition into or out of them is counted).
 */
export function estimateTpm(
  sequence: readonly (readonly number[] | null)[],
  k: number,
  alpha = 1,
): TpmEstimate {
  const S = 1 << k;
  const visits = new Array<number>(S).fill(0);
  const on = Array.from({ length: S }, () => new Array<number>(k).fill(0));
  let transitions = 0;
  for (let t = 0; t + 1 < sequence.length; t++) {
    const a = sequence[t];
    const b = sequence[t + 1];
    if (a == null || b == null) continue;
    const s = stateIndex(a);
    visits[s]!++;
    transitions++;
    const row = on[s]!;
    for (let j = 0; j < k; j++) if (b[j]) row[j]!++;
  }
  const tpm = on.map((row, s) => {
    const n = visits[s]!;
    return row.map((c) => (n + 2 * alpha === 0 ? 0.5 : (c + alpha) / (n + 2 * alpha)));
  });
  return { tpm, transitions, visits };
}

/** Connectivity among `nodes` from known directed connections; fully connected when none are known. */
export function connectivity(
  nodes: readonly string[],
  connections: readonly (readonly [string, string])[] | undefined,
): number[][] {
  const k = nodes.length;
  if (connections === undefined) return Array.from({ length: k }, () => new Array<number>(k).fill(1));
  const index = new Map(nodes.map((n, i) => [n, i]));
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const [from, to] of connections) {
    const i = index.get(from);
    const j = index.get(to);
    if (i !== undefined && j !== undefined) cm[i]![j] = 1;
  }
  return cm;
}
