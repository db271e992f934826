/**
 * Cause-effect structures and the distance between them.
 *
 * Source: Oizumi et al. 2014 (IIT 3.0), Text S2 "Conceptual structure" and "Integrated conceptual
 * information Phi" (extended EMD); PyPhi 1.2 `compute/subsystem.py` `ces`,
 * `compute/distance.py` `concept_distance`, `ces_distance`, `_ces_distance_simple`,
 * `_ces_distance_emd`, `Concept.emd_eq`, `Subsystem.expand_repertoire`, and pyemd 0.5
 * `emd_hat_gd_metric` (which first cancels the mass common to both histograms, so a negative
 * null-concept entry becomes a supply at the null concept).
 *
 * Concept distance = Hamming EMD between the cause repertoires expanded to the union of both
 * purviews (uniform over the added nodes) + the same for effect repertoires (expanded with the
 * unconstrained effect repertoire). Expanded effect repertoires are product distributions, for
 * which the Hamming EMD is exactly the sum of per-node marginal differences.
 */

import type { ConceptData } from './concept.js';
import { pyemd, pyemdHamming, round6 } from './emd.js';
import type { SubsystemContext } from './repertoire.js';
import { popcount } from './tpm.js';

/** PyPhi `_concept_sort_key`: by mechanism size, then the mechanism tuple. */
export function mechanismOrder(a: number, b: number): number {
  const d = popcount(a) - popcount(b);
  if (d !== 0) return d;
  // Same size: compare sorted index tuples lexicographically.
  for (let i = 0; i < 32; i++) {
    const ba = (a >> i) & 1;
    const bb = (b >> i) & 1;
    if (ba !== bb) return ba ? -1 : 1;
  }
  return 0;
}

const ONE = new Float64Array([1]);

