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

/** The shared buffers a scan reads; structured-clone friendly (SharedArrayBuffers are shared, not copied). */
export interface IndexBuffers {
  dims: number;
  sourceDims: number;
  projections: SharedArrayBuffer;
  full: SharedArrayBuffer;
  scales: SharedArrayBuffer;
  layers: SharedArrayBuffer;
  entities: SharedArrayBuffer;
  expires: SharedArrayBuffer;
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
  list: SharedArrayBuffer | null;
  start: number;
  end: number;
}

/**
 * The search: coarse top-`coarseK` rows by projected inner product, then re-scored with the int8
 * full vectors against `fullQuery`; returns the best `k` by the re-scored cosine.
 */
export function searchIndex(
  buffers: IndexBuffers,
  query: Float32Array,
  fullQuery: Float32Array,
  filter: ScanFilter,
  range: ScanRange,
  coarseK: number,
  k: number,
): ScanResult {
  const coarse = scanTopK(buffers, query, filter, range, coarseK);
  const n = buffers.sourceDims;
  const full = new Int8Array(buffers.full);
  const scales = new Float32Array(buffers.scales);
  const scored = coarse.rows.map((row) => {
    const base = row * n;
    let dot = 0;
    for (let d = 0; d < n; d++) dot += (full[base + d] as number) * (fullQuery[d] as number);
    return { row, score: dot * (scales[row] as number) };
  });
  scored.sort((a, b) => b.score - a.score);
  const top = scored.slice(0, k);
  return { rows: top.map((s) => s.row), scores: top.map((s) => s.score) };
}

/**
 * Top-k rows of `range` by inner product with `query`, among rows passing `filter`. A small
 * binary min-heap of the best k keeps the scan at one pass with O(log k) work per accepted row.
 * Rows are visited in ascending order either way, so a list scan and a full scan agree.
 * Pure; runs on the main thread for small scans and in workers for large ones.
 */
