/**
 * Enumerations of subsets, mechanism partitions and system cuts, in PyPhi 1.2's order
 * (`pyphi/utils.py` `powerset`, `pyphi/partition.py` `bipartition`, `directed_bipartition`,
 * `mip_bipartitions`, `directed_bipartition_of_one`; `compute/subsystem.py` `sia_bipartitions`).
 *
 * Sets are bitmasks over *local* positions (bit i = the i-th node of the sorted subsystem).
 * Order matters where PyPhi breaks ties by "first found": purviews are scanned in powerset order
 * (by size, then lexicographically), cuts in `directed_bipartition` order.
 */

import { bitsOf, popcount } from './tpm.js';

/** A unidirectional system cut: connections from `from` to `to` are severed (PyPhi `Cut`). */
export interface CutMasks {
  readonly from: number;
  readonly to: number;
}

const powersetCache = new Map<number, Int32Array>();

/**
 * Non-empty subsets of k elements in `itertools.combinations` order for r = 1..k (PyPhi
 * `utils.powerset(nonempty=True)`), as bitmasks.
 */
export function powersetMasks(k: number): Int32Array {
  let cached = powersetCache.get(k);
  if (cached) return cached;
  const out: number[] = [];
  const combo = (start: number, left: number, acc: number): void => {
    if (left === 0) {
      out.push(acc);
      return;
    }
    for (let i = start; i <= k - left; i++) combo(i + 1, left - 1, acc | (1 << i));
  };
  for (let r = 1; r <= k; r++) combo(0, r, 0);
  cached = Int32Array.from(out);
  powersetCache.set(k, cached);
  return cached;
}

/** Subsets of `mask` in the order of `powersetMasks` restricted to it (size, then lexicographic). */
export function subsetsInOrder(mask: number): number[] {
  const bits = bitsOf(mask);
  const local = powersetMasks(bits.length);
  const out: number[] = [];
  for (const s of local) {
    let m = 0;
    for (let i = 0; i < bits.length; i++) if ((s >> i) & 1) m |= 1 << bits[i]!;
    out.push(m);
  }
  return out;
}

/**
 * PyPhi `directed_bipartition(seq, nontrivial=True)` for k nodes: the ordered list of (from, to)
 * system cuts, `2^k - 2` of them.
 */
export function systemCuts(k: number): CutMasks[] {
  const undirected: [number, number][] = [];
  const half = 1 << (k - 1);
  const all = (1 << k) - 1;
  for (let i = 0; i < half; i++) {
    // bipartition_indices: bit n of i set -> element n in part[1]; result is (part[1], part[0]).
    undirected.push([i & all, all & ~i]);
  }
  const directed = undirected.concat(
    undirected
      .slice()
      .reverse()
      .map(([a, b]) => [b, a] as [number, number]),
  );
  return directed.slice(1, -1).map(([from, to]) => ({ from, to }));
}

/**
 * PyPhi `directed_bipartition_of_one`: cuts isolating the inputs or the outputs of one node
 * (`CUT_ONE_APPROXIMATION`), 2k cuts.
 */
export function cutOneCuts(k: number): CutMasks[] {
  const all = (1 << k) - 1;
  const out: CutMasks[] = [];
  for (let i = 0; i < k; i++) out.push({ from: 1 << i, to: all & ~(1 << i) });
  for (let i = 0; i < k; i++) out.push({ from: all & ~(1 << i), to: 1 << i });
  return out;
}

/** Whether the cut severs a connection inside `mechanism` (PyPhi `Cut.splits_mechanism`). */
export function splitsMechanism(cut: CutMasks, mechanism: number): boolean {
  return (mechanism & cut.from) !== 0 && (mechanism & cut.to) !== 0;
}

/** Mechanisms with elements on both sides of the cut (PyPhi `Cut.all_cut_mechanisms`). */
export function cutMechanisms(cut: CutMasks, k: number): number[] {
  const out: number[] = [];
  for (const m of powersetMasks(k)) if (splitsMechanism(cut, m)) out.push(m);
  return out;
}

/** Local bitmask to sorted global node indices. */
export function maskToNodes(mask: number, nodes: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < nodes.length; i++) if ((mask >> i) & 1) out.push(nodes[i]!);
  return out;
}

/** Sorted global node indices to a local bitmask. Throws if a node is not in `nodes`. */
export function nodesToMask(list: readonly number[], nodes: readonly number[]): number {
  let m = 0;
  for (const v of list) {
    const i = nodes.indexOf(v);
    if (i < 0) throw new RangeError(`node ${v} is not in the subsystem`);
    m |= 1 << i;
  }
  return m;
}

/** Index of the highest set bit (the last element of the sorted mechanism tuple). */
export function highestBit(mask: number): number {
  return 31 - Math.clz32(mask);
}

export { popcount };