function arraysEqual(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** PyPhi `Concept.emd_eq`: same phi, mechanism and (bitwise) repertoires. */
export function emdEq(a: ConceptData, b: ConceptData): boolean {
  return (
    a.phi === b.phi &&
    a.mechanism === b.mechanism &&
    a.cause.purview === b.cause.purview &&
    a.effect.purview === b.effect.purview &&
    arraysEqual(a.cause.repertoire, b.cause.repertoire) &&
    arraysEqual(a.effect.repertoire, b.effect.repertoire)
  );
}

/** Expand a cause repertoire over `purview` to `union` (uniform over the new nodes), normalised. */
function expandCause(rep: Float64Array, purview: number, union: number, k: number, out: Float64Array): void {
  const ku = popcount(union);
  const size = 1 << ku;
  // Local bit positions of `purview` inside `union`.
  const pos: number[] = [];
  let o = 0;
  for (let j = 0; j < k; j++) {
    if (!((union >> j) & 1)) continue;
    if ((purview >> j) & 1) pos.push(o);
    o++;
  }
  const scale = 1 / (1 << (ku - pos.length));
  let sum = 0;
  for (let x = 0; x < size; x++) {
    let c = 0;
    for (let t = 0; t < pos.length; t++) if ((x >> pos[t]!) & 1) c |= 1 << t;
    const v = rep[c]! * scale;
    out[x] = v;
    sum += v;
  }
  if (sum !== 0) for (let x = 0; x < size; x++) out[x] = out[x]! / sum;
}

/** Distance computations for the concepts of one subsystem (and its cut versions). */
export class ConceptSpace {
  readonly k: number;
  /** Unconstrained P(node ON) per local node (identical with and without a cut). */
  readonly ucOn: Float64Array;
  private bufA = new Float64Array(0);
  private bufB = new Float64Array(0);
  private readonly nullDist = new WeakMap<ConceptData, number>();

  constructor(ctx: SubsystemContext) {
    this.k = ctx.k;
    this.ucOn = new Float64Array(ctx.k);
    for (let j = 0; j < ctx.k; j++) this.ucOn[j] = ctx.effectOnProb(j, 0);
  }

  /**
   * Expanded effect repertoire over `union` (PyPhi `expand_effect_repertoire`): the product of the
   * per-node distributions, unconstrained outside the concept's purview, normalised.
   */
  private expandEffect(c: ConceptData | null, union: number, out: Float64Array): void {
    const ku = popcount(union);
    const size = 1 << ku;
    const purview = c?.effect.purview ?? 0;
    // Concept part, then the unconstrained part, multiplied as PyPhi does.
    out.fill(1, 0, size);
    let o = 0;
    let oc = 0;
    for (let j = 0; j < this.k; j++) {
      if (!((union >> j) & 1)) continue;
      if ((purview >> j) & 1) {
        const q = c!.effect.repertoire[oc++]!;
        for (let x = 0; x < size; x++) out[x] = out[x]! * ((x >> o) & 1 ? q : 1 - q);
      }
      o++;
    }
    o = 0;
    for (let j = 0; j < this.k; j++) {
      if (!((union >> j) & 1)) continue;
      if (!((purview >> j) & 1)) {
        const q = this.ucOn[j]!;
        for (let x = 0; x < size; x++) out[x] = out[x]! * ((x >> o) & 1 ? q : 1 - q);
      }
      o++;
    }
    let sum = 0;
    for (let x = 0; x < size; x++) sum += out[x]!;
    if (sum !== 0) for (let x = 0; x < size; x++) out[x] = out[x]! / sum;
  }

  private buffers(size: number): [Float64Array, Float64Array] {
    if (this.bufA.length < size) {
      this.bufA = new Float64Array(size);
      this.bufB = new Float64Array(size);
    }
    return [this.bufA.subarray(0, size), this.bufB.subarray(0, size)];
  }

  private effectDistance(a: ConceptData | null, b: ConceptData | null): number {
    const union = (a?.effect.purview ?? 0) | (b?.effect.purview ?? 0);
    const ku = popcount(union);
    const [A, B] = this.buffers(1 << ku);
    this.expandEffect(a, union, A);
    this.expandEffect(b, union, B);
    return pyemdHamming(A, B, ku);
  }

  private causeDistance(a: ConceptData | null, b: ConceptData | null): number {
    const pa = a?.cause.purview ?? 0;
    const pb = b?.cause.purview ?? 0;
    const union = pa | pb;
    const ku = popcount(union);
    const [A, B] = this.buffers(1 << ku);
    expandCause(a ? a.cause.repertoire : ONE, pa, union, this.k, A);
    expandCause(b ? b.cause.repertoire : ONE, pb, union, this.k, B);
    return pyemdHamming(A, B, ku);
  }

  /** PyPhi `concept_distance`. `null` stands for the null concept. */
  conceptDistance(a: ConceptData | null, b: ConceptData | null): number {
    return this.causeDistance(a, b) + this.effectDistance(a, b);
  }

  distanceToNull(c: ConceptData): number {
    let d = this.nullDist.get(c);
    if (d === undefined) {
      d = this.conceptDistance(c, null);
      this.nullDist.set(c, d);
    }
    return d;
  }

  /** PyPhi `ces_distance` (rounded to 6 places). */
  cesDistance(C1: readonly ConceptData[], C2: readonly ConceptData[]): number {
    const only1 = C1.filter((c1) => !C2.some((c2) => emdEq(c1, c2)));
    const only2 = C2.filter((c2) => !C1.some((c1) => emdEq(c2, c1)));
    let dist: number;
    if (only1.length === 0 || only2.length === 0) {
      // _ces_distance_simple: the bigger structure's concepts missing from the other go to null.
      let big = C1;
      let small = C2;
      if (C2.length > C1.length) {
        big = C2;
        small = C1;
      }
      dist = 0;
      for (const c of big) {
        if (small.some((s) => emdEq(c, s))) continue;
        dist += c.phi * this.distanceToNull(c);
      }
    } else {
      dist = this.extendedEmd(only1, only2);
    }
    return round6(dist);
  }

  /** PyPhi `_ces_distance_emd`: the extended EMD, computed through pyemd as PyPhi does. */
  private extendedEmd(u1: readonly ConceptData[], u2: readonly ConceptData[]): number {
    const N = u1.length;
    const M = u2.length;
    const L = N + M + 1;
    const D = new Float64Array(N * M);
    let maxD = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < M; j++) {
        const d = this.conceptDistance(u1[i]!, u2[j]!);
        D[i * M + j] = d;
        if (d > maxD) maxD = d;
      }
    }
    const toNull = [...u1, ...u2].map((c) => this.distanceToNull(c));
    const matrix = new Float64Array(L * L).fill(maxD + 1);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < M; j++) {
        matrix[i * L + N + j] = D[i * M + j]!;
        matrix[(N + j) * L + i] = D[i * M + j]!;
      }
    }
    for (let i = 0; i < N + M; i++) {
      matrix[(L - 1) * L + i] = toNull[i]!;
      matrix[i * L + L - 1] = toNull[i]!;
    }
    matrix[L * L - 1] = 0;
    const d1 = new Float64Array(L);
    const d2 = new Float64Array(L);
    for (let i = 0; i < N; i++) d1[i] = u1[i]!.phi;
    for (let j = 0; j < M; j++) d2[N + j] = u2[j]!.phi;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < L; i++) s1 += d1[i]!;
    for (let i = 0; i < L; i++) s2 += d2[i]!;
    d2[L - 1] = s1 - s2;
    return pyemd(d1, d2, matrix);
  }
}