export function scanTopK(
  buffers: IndexBuffers,
  query: Float32Array,
  filter: ScanFilter,
  range: ScanRange,
  k: number,
): ScanResult {
  const list = range.list === null ? null : new Int32Array(range.list);
  const start = range.start;
  const end = range.end;
  const dims = buffers.dims;
  const proj = new Float32Array(buffers.projections);
  const layers = new Uint8Array(buffers.layers);
  const entities = new Int32Array(buffers.entities);
  const expires = new Float64Array(buffers.expires);
  const heapScore = new Float64Array(k);
  const heapRow = new Int32Array(k);
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
      d0 += (proj[base + d] as number) * (query[d] as number);
      d1 += (proj[base + d + 1] as number) * (query[d + 1] as number);
      d2 += (proj[base + d + 2] as number) * (query[d + 2] as number);
      d3 += (proj[base + d + 3] as number) * (query[d + 3] as number);
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
  const order = Array.from({ length: size }, (_, i) => i).sort(
    (a, b) => (heapScore[b] as number) - (heapScore[a] as number),
  );
  return { rows: order.map((i) => heapRow[i] as number), scores: order.map((i) => heapScore[i] as number) };
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
  private proj: Float32Array;
  private full: Int8Array;
  private scales: Float32Array;
  private layers: Uint8Array;
  private entities: Int32Array;
  private expires: Float64Array;
  private seqs: Float64Array;
  /** Live rows (not deleted). */
  private live = 0;
  private readonly entityCodes = new Map<string, number>();
  /** Rows per entity code (NO_ENTITY included), ascending, in growable shared lists. */
  private readonly entityRows = new Map<
    number,
    { buffer: SharedArrayBuffer; rows: Int32Array; length: number }
  >();
  /** Sparse projection matrix as (source index, sign) lists per output dimension. */
  private readonly plan: Array<{ idx: Int32Array; sign: Float32Array }>;

  constructor(sourceDims: number, initialCapacity = 1024, seed = 0x6a616d65) {
    this.sourceDims = sourceDims;
    this.capacity = Math.max(16, initialCapacity);
    this.buffers = this.allocate(this.capacity);
    this.proj = new Float32Array(this.buffers.projections);
    this.full = new Int8Array(this.buffers.full);
    this.scales = new Float32Array(this.buffers.scales);
    this.layers = new Uint8Array(this.buffers.layers);
    this.entities = new Int32Array(this.buffers.entities);
    this.expires = new Float64Array(this.buffers.expires);
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

  private allocate(capacity: number): IndexBuffers {
    return {
      dims: PROJECTED_DIMS,
      sourceDims: this.sourceDims,
      projections: new SharedArrayBuffer(capacity * PROJECTED_DIMS * 4),
      full: new SharedArrayBuffer(capacity * this.sourceDims),
      scales: new SharedArrayBuffer(capacity * 4),
      layers: new SharedArrayBuffer(capacity),
      entities: new SharedArrayBuffer(capacity * 4),
      expires: new SharedArrayBuffer(capacity * 8),
    };
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const next = this.allocate(capacity);
    new Float32Array(next.projections).set(this.proj);
    new Int8Array(next.full).set(this.full);
    new Float32Array(next.scales).set(this.scales);
    new Uint8Array(next.layers).set(this.layers);
    new Int32Array(next.entities).set(this.entities);
    new Float64Array(next.expires).set(this.expires);
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs);
    this.capacity = capacity;
    this.buffers = next;
    this.proj = new Float32Array(next.projections);
    this.full = new Int8Array(next.full);
    this.scales = new Float32Array(next.scales);
    this.layers = new Uint8Array(next.layers);
    this.entities = new Int32Array(next.entities);
    this.expires = new Float64Array(next.expires);
    this.seqs = seqs;
  }

  /** Projects a full embedding to the index space, normalised. */
  project(v: Float32Array): Float32Array {
    const out = new Float32Array(PROJECTED_DIMS);
    let norm = 0;
    for (let d = 0; d < PROJECTED_DIMS; d++) {
      const { idx, sign } = this.plan[d] as { idx: Int32Array; sign: Float32Array };
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += (v[idx[i] as number] ?? 0) * (sign[i] as number);
      out[d] = s;
      norm += s * s;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < PROJECTED_DIMS; d++) out[d] = (out[d] as number) * inv;
    }
    return out;
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
    this.proj.set(this.project(embedding), row * PROJECTED_DIMS);
    // Symmetric int8 quantisation of the unit vector: q = round(v · 127 / max|v|), scale = max|v| / 127.
    let max = 0;
    for (let d = 0; d < embedding.length; d++) max = Math.max(max, Math.abs(embedding[d] as number));
    const scale = max > 0 ? max / 127 : 0;
    const base = row * this.sourceDims;
    for (let d = 0; d < embedding.length; d++)
      this.full[base + d] = scale > 0 ? Math.round((embedding[d] as number) / scale) : 0;
    this.scales[row] = scale;
    this.layers[row] = LAYER_CODE[meta.layer];
    const code = this.entityCode(meta.entityId, true);
    this.entities[row] = code;
    this.listRow(code, row);
    this.expires[row] = meta.expiresAt ?? 0;
    this.seqs[row] = meta.seq;
    this.live++;
  }

  private listRow(code: number, row: number): void {
    let list = this.entityRows.get(code);
    if (list === undefined) {
      const buffer = new SharedArrayBuffer(64 * 4);
      list = { buffer, rows: new Int32Array(buffer), length: 0 };
      this.entityRows.set(code, list);
    } else if (list.length === list.rows.length) {
      // Grow by copying into a new buffer: a scan in flight keeps the old one, valid up to the
      // length it was given.
      const buffer = new SharedArrayBuffer(list.rows.length * 2 * 4);
      const rows = new Int32Array(buffer);
      rows.set(list.rows);
      list.buffer = buffer;
      list.rows = rows;
    }
    list.rows[list.length++] = row;
  }

  /**
   * The rows of an entity code (ascending; deleted rows included, the scan skips them) as a
   * shared list and its length; an empty list for a code no row has.
   */
  rowsOf(code: number): { list: SharedArrayBuffer | null; length: number } {
    const list = this.entityRows.get(code);
    return list === undefined ? { list: null, length: 0 } : { list: list.buffer, length: list.length };
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
    if (found < 0 || seqs[found] !== seq || this.layers[found] === DELETED) return undefined;
    return found;
  }

  update(seq: number, changes: { layer?: Layer; expiresAt?: number | null }): void {
    const row = this.rowOf(seq);
    if (row === undefined) return;
    if (changes.layer !== undefined) this.layers[row] = LAYER_CODE[changes.layer];
    if (changes.expiresAt !== undefined) this.expires[row] = changes.expiresAt ?? 0;
  }

  remove(seq: number): void {
    const row = this.rowOf(seq);
    if (row === undefined) return;
    this.layers[row] = DELETED;
    this.live--;
  }

  /** Live rows per layer code (one pass over a byte per row: cheap enough for every scrape). */
  countsByLayerCode(): number[] {
    const counts = new Array<number>(LAYERS.length).fill(0);
    const layers = this.layers;
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

  get shared(): IndexBuffers {
    return this.buffers;
  }
}
