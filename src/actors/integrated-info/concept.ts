/**
 * Mechanism-level integration: small phi, minimum-information partitions, maximally irreducible
 * causes/effects (MICE) and concepts.
 *
 * Source: Oizumi et al. 2014 (IIT 3.0), Text S2 "Integrated information phi" and "Concepts";
 * PyPhi 1.2 `Subsystem.find_mip`, `find_mice`, `potential_purviews`, `concept`,
 * `network.irreducible_purviews`, `connectivity.block_reducible` / `block_cm`,
 * `partition.mip_bipartitions`, `models.mechanism` ordering, `cache.DictMICECache`.
 *
 * Matches PyPhi's defaults: `PARTITION_TYPE = 'BI'`, `MEASURE = 'EMD'` (Hamming EMD for causes,
 * the exact marginal shortcut for effects), `PICK_SMALLEST_PURVIEW = False`, `PRECISION = 6`.
 *
 * Tie-breaking as PyPhi: a MICE is the max over purviews (in powerset order) of
 * (phi, |purview|), the first one winning exact ties; phi values are compared after rounding.
 *
 * Exact speed-ups (they never change a result):
 * - the cause MIP is searched with the lower bound EMD >= sum of per-node marginal differences:
 *   partitions whose rounded bound is not below the running minimum are skipped, and a purview is
 *   abandoned once its running minimum shows it cannot beat the best purview so far;
 * - effect repertoires are product distributions, so the effect MIP over all purview bipartitions
 *   decomposes per purview node (min over the two mechanism halves);
 * - under a cut, (mechanism, purview) pairs with no severed connection between them have the same
 *   repertoires as without the cut, so their MIP phi is reused from the uncut subsystem.
 */

import { hammingEmd, pyemdHamming, pyemdTolerance, round6 } from './emd.js';
import { highestBit, powersetMasks } from './partition.js';
import { compressTable, type SubsystemContext } from './repertoire.js';
import { popcount } from './tpm.js';

export type Direction = 'cause' | 'effect';

/** A maximally irreducible cause or effect. `purview` is a local mask (0 when there is none). */
export interface Mice {
  readonly direction: Direction;
  readonly purview: number;
  readonly phi: number;
  /** Cause: joint repertoire over the purview. Effect: P(node ON) per purview node, in order. */
  readonly repertoire: Float64Array;
}

export interface ConceptData {
  readonly mechanism: number;
  readonly phi: number;
  readonly cause: Mice;
  readonly effect: Mice;
}

const NULL_REP = new Float64Array([1]);

function nullMice(direction: Direction): Mice {
  return { direction, purview: 0, phi: 0, repertoire: NULL_REP };
}

/** PyPhi `connectivity.block_cm` on the submatrix rows x cols (given as local masks). */
function blockCm(cm: Uint8Array, k: number, rows: number[], cols: number[]): boolean {
  const R = rows.length;
  const C = cols.length;
  const rowSum = new Int32Array(R);
  for (let a = 0; a < R; a++)
    for (let b = 0; b < C; b++) rowSum[a] = rowSum[a]! + cm[rows[a]! * k + cols[b]!]!;
  let allOne = true;
  let argmax = 0;
  for (let a = 0; a < R; a++) {
    if (rowSum[a] === 0) return true;
    if (rowSum[a] !== 1) allOne = false;
    if (rowSum[a]! > rowSum[argmax]!) argmax = a;
  }
  if (allOne) return true;
  const allCols = (1 << C) - 1;
  const outputsOf = (src: number): number => {
    let out = 0;
    for (let a = 0; a < R; a++) {
      if (!((src >> a) & 1)) continue;
      for (let b = 0; b < C; b++) if (cm[rows[a]! * k + cols[b]!]) out |= 1 << b;
    }
    return out;
  };
  const inputsTo = (snk: number): number => {
    let inp = 0;
    for (let b = 0; b < C; b++) {
      if (!((snk >> b) & 1)) continue;
      for (let a = 0; a < R; a++) if (cm[rows[a]! * k + cols[b]!]) inp |= 1 << a;
    }
    return inp;
  };
  let sources = 1 << argmax;
  let sinks = outputsOf(sources);
  let sinkInputs = inputsTo(sinks);
  for (;;) {
    if (sinkInputs === sources) return true;
    sources = sinkInputs;
    sinks = outputsOf(sources);
    sinkInputs = inputsTo(sinks);
    if (sinks === allCols) return false;
  }
}

