/**
 * A recall's candidate slot: one SharedArrayBuffer holding what the recall sends to its scan and
 * full-text query (both query vectors) and what they write back (vector rows and scores per
 * partition, full-text seqs), so a pool task carries a few numbers and buffer handles instead of
 * cloned arrays, and its results cost the event loop no deserialised objects. Slots are reused:
 * the memory system keeps the free ones.
 *
 * Layout: counts (int32 × 8: vector hits per partition 0..MAX_PARTS-1, then full-text hits),
 * projected query (float32 × dims), full query (float32 × sourceDims), vector scores
 * (float64 × parts × k), vector rows (int32 × parts × k), full-text seqs (float64 × textLimit).
 */

/** Partitions a slot has room for (a scan is split over at most this many pool tasks). */
export const MAX_PARTS = 7;
const TEXT_COUNT = MAX_PARTS;

export interface SlotShape {
  dims: number;
  sourceDims: number;
  /** Partitions. */
  parts: number;
  /** Vector candidates per partition. */
  k: number;
  /** Full-text candidates. */
  textLimit: number;
}

export interface SlotViews {
  counts: Int32Array;
  query: Float32Array;
  scores: Float64Array;
  rows: Int32Array;
  text: Float64Array;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

export function slotViews(buffer: SharedArrayBuffer, s: SlotShape): SlotViews {
  let at = 0;
  const counts = new Int32Array(buffer, at, 8);
  at += 32;
  const query = new Float32Array(buffer, at, s.dims + s.sourceDims);
  at = align8(at + (s.dims + s.sourceDims) * 4);
  const scores = new Float64Array(buffer, at, s.parts * s.k);
  at += s.parts * s.k * 8;
  const rows = new Int32Array(buffer, at, s.parts * s.k);
  at = align8(at + s.parts * s.k * 4);
  const text = new Float64Array(buffer, at, s.textLimit);
  return { counts, query, scores, rows, text };
}

export function slotBytes(s: SlotShape): number {
  return (
    32 + align8((s.dims + s.sourceDims) * 4) + s.parts * s.k * 8 + align8(s.parts * s.k * 4) + s.textLimit * 8
  );
}

let nextSlotId = 1;

export class CandidateSlot implements SlotViews {
  /** Unique in the process: workers keep their views of a slot under it. */
  readonly id = nextSlotId++;
  readonly buffer: SharedArrayBuffer;
  readonly shape: SlotShape;
  readonly counts: Int32Array;
  readonly query: Float32Array;
  readonly scores: Float64Array;
  readonly rows: Int32Array;
  readonly text: Float64Array;
  /** Partitions the current search was split in. */
  parts = 1;

  constructor(shape: SlotShape) {
    this.shape = shape;
    this.buffer = new SharedArrayBuffer(slotBytes(shape));
    const v = slotViews(this.buffer, shape);
    this.counts = v.counts;
    this.query = v.query;
    this.scores = v.scores;
    this.rows = v.rows;
    this.text = v.text;
  }

  /** Vector hits written by partition `p`. */
  vectorCount(p: number): number {
    return this.counts[p] as number;
  }

  get textCount(): number {
    return this.counts[TEXT_COUNT] as number;
  }

  set textCount(n: number) {
    this.counts[TEXT_COUNT] = n;
  }
}

export const SLOT_TEXT_COUNT = TEXT_COUNT;
