/**
 * The in-memory vector index of the memory system: brute-force cosine search in two stages.
 *
 * 1. Coarse: every stored embedding is projected to `PROJECTED_DIMS` dimensions with a seeded sparse
 *    random projection (Achlioptas, "Database-friendly random projections", PODS 2001: entries
 *    +√3, 0, −√3 with probabilities 1/6, 2/3, 1/6), which preserves inner products up to a small
 *    distortion (Johnson–Lindenstrauss). The projections live in SharedArrayBuffers, so worker
 *    threads scan partitions of them without copying; filters (entity, layers, expiry) are applied
 *    during the scan.
 * 2. Re-score: the best candidates are re-scored with their full embeddings, held as int8 with a
 *    per-row scale (symmetric linear quantisation; the cosine error is under 1 % at these sizes), so
 *    the whole search runs on the shared buffers — in a worker for large indexes — and never touches
 *    SQLite.
 *
 * Rows of one entity are also listed, in row order, in a shared Int32Array per entity, so a recall
 * for one entity (the usual case) visits only that entity's rows instead of filtering every row:
 * at 100 000 memories over 20 entities that is 5 000 rows, cheap enough for the event loop, and
 * the pool is left for full-text queries and scans of large entities or of every entity.
 *
 * Memory per row: 64 × 4 bytes of projection, one byte per source dimension, and 21 bytes of
 * metadata and entity list (about 630 bytes for the built-in 356-dimension embedder: 100 000
 * memories take about 63 MB). Only the memory actor writes; scanners read up to
 * the row count they were given, so appends never disturb a scan in flight. A removed row is marked
 * with the `DELETED` layer code.
 */

import { mulberry32 } from '../../runtime/random.js';
import { LAYERS, type Layer } from './types.js';

export const PROJECTED_DIMS = 64;
export const DELETED = 255;
export const ANY_ENTITY = -2;
export const NO_ENTITY = -1;

export const LAYER_CODE: Readonly<Record<Layer, number>> = Object.freeze(
  Object.fromEntries(LAYERS.map((l, i) => [l, i])) as Record<Layer, number>,
);

export function layerMask(layers: readonly Layer[] | undefined): number {
  if (layers === undefined || layers.length === 0) return (1 << LAYERS.length) - 1;
  let mask = 0;
  for (const l of layers) mask |= 1 << LAYER_CODE[l];
  return mask;
}

let nextBufferId = 1;

/**
 * The index's one shared buffer and its layout. Structured-clone friendly: a SharedArrayBuffer is
 * shared, not copied, and `id` (unique in the process) lets a worker keep its views of a buffer it
 * has seen instead of building them again for every task.
 *
 * Layout for capacity c (each region aligned for its element type): expiries (float64 × c),
 * projections (float32 × c × dims), scales (float32 × c), entities (int32 × c), full vectors
 * (int8 × c × sourceDims), layers (uint8 × c).
 */
export interface IndexBuffers {
  id: number;
  buffer: SharedArrayBuffer;
  capacity: number;
  dims: number;
  sourceDims: number;
}

/** Typed views of an index buffer. */
export interface IndexViews {
  id: number;
  dims: number;
  sourceDims: number;
  expires: Float64Array;
  proj: Float32Array;
  scales: Float32Array;
  entities: Int32Array;
  full: Int8Array;
  layers: Uint8Array;
}

function indexBytes(capacity: number, dims: number, sourceDims: number): number {
  return capacity * (8 + dims * 4 + 4 + 4 + sourceDims + 1);
}

function allocateIndex(capacity: number, dims: number, sourceDims: number): IndexBuffers {
  return {
    id: nextBufferId++,
    buffer: new SharedArrayBuffer(indexBytes(capacity, dims, sourceDims)),
    capacity,
    dims,
    sourceDims,
  };
}