/** PyPhi `connectivity.block_reducible(cm, from, to)` for local masks. */
export function blockReducible(cm: Uint8Array, k: number, from: number, to: number): boolean {
  if (from === 0 || to === 0) return true;
  const rows: number[] = [];
  const cols: number[] = [];
  for (let i = 0; i < k; i++) {
    if ((from >> i) & 1) rows.push(i);
    if ((to >> i) & 1) cols.push(i);
  }
  for (const c of cols) {
    let s = 0;
    for (const r of rows) s += cm[r * k + c]!;
    if (s === 0) return true;
  }
  for (const r of rows) {
    let s = 0;
    for (const c of cols) s += cm[r * k + c]!;
    if (s === 0) return true;
  }
  if (rows.length > 1 && cols.length > 1) return blockCm(cm, k, rows, cols);
  return false;
}

/** Memo of exact MIP phi values of an uncut subsystem, shared with its cut versions. */
export class MipMemo {
  readonly cause: Float64Array;
  readonly effect: Float64Array;
  /** MICE of the uncut subsystem with phi > 0, by mechanism (PyPhi's MICE cache). */
  readonly causeMice = new Map<number, Mice>();
  readonly effectMice = new Map<number, Mice>();
  constructor(S: number) {
    this.cause = new Float64Array(S * S).fill(Number.NaN);
    this.effect = new Float64Array(S * S).fill(Number.NaN);
  }
}

/** Per-context helper computing MIPs, MICE and concepts. */
export class ConceptEngine {
  readonly ctx: SubsystemContext;
  /** The uncut subsystem's memo (own memo when this context is uncut). */
  readonly memo: MipMemo;
  readonly isCut: boolean;
  private readonly purviewCache = new Map<number, Int32Array>();
  private readonly margCache = new Map<number, Float64Array>();
  // scratch
  private prod = new Float64Array(0);
  private lbs = new Float64Array(0);

  constructor(ctx: SubsystemContext, parentMemo?: MipMemo) {
    this.ctx = ctx;
    this.isCut = ctx.cut !== null;
    this.memo = parentMemo ?? new MipMemo(ctx.S);
  }

  /** Candidate purviews (PyPhi `Subsystem.potential_purviews`), in powerset order. */
  potentialPurviews(direction: Direction, mechanism: number): Int32Array {
    const key = (direction === 'cause' ? 0 : 1) * this.ctx.S + mechanism;
    let out = this.purviewCache.get(key);
    if (out) return out;
    const { k, cmUncut, cmLocal } = this.ctx;
    const list: number[] = [];
    for (const p of powersetMasks(k)) {
      const [from, to] = direction === 'cause' ? [p, mechanism] : [mechanism, p];
      if (blockReducible(cmUncut, k, from, to)) continue;
      if (this.isCut && blockReducible(cmLocal, k, from, to)) continue;
      list.push(p);
    }
    out = Int32Array.from(list);
    this.purviewCache.set(key, out);
    return out;
  }

  /** P(node OFF) marginals of a cause repertoire, indexed by local node position. */
  private causeMarginals(mechanism: number, purview: number): Float64Array {
    const key = mechanism * this.ctx.S + purview;
    let m = this.margCache.get(key);
    if (m) return m;
    const r = this.ctx.causeRepertoire(mechanism, purview);
    m = new Float64Array(this.ctx.k);
    let o = 0;
    for (let j = 0; j < this.ctx.k; j++) {
      if (!((purview >> j) & 1)) continue;
      let s = 0;
      for (let x = 0; x < r.length; x++) if (!((x >> o) & 1)) s += r[x]!;
      m[j] = s;
      o++;
    }
    this.margCache.set(key, m);
    return m;
  }

