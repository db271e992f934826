/**
 * Cause and effect repertoires of a subsystem, optionally under a unidirectional cut.
 *
 * Source: Oizumi et al. 2014 (IIT 3.0), Text S2 "cause repertoire / effect repertoire"; PyPhi 1.2
 * `Subsystem.cause_repertoire`, `effect_repertoire`, `_single_node_*_repertoire`, `node.Node`
 * (node TPMs marginalised over non-inputs), `tpm.marginalize_out`, `distribution.normalize`.
 *
 * - Cause: for mechanism M in its current state and purview P, the product over m in M of
 *   P(m = s_m | x_P) (each node's TPM averaged over its inputs outside P), normalised over x_P.
 *   Empty mechanism gives the uniform distribution; empty purview gives [1].
 * - Effect: product over p in P of P(p | M = s_M), each node's TPM conditioned on its inputs in M
 *   and averaged over its other inputs. Effect repertoires are product distributions, so they are
 *   kept as the vector of P(p ON) values; the full joint is only built for output.
 *
 * Repertoires over a purview P are Float64Arrays of length 2^|P| in little-endian order over the
 * sorted purview (bit j = j-th purview node), i.e. PyPhi's `flatten` (Fortran order) layout.
 *
 * All tables are per subsystem (and cut) and memoised, as PyPhi caches repertoires per subsystem.
 */

import type { CutMasks } from './partition.js';
import type { PreparedNetwork } from './tpm.js';
import { conditionTpm, popcount } from './tpm.js';

/** Per (k, mask): for each local state x, the index of x restricted to mask (compressed bits). */
const compressCache = new Map<number, Int32Array>();
export function compressTable(k: number, mask: number): Int32Array {
  const key = (k << 16) | mask;
  let t = compressCache.get(key);
  if (t) return t;
  const S = 1 << k;
  t = new Int32Array(S);
  for (let x = 0; x < S; x++) {
    let c = 0;
    let o = 0;
    for (let i = 0; i < k; i++) {
      if ((mask >> i) & 1) {
        if ((x >> i) & 1) c |= 1 << o;
        o++;
      }
    }
    t[x] = c;
  }
  compressCache.set(key, t);
  return t;
}

/**
 * Subsystem context: node tables after conditioning on external nodes and applying the cut,
 * with memoised repertoires. Mechanisms and purviews are local bitmasks.
 */
export class SubsystemContext {
  readonly net: PreparedNetwork;
  /** Sorted global indices of the subsystem's nodes. */
  readonly nodes: readonly number[];
  readonly k: number;
  readonly S: number;
  readonly cut: CutMasks | null;
  /** Local state of the subsystem (bit i = state of nodes[i]). */
  readonly localState: number;
  /** inputs[j]: local mask of j's inputs inside the subsystem, after the cut. */
  readonly inputs: Int32Array;
  /** Local connectivity after the cut: cmLocal[i * k + j] = 1 if i -> j. */
  readonly cmLocal: Uint8Array;
  /** Local connectivity of the network (no cut). */
  readonly cmUncut: Uint8Array;
  /** on[j * S + x]: P(node j ON | local state x), averaged over j's non-inputs. */
  readonly on: Float64Array;
  /** The conditioned TPM (local indexing) before any marginalisation. */
  readonly conditioned: Float64Array;

  private readonly causeMemo = new Map<number, Float64Array>();
  private readonly singleCauseMemo = new Map<number, Float64Array>();
  /** effectOn[j * S + M]: P(j ON | mechanism M in its state), NaN until computed. */
  private readonly effectOn: Float64Array;