export function indexViews(b: IndexBuffers): IndexViews {
  const c = b.capacity;
  let at = 0;
  const expires = new Float64Array(b.buffer, at, c);
  at += c * 8;
  const proj = new Float32Array(b.buffer, at, c * b.dims);
  at += c * b.dims * 4;
  const scales = new Float32Array(b.buffer, at, c);
  at += c * 4;
  const entities = new Int32Array(b.buffer, at, c);
  at += c * 4;
  const full = new Int8Array(b.buffer, at, c * b.sourceDims);
  at += c * b.sourceDims;
  const layers = new Uint8Array(b.buffer, at, c);
  return { id: b.id, dims: b.dims, sourceDims: b.sourceDims, expires, proj, scales, entities, full, layers };
}

export interface ScanFilter {
  /** Interned entity code, ANY_ENTITY for all. */
  entity: number;
  /** Bit per layer code. */
  layerMask: number;
  /** Rows with expiry at or before this time are skipped. */
  now: number;
}

export interface ScanResult {
  rows: number[];
  scores: number[];
}

/**
 * The rows a scan visits: `[start, end)` of the index, or, with `list`, the rows at positions
 * `[start, end)` of that list (an entity's rows, ascending; see `VectorIndex.rowsOf`).
 */
export interface ScanRange {
  list: Int32Array | null;
  start: number;
  end: number;
}

/** Scratch for the coarse stage, reused by every search on a thread (searches are synchronous). */
let coarseScore = new Float64Array(256);
let coarseRow = new Int32Array(256);

/**
 * The search, writing into `outRows`/`outScores` from `outAt`: coarse top-`coarseK` rows by
 * projected inner product (`query`, `dims` floats from `queryAt`), then re-scored with the int8 full
 * vectors against `fullQuery` (from `fullAt`); the best `k` by the re-scored cosine, best first
 * (ties in coarse order). Returns how many were written. Allocates nothing once its scratch is large
 * enough, so it runs on the event loop and in workers alike without feeding the collector.
 */
export function searchInto(
  v: IndexViews,
  query: Float32Array,
  queryAt: number,
  fullQuery: Float32Array,
  fullAt: number,
  filter: ScanFilter,
  range: ScanRange,
  coarseK: number,
  k: number,
  outRows: Int32Array,
  outScores: Float64Array,
  outAt: number,
): number {
  if (coarseScore.length < coarseK) {
    coarseScore = new Float64Array(coarseK);
    coarseRow = new Int32Array(coarseK);
  }
  const size = scanInto(v, query, queryAt, filter, range, coarseK, coarseScore, coarseRow);
  const n = v.sourceDims;
  const full = v.full;
  const scales = v.scales;
  let kept = 0;
  for (let c = 0; c < size; c++) {
    const row = coarseRow[c] as number;
    const base = row * n;
    let dot = 0;
    for (let d = 0; d < n; d++) dot += (full[base + d] as number) * (fullQuery[fullAt + d] as number);
    const score = dot * (scales[row] as number);
    // Stable insertion into the best k (a later candidate goes after equal scores).
    if (kept === k && score <= (outScores[outAt + k - 1] as number)) continue;
    let i = kept < k ? kept++ : k - 1;
    while (i > 0 && (outScores[outAt + i - 1] as number) < score) {
      outScores[outAt + i] = outScores[outAt + i - 1] as number;
      outRows[outAt + i] = outRows[outAt + i - 1] as number;
      i--;
    }
    outScores[outAt + i] = score;
    outRows[outAt + i] = row;
  }
  return kept;
}

/** `searchInto` returning plain arrays (tests, tools). */
export function searchIndex(
  v: IndexViews,
  query: Float32Array,
  fullQuery: Float32Array,
  filter: ScanFilter,
  range: ScanRange,
  coarseK: number,
  k: number,
): ScanResult {
  const rows = new Int32Array(k);
  const scores = new Float64Array(k);
  const n = searchInto(v, query, 0, fullQuery, 0, filter, range, coarseK, k, rows, scores, 0);
  return { rows: Array.from(rows.subarray(0, n)), scores: Array.from(scores.subarray(0, n)) };
}