  /**
   * Cause MIP phi of (mechanism, purview) (PyPhi `find_mip` with `Direction.CAUSE`).
   * `cannotWin(m)` tells when a running minimum m already rules the purview out; the search then
   * stops and returns -1 (the value is not needed).
   */
  causeMipPhi(mechanism: number, purview: number, cannotWin: ((m: number) => boolean) | null): number {
    const { ctx } = this;
    const unaffected = !this.isCut || !ctx.cutSevers(purview, mechanism);
    const memoIdx = mechanism * ctx.S + purview;
    if (unaffected) {
      const v = this.memo.cause[memoIdx]!;
      if (!Number.isNaN(v)) return v;
    }
    const r = ctx.causeRepertoire(mechanism, purview);
    let allZero = true;
    for (let i = 0; i < r.length; i++) if (r[i] !== 0) allZero = false;
    if (allZero) {
      if (unaffected) this.memo.cause[memoIdx] = 0;
      return 0;
    }
    const kp = popcount(purview);
    const P = 1 << kp;
    const last = highestBit(mechanism);
    const mechRest = mechanism & ~(1 << last);
    const nMechParts = 1 << popcount(mechRest);
    const total = nMechParts * P;
    if (this.lbs.length < total) this.lbs = new Float64Array(total);
    if (this.prod.length < P) this.prod = new Float64Array(P);
    const lbs = this.lbs;
    const mr = this.causeMarginals(mechanism, purview);
    const compP = compressTable(ctx.k, purview);
    // Enumerate (n0, d0): n0 subset of mechanism minus its last node, d0 subset of purview.
    const mechSubs: number[] = [];
    for (let s = mechRest; ; s = (s - 1) & mechRest) {
      mechSubs.push(s);
      if (s === 0) break;
    }
    const purvSubs: number[] = [];
    for (let s = purview; ; s = (s - 1) & purview) {
      purvSubs.push(s);
      if (s === 0) break;
    }
    let argmin = -1;
    let minLb = Number.POSITIVE_INFINITY;
    for (let a = 0; a < mechSubs.length; a++) {
      const n0 = mechSubs[a]!;
      const n1 = mechanism & ~n0;
      for (let b = 0; b < purvSubs.length; b++) {
        const d0 = purvSubs[b]!;
        const idx = a * P + b;
        if (n0 === 0 && d0 === 0) {
          lbs[idx] = Number.POSITIVE_INFINITY;
          continue;
        }
        const d1 = purview & ~d0;
        const m0 = this.causeMarginals(n0, d0);
        const m1 = this.causeMarginals(n1, d1);
        let lb = 0;
        for (let j = 0; j < ctx.k; j++) {
          if (!((purview >> j) & 1)) continue;
          lb += Math.abs(mr[j]! - ((d0 >> j) & 1 ? m0[j]! : m1[j]!));
        }
        lbs[idx] = lb;
        if (lb < minLb) {
          minLb = lb;
          argmin = idx;
        }
      }
    }
    let best = Number.POSITIVE_INFINITY;
    const prod = this.prod;
    // pyemd's integer rounding moves a Hamming EMD by at most `tol` from the exact value, so the
    // exact bounds (marginal sum, total variation, exact EMD) are widened by `tol` before they are
    // compared with the running minimum of emulated pyemd values.
    const tol = pyemdTolerance(kp);
    const evaluate = (idx: number): boolean => {
      const a = Math.floor(idx / P);
      const b = idx % P;
      const n0 = mechSubs[a]!;
      const d0 = purvSubs[b]!;
      const n1 = mechanism & ~n0;
      const d1 = purview & ~d0;
      const r0 = ctx.causeRepertoire(n0, d0);
      const r1 = ctx.causeRepertoire(n1, d1);
      const c0 = compressTable(kp, compP[d0]!);
      const c1 = compressTable(kp, compP[d1]!);
      let tv = 0;
      for (let x = 0; x < P; x++) {
        const v = r0[c0[x]!]! * r1[c1[x]!]!;
        prod[x] = v;
        tv += Math.abs(r[x]! - v);
      }
      if (round6(Math.max(tv / 2, lbs[idx]!) - tol) >= best) return false;
      const part = prod.subarray(0, P);
      const exact = hammingEmd(r, part, kp);
      if (round6(exact - tol) >= best) return false;
      if (cannotWin?.(round6(exact + tol))) {
        best = Number.NaN;
        return true;
      }
      const e = round6(pyemdHamming(r, part, kp));
      if (e < best) best = e;
      return best === 0 || cannotWin?.(best) === true;
    };
    let stopped = false;
    if (argmin >= 0) stopped = evaluate(argmin);
    if (!stopped) {
      for (let idx = 0; idx < total; idx++) {
        if (idx === argmin) continue;
        const lb = lbs[idx]!;
        if (lb === Number.POSITIVE_INFINITY || round6(lb - tol) >= best) continue;
        if (evaluate(idx)) {
          stopped = true;
          break;
        }
      }
    }
    if (best === 0) {
      if (unaffected) this.memo.cause[memoIdx] = 0;
      return 0;
    }
    if (stopped) return -1;
    if (unaffected) this.memo.cause[memoIdx] = best;
    return best;
  }