  constructor(
    net: PreparedNetwork,
    nodes: readonly number[],
    cut: CutMasks | null,
    conditioned?: Float64Array,
  ) {
    this.net = net;
    this.nodes = nodes;
    const k = nodes.length;
    this.k = k;
    const S = 1 << k;
    this.S = S;
    this.cut = cut;
    let ls = 0;
    for (let i = 0; i < k; i++) if (net.state[nodes[i]!]) ls |= 1 << i;
    this.localState = ls;
    const n = net.size;
    this.cmUncut = new Uint8Array(k * k);
    this.cmLocal = new Uint8Array(k * k);
    this.inputs = new Int32Array(k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const e = net.cm[nodes[i]! * n + nodes[j]!]!;
        this.cmUncut[i * k + j] = e;
        const severed = cut !== null && (cut.from >> i) & 1 && (cut.to >> j) & 1;
        if (e && !severed) {
          this.cmLocal[i * k + j] = 1;
          this.inputs[j] = this.inputs[j]! | (1 << i);
        }
      }
    }
    this.conditioned = conditioned ?? conditionTpm(net, nodes);
    this.on = new Float64Array(k * S);
    for (let j = 0; j < k; j++) {
      const inp = this.inputs[j]!;
      const nonInputs = (S - 1) & ~inp;
      const count = 1 << popcount(nonInputs);
      // Average over non-inputs: group states by their projection on the inputs.
      const proj = compressTable(k, inp);
      const sums = new Float64Array(1 << popcount(inp));
      for (let x = 0; x < S; x++) sums[proj[x]!] = sums[proj[x]!]! + this.conditioned[x * k + j]!;
      for (let x = 0; x < S; x++) this.on[j * S + x] = sums[proj[x]!]! / count;
    }
    this.effectOn = new Float64Array(k * S).fill(Number.NaN);
  }

  /**
   * P(m = s_m | x_P) for node m as a table over the purview states (PyPhi
   * `_single_node_cause_repertoire`, broadcast over the purview).
   */
  private singleCause(m: number, purview: number): Float64Array {
    const key = m * this.S + purview;
    let t = this.singleCauseMemo.get(key);
    if (t) return t;
    const { k, S } = this;
    const stateOn = (this.localState >> m) & 1;
    const proj = compressTable(k, purview);
    const size = 1 << popcount(purview);
    t = new Float64Array(size);
    const base = m * S;
    for (let x = 0; x < S; x++) {
      const p = this.on[base + x]!;
      t[proj[x]!] = t[proj[x]!]! + (stateOn ? p : 1 - p);
    }
    const count = S / size;
    for (let i = 0; i < size; i++) t[i] = t[i]! / count;
    this.singleCauseMemo.set(key, t);
    return t;
  }

  /** Cause repertoire of `mechanism` over `purview` (PyPhi `Subsystem.cause_repertoire`). */
  causeRepertoire(mechanism: number, purview: number): Float64Array {
    const key = mechanism * this.S + purview;
    let r = this.causeMemo.get(key);
    if (r) return r;
    const size = 1 << popcount(purview);
    r = new Float64Array(size);
    if (purview === 0) {
      r[0] = 1;
    } else if (mechanism === 0) {
      r.fill(1 / size);
    } else {
      r.fill(1);
      for (let m = 0; m < this.k; m++) {
        if (!((mechanism >> m) & 1)) continue;
        const t = this.singleCause(m, purview);
        for (let i = 0; i < size; i++) r[i] = r[i]! * t[i]!;
      }
      let sum = 0;
      for (let i = 0; i < size; i++) sum += r[i]!;
      if (sum !== 0) for (let i = 0; i < size; i++) r[i] = r[i]! / sum;
    }
    this.causeMemo.set(key, r);
    return r;
  }

  /**
   * P(node j ON | mechanism in its current state), averaging over the other inputs
   * (PyPhi `_single_node_effect_repertoire`). Mechanism 0 gives the unconstrained probability.
   */
  effectOnProb(j: number, mechanism: number): number {
    const idx = j * this.S + mechanism;
    const cached = this.effectOn[idx]!;
    if (!Number.isNaN(cached)) return cached;
    const { S } = this;
    const m = mechanism & this.inputs[j]!;
    const fixed = this.localState & m;
    let sum = 0;
    let count = 0;
    const base = j * S;
    for (let x = 0; x < S; x++) {
      if ((x & m) !== fixed) continue;
      sum += this.on[base + x]!;
      count++;
    }
    const v = sum / count;
    // Every mechanism with the same inputs-intersection has the same value.
    this.effectOn[idx] = v;
    return v;
  }

  /** Effect repertoire as a joint distribution over the purview (for output). */
  effectRepertoire(mechanism: number, purview: number): Float64Array {
    const size = 1 << popcount(purview);
    const r = new Float64Array(size).fill(1);
    let o = 0;
    for (let j = 0; j < this.k; j++) {
      if (!((purview >> j) & 1)) continue;
      const q = this.effectOnProb(j, mechanism);
      for (let i = 0; i < size; i++) r[i] = r[i]! * ((i >> o) & 1 ? q : 1 - q);
      o++;
    }
    return r;
  }

  /** Whether the cut severs any connection from nodes in `a` to nodes in `b`. */
  cutSevers(a: number, b: number): boolean {
    const c = this.cut;
    if (c === null) return false;
    const from = a & c.from;
    const to = b & c.to;
    if (from === 0 || to === 0) return false;
    const k = this.k;
    for (let i = 0; i < k; i++) {
      if (!((from >> i) & 1)) continue;
      for (let j = 0; j < k; j++) if ((to >> j) & 1 && this.cmUncut[i * k + j]) return true;
    }
    return false;
  }
}