/**
 * Top-k rows of `range` by inner product with `query`, among rows passing `filter`, into
 * `outScore`/`outRow` sorted best first (ties by heap position). A small binary min-heap of the best
 * k keeps the scan at one pass with O(log k) work per accepted row. Rows are visited in ascending
 * order either way, so a list scan and a full scan agree. Returns how many rows were found.
 */
export function scanInto(
  v: IndexViews,
  query: Float32Array,
  queryAt: number,
  filter: ScanFilter,
  range: ScanRange,
  k: number,
  heapScore: Float64Array,
  heapRow: Int32Array,
): number {
  const list = range.list;
  const start = range.start;
  const end = range.end;
  const dims = v.dims;
  const proj = v.proj;
  const layers = v.layers;
  const entities = v.entities;
  const expires = v.expires;
  let size = 0;
  const mask = filter.layerMask;
  const entity = filter.entity;
  const now = filter.now;
  for (let i = start; i < end; i++) {
    const row = list === null ? i : (list[i] as number);
    const layer = layers[row] as number;
    if (layer === DELETED || ((mask >> layer) & 1) === 0) continue;
    if (entity !== ANY_ENTITY && entities[row] !== entity) continue;
    const exp = expires[row] as number;
    if (exp > 0 && exp <= now) continue;
    // Four partial sums: fewer loop tests and a shorter dependency chain (dims is a multiple of 4).
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    const base = row * dims;
    for (let d = 0; d < dims; d += 4) {
      d0 += (proj[base + d] as number) * (query[queryAt + d] as number);
      d1 += (proj[base + d + 1] as number) * (query[queryAt + d + 1] as number);
      d2 += (proj[base + d + 2] as number) * (query[queryAt + d + 2] as number);
      d3 += (proj[base + d + 3] as number) * (query[queryAt + d + 3] as number);
    }
    const dot = d0 + d1 + (d2 + d3);
    if (size < k) {
      // Sift up.
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((heapScore[parent] as number) <= dot) break;
        heapScore[i] = heapScore[parent] as number;
        heapRow[i] = heapRow[parent] as number;
        i = parent;
      }
      heapScore[i] = dot;
      heapRow[i] = row;
    } else if (dot > (heapScore[0] as number)) {
      // Replace the minimum and sift down.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && (heapScore[r] as number) < (heapScore[l] as number) ? r : l;
        if ((heapScore[c] as number) >= dot) break;
        heapScore[i] = heapScore[c] as number;
        heapRow[i] = heapRow[c] as number;
        i = c;
      }
      heapScore[i] = dot;
      heapRow[i] = row;
    }
  }
  // Best first, ties by heap position: a stable insertion sort in place (k is a few hundred).
  for (let i = 1; i < size; i++)
    insertBestFirst(heapScore, heapRow, i, heapScore[i] as number, heapRow[i] as number);
  return size;
}

/**
 * Inserts (score, id) into the first `n` entries of two parallel arrays kept best first, after
 * the entries of equal score (a stable insertion step). The arrays must have room for n + 1.
 */
export function insertBestFirst(
  scores: Float64Array,
  ids: Int32Array,
  n: number,
  score: number,
  id: number,
): void {
  let j = n;
  while (j > 0 && (scores[j - 1] as number) < score) {
    scores[j] = scores[j - 1] as number;
    ids[j] = ids[j - 1] as number;
    j--;
  }
  scores[j] = score;
  ids[j] = id;
}

export interface RowMeta {
  seq: number;
  layer: Layer;
  entityId: string | null;
  expiresAt: number | null;
}