  /** Effect MIP phi (PyPhi `find_mip` with `Direction.EFFECT`, `effect_emd`), decomposed per node. */
  effectMipPhi(mechanism: number, purview: number): number {
    const { ctx } = this;
    const unaffected = !this.isCut || !ctx.cutSevers(mechanism, purview);
    const memoIdx = mechanism * ctx.S + purview;
    if (unaffected) {
      const v = this.memo.effect[memoIdx]!;
      if (!Number.isNaN(v)) return v;
    }
    const last = highestBit(mechanism);
    const mechRest = mechanism & ~(1 << last);
    let best = Number.POSITIVE_INFINITY;
    for (let n0 = mechRest; ; n0 = (n0 - 1) & mechRest) {
      const n1 = mechanism & ~n0;
      let val = 0;
      if (n0 === 0) {
        // d0 must be non-empty: one purview node unconstrained, the rest intact.
        val = Number.POSITIVE_INFINITY;
        for (let j = 0; j < ctx.k; j++) {
          if (!((purview >> j) & 1)) continue;
          const d = Math.abs(ctx.effectOnProb(j, mechanism) - ctx.effectOnProb(j, 0));
          if (d < val) val = d;
        }
      } else {
        for (let j = 0; j < ctx.k; j++) {
          if (!((purview >> j) & 1)) continue;
          const q = ctx.effectOnProb(j, mechanism);
          const a = Math.abs(q - ctx.effectOnProb(j, n0));
          const b = Math.abs(q - ctx.effectOnProb(j, n1));
          val += Math.min(a, b);
        }
      }
      if (val < best) best = val;
      if (n0 === 0) break;
    }
    const phi = round6(best);
    if (unaffected) this.memo.effect[memoIdx] = phi;
    return phi;
  }

  /** PyPhi `Subsystem.find_mice` (without the MICE cache). */
  findMice(direction: Direction, mechanism: number): Mice {
    const purviews = this.potentialPurviews(direction, mechanism);
    if (purviews.length === 0) return nullMice(direction);
    let bestPhi = -1;
    let bestPurview = 0;
    let bestSize = -1;
    for (let i = 0; i < purviews.length; i++) {
      const p = purviews[i]!;
      const size = popcount(p);
      let phi: number;
      if (direction === 'effect') {
        phi = this.effectMipPhi(mechanism, p);
      } else {
        const bPhi = bestPhi;
        const sameSize = size === bestSize;
        const cannotWin = bestSize < 0 ? null : (m: number) => m < bPhi || (m === bPhi && sameSize);
        phi = this.causeMipPhi(mechanism, p, cannotWin);
        if (phi < 0) continue;
      }
      // Purviews come in powerset order, so size >= bestSize: larger wins ties, first otherwise.
      if (phi > bestPhi || (phi === bestPhi && size > bestSize)) {
        bestPhi = phi;
        bestPurview = p;
        bestSize = size;
      }
    }
    const repertoire =
      direction === 'cause'
        ? this.ctx.causeRepertoire(mechanism, bestPurview)
        : this.effectQ(mechanism, bestPurview);
    return { direction, purview: bestPurview, phi: bestPhi, repertoire };
  }

  /** P(node ON | mechanism) for each purview node, in order. */
  effectQ(mechanism: number, purview: number): Float64Array {
    const out = new Float64Array(popcount(purview));
    let o = 0;
    for (let j = 0; j < this.ctx.k; j++)
      if ((purview >> j) & 1) out[o++] = this.ctx.effectOnProb(j, mechanism);
    return out;
  }

  /**
   * The MICE as PyPhi's cached `find_mice` returns it: in a cut subsystem, the uncut MICE is
   * reused when it has phi > 0 and the cut damages neither its mechanism nor the connections
   * between purview and mechanism (PyPhi `DictMICECache`, `MICE.damaged_by_cut`).
   */
  mice(direction: Direction, mechanism: number): Mice {
    const store = direction === 'cause' ? this.memo.causeMice : this.memo.effectMice;
    if (this.isCut) {
      const parent = store.get(mechanism);
      if (parent !== undefined) {
        const cut = this.ctx.cut!;
        const splits = (mechanism & cut.from) !== 0 && (mechanism & cut.to) !== 0;
        const [from, to] = direction === 'cause' ? [parent.purview, mechanism] : [mechanism, parent.purview];
        const damaged = splits || ((from & cut.from) !== 0 && (to & cut.to) !== 0);
        if (!damaged) return parent;
      }
      return this.findMice(direction, mechanism);
    }
    const cached = store.get(mechanism);
    if (cached) return cached;
    const m = this.findMice(direction, mechanism);
    if (m.phi > 0) store.set(mechanism, m);
    return m;
  }

  /**
   * The concept of a mechanism (PyPhi `Subsystem.concept`). With `full = false` the cause side is
   * skipped when the effect side is already reducible (the concept then has phi 0 and is not part
   * of any cause-effect structure); the returned cause is then a null MICE.
   */
  concept(mechanism: number, full = true): ConceptData {
    const effect = this.mice('effect', mechanism);
    if (!full && effect.phi === 0) {
      return { mechanism, phi: 0, cause: nullMice('cause'), effect };
    }
    const cause = this.mice('cause', mechanism);
    return { mechanism, phi: Math.min(cause.phi, effect.phi), cause, effect };
  }
}