export class VectorIndex {
  readonly sourceDims: number;
  readonly dims = PROJECTED_DIMS;
  count = 0;
  private capacity: number;
  private buffers: IndexBuffers;
  private v: IndexViews;
  private seqs: Float64Array;
  /** Live rows (not deleted). */
  private live = 0;
  private readonly entityCodes = new Map<string, number>();
  /** Rows per entity code (NO_ENTITY included), ascending, in growable shared lists. */
  private readonly entityRows = new Map<number, { rows: Int32Array; length: number }>();
  /** Sparse projection matrix as (source index, sign) lists per output dimension. */
  private readonly plan: Array<{ idx: Int32Array; sign: Float32Array }>;

  constructor(sourceDims: number, initialCapacity = 1024, seed = 0x6a616d65) {
    this.sourceDims = sourceDims;
    this.capacity = Math.max(16, initialCapacity);
    this.buffers = allocateIndex(this.capacity, PROJECTED_DIMS, sourceDims);
    this.v = indexViews(this.buffers);
    this.seqs = new Float64Array(this.capacity);
    const random = mulberry32(seed);
    const scale = Math.sqrt(3 / PROJECTED_DIMS);
    this.plan = [];
    for (let d = 0; d < PROJECTED_DIMS; d++) {
      const idx: number[] = [];
      const sign: number[] = [];
      for (let j = 0; j < sourceDims; j++) {
        const u = random();
        if (u < 1 / 6) {
          idx.push(j);
          sign.push(scale);
        } else if (u < 1 / 3) {
          idx.push(j);
          sign.push(-scale);
        }
      }
      this.plan.push({ idx: Int32Array.from(idx), sign: Float32Array.from(sign) });
    }
  }

  private grow(): void {
    // A new buffer: a scan in flight keeps the old one, valid up to the row count it was given.
    const capacity = this.capacity * 2;
    const next = allocateIndex(capacity, PROJECTED_DIMS, this.sourceDims);
    const v = indexViews(next);
    const old = this.v;
    v.expires.set(old.expires);
    v.proj.set(old.proj);
    v.scales.set(old.scales);
    v.entities.set(old.entities);
    v.full.set(old.full);
    v.layers.set(old.layers);
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs);
    this.capacity = capacity;
    this.buffers = next;
    this.v = v;
    this.seqs = seqs;
  }

  /** Projects a full embedding to the index space, normalised. */
  project(v: Float32Array): Float32Array {
    const out = new Float32Array(PROJECTED_DIMS);
    this.projectInto(v, out, 0);
    return out;
  }

  /** `project`, written into `out` from `at`. */
  projectInto(v: Float32Array, out: Float32Array, at: number): void {
    let norm = 0;
    for (let d = 0; d < PROJECTED_DIMS; d++) {
      const { idx, sign } = this.plan[d] as { idx: Int32Array; sign: Float32Array };
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += (v[idx[i] as number] ?? 0) * (sign[i] as number);
      out[at + d] = s;
      norm += s * s;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < PROJECTED_DIMS; d++) out[at + d] = (out[at + d] as number) * inv;
    }
  }

  entityCode(entityId: string | null, create = false): number {
    if (entityId === null) return NO_ENTITY;
    let code = this.entityCodes.get(entityId);
    if (code === undefined) {
      if (!create) return -3; // matches no row
      code = this.entityCodes.size;
      this.entityCodes.set(entityId, code);
    }
    return code;
  }

  add(meta: RowMeta, embedding: Float32Array): void {
    if (embedding.length !== this.sourceDims) return;
    if (this.rowOf(meta.seq) !== undefined) {
      this.update(meta.seq, meta);
      return;
    }
    if (this.count === this.capacity) this.grow();
    const row = this.count++;
    const v = this.v;
    this.projectInto(embedding, v.proj, row * PROJECTED_DIMS);
    // Symmetric int8 quantisation of the unit vector: q = round(v · 127 / max|v|), scale = max|v| / 127.
    let max = 0;
    for (let d = 0; d < embedding.length; d++) max = Math.max(max, Math.abs(embedding[d] as number));
    const scale = max > 0 ? max / 127 : 0;
    const base = row * this.sourceDims;
    for (let d = 0; d < embedding.length; d++)
      v.full[base + d] = scale > 0 ? Math.round((embedding[d] as number) / scale) : 0;
    v.scales[row] = scale;
    v.layers[row] = LAYER_CODE[meta.layer];
    const code = this.entityCode(meta.entityId, true);
    v.entities[row] = code;
    this.listRow(code, row);
    v.expires[row] = meta.expiresAt ?? 0;
    this.seqs[row] = meta.seq;
    this.live++;
  }

  private listRow(code: number, row: number): void {
    let list = this.entityRows.get(code);
    if (list === undefined) {
      list = { rows: new Int32Array(new SharedArrayBuffer(64 * 4)), length: 0 };
      this.entityRows.set(code, list);
    } else if (list.length === list.rows.length) {
      // Grow by copying into a new buffer: a scan in flight keeps the old one, valid up to the
      // length it was given.
      const rows = new Int32Array(new SharedArrayBuffer(list.rows.length * 2 * 4));
      rows.set(list.rows);
      list.rows = rows;
    }
    list.rows[list.length++] = row;
  }

  /**
   * The rows of an entity code (ascending; deleted rows included, the scan skips them) as a
   * shared list and its length; an empty list for a code no row has.
   */
  rowsOf(code: number): { list: Int32Array | null; length: number } {
    const list = this.entityRows.get(code);
    return list === undefined ? { list: null, length: 0 } : { list: list.rows, length: list.length };
  }

  /** The shared row list of an entity code (null for a code no row has), without allocating. */
  listOf(code: number): Int32Array | null {
    return this.entityRows.get(code)?.rows ?? null;
  }

  /** Rows listed for an entity code (deleted rows included). */
  listLength(code: number): number {
    return this.entityRows.get(code)?.length ?? 0;
  }

  /**
   * The live row of `seq`. Rows are appended in increasing seq order (SQLite row ids only grow; a
   * deleted last id may come back, after its dead row), so `seqs` is sorted and a binary search for
   * the last match finds it — no per-row Map for the collector to trace.
   */
  private rowOf(seq: number): number | undefined {
    const seqs = this.seqs;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((seqs[mid] as number) <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0 || seqs[found] !== seq || this.v.layers[found] === DELETED) return undefined;
    return found;
  }

  update(seq: number, changes: { layer?: Layer; expiresAt?: number | null }): void {
    const row = this.rowOf(seq);
    if (row === undefined) return;
    if (changes.layer !== undefined) this.v.layers[row] = LAYER_CODE[changes.layer];
    if (changes.expiresAt !== undefined) this.v.expires[row] = changes.expiresAt ?? 0;
  }

  remove(seq: number): void {
    const row = this.rowOf(seq);
    if (row === undefined) return;
    this.v.layers[row] = DELETED;
    this.live--;
  }

  /** Live rows per layer code (one pass over a byte per row: cheap enough for every scrape). */
  countsByLayerCode(): number[] {
    const counts = new Array<number>(LAYERS.length).fill(0);
    const layers = this.v.layers;
    for (let row = 0; row < this.count; row++) {
      const code = layers[row] as number;
      if (code !== DELETED) counts[code] = (counts[code] as number) + 1;
    }
    return counts;
  }

  has(seq: number): boolean {
    return this.rowOf(seq) !== undefined;
  }

  /** Live rows. */
  get size(): number {
    return this.live;
  }

  seqOfRow(row: number): number {
    return this.seqs[row] as number;
  }

  /** The shared buffer, for scans in workers. */
  get shared(): IndexBuffers {
    return this.buffers;
  }

  /** Views of the shared buffer, for scans on this thread. */
  get views(): IndexViews {
    return this.v;
  }
}
