/**
 * The layered memory system (the seed's MemorySystem): short-term, working, long-term, episodic and
 * semantic memories persisted through the store actor, recalled by hybrid search.
 *
 * Layers and their policy (all numbers are options):
 * - short-term: expires `shortTermTtlMs` (300 s) after it was stored; hidden once expired, deleted by
 *   consolidation or pruning.
 * - working: at most `workingCapacity` (100) items; past it the least salient (then least recently
 *   used) is evicted — promoted to long-term when it earned it (salience ≥ 0.5 or ≥ 3 accesses),
 *   dropped otherwise.
 * - long-term: deleted after `longTermRetentionMs` (30 days) without access.
 * - episodic: events (conversation turns, workspace broadcasts), each kept as its own record.
 * - semantic: facts, deduplicated.
 * Consolidation (a supervised background actor calls `consolidate` on an interval) promotes by
 * rehearsal and salience: short-term → working (≥ 2 accesses or salience ≥ 0.7), working → long-term
 * (≥ 5 accesses, or on eviction as above). Exact duplicates (same normalised-content hash, layer and
 * entity) and near duplicates (embedding cosine ≥ `nearDuplicateThreshold` and differing only in
 * spelling and wording, never in a detail; dedup.ts) are merged into the
 * existing memory, whose provenance records what was merged. Storing content that is already there —
 * for example a recalled memory handed back — touches the existing memory instead of creating one.
 *
 * Recall: vector candidates (two-stage scan of the in-memory index, vector-index.ts; partitions in
 * the worker pool above `poolScanThreshold` rows) and FTS5 BM25 candidates, fused by reciprocal rank
 * and weighted by salience and recency (rank.ts); filtered by entity and layers; recalled memories
 * are touched (rehearsal).
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ActorContext, ActorRef, ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import { randomId } from '../../runtime/ids.js';
import type { TaskPool } from '../../runtime/pool.js';
import type { Store } from '../store/store.js';
import { CandidateSlot, MAX_PARTS, type SlotShape } from './candidate-slot.js';
import { lexicallyCompatible } from './dedup.js';
import type { EmbeddingProvider } from './embedding/provider.js';
import { loadWordVectors } from './embedding/word-vectors.js';
import { DEFAULT_RANK_WEIGHTS, ftsQuery, type RankWeights, RRF_K, weightedScore } from './rank.js';
import type { CandidatesTask } from './recall-task.js';
import {
  type HitRow,
  hitsBySeqsSql,
  type InsertArgs,
  MemoryQueries,
  withoutEmbedding,
} from './repository.js';
import {
  isLayer,
  LAYERS,
  type Layer,
  MAX_CONTENT_CHARS,
  MAX_NAME_CHARS,
  type Memory,
  type MemoryRecord,
  type ProvenanceEntry,
} from './types.js';
import {
  ANY_ENTITY,
  insertBestFirst,
  LAYER_CODE,
  layerMask,
  PROJECTED_DIMS,
  type ScanFilter,
  searchInto,
  VectorIndex,
} from './vector-index.js';

export interface MemoryOptions {
  /** @default 300000 (5 min) */
  shortTermTtlMs: number;
  /** @default 100 */
  workingCapacity: number;
  /** @default 2592000000 (30 days) */
  longTermRetentionMs: number;
  /** Cosine similarity at or above which two memories may be the same (see dedup.ts). @default 0.85 */
  nearDuplicateThreshold: number;
  /** Accesses that promote short-term → working. @default 2 */
  rehearsalToWorking: number;
  /** Salience that promotes short-term → working. @default 0.7 */
  salienceToWorking: number;
  /** Accesses that promote working → long-term. @default 5 */
  rehearsalToLongTerm: number;
  /** An evicted working memory is kept (long-term) at this salience or more... @default 0.5 */
  keepOnEvictSalience: number;
  /** ...or with this many accesses. @default 3 */
  keepOnEvictRehearsal: number;
  /** Consolidation interval. @default 30000 */
  consolidationIntervalMs: number;
  /**
   * Rows a vector scan visits (an entity's rows, or every row) above which it runs in the worker
   * pool instead of on the event loop (a visited row costs about 0.1-0.2 µs). @default 4096
   */
  poolScanThreshold: number;
  /** Rows per pool task when a scan is split across the pool's threads. @default 32768 */
  scanPartitionRows: number;
  /**
   * Index rows above which full-text queries run in the worker pool. Lower than the vector
   * threshold: a BM25 query costs with the length of its posting lists, which common words make
   * long long before the vector scan gets slow. @default 512
   */
  ftsPoolThreshold: number;
  /** Candidates taken from each ranking before fusion. @default 50 */
  candidates: number;
  /** Coarse vector candidates re-scored with full embeddings. @default 200 */
  rerank: number;
  rank: RankWeights;
}

export const DEFAULT_MEMORY_OPTIONS: Readonly<MemoryOptions> = Object.freeze({
  shortTermTtlMs: 300_000,
  workingCapacity: 100,
  longTermRetentionMs: 30 * 86_400_000,
  nearDuplicateThreshold: 0.85,
  rehearsalToWorking: 2,
  salienceToWorking: 0.7,
  rehearsalToLongTerm: 5,
  keepOnEvictSalience: 0.5,
  keepOnEvictRehearsal: 3,
  consolidationIntervalMs: 30_000,
  poolScanThreshold: 4096,
  scanPartitionRows: 32_768,
  ftsPoolThreshold: 512,
  candidates: 50,
  rerank: 200,
  rank: DEFAULT_RANK_WEIGHTS,
});

export interface StoreInput {
  layer: Layer;
  content: string;
  entityId?: string | null;
  preferredModel?: string | null;
  provider?: string | null;
  salience?: number;
  metadata?: Record<string, unknown> | null;
  source?: string;
}

export interface StoredMemory extends Memory {
  /** Set when the content was merged into an existing memory instead of stored anew. */
  merged?: 'exact' | 'near';
}

export interface RecallInput {
  query: string;
  entityId?: string;
  layers?: Layer[];
  /** @default 5 */
  limit?: number;
}

export interface RecallHit {
  id: string;
  content: string;
  layer: Layer;
  entityId: string | null;
  score: number;
  salience: number;
  createdAt: number;
  lastAccessedAt: number;
}

export interface ConsolidationReport {
  toWorking: number;
  toLongTerm: number;
  merged: number;
  evicted: number;
  expired: number;
  pruned: number;
}

export type MemoryMessage =
  | { op: 'store'; input: StoreInput }
  | { op: 'get'; id: string }
  | { op: 'list'; layer?: Layer; entityId?: string; limit?: number; cursor?: string }
  | { op: 'delete'; id: string }
  | { op: 'recall'; input: RecallInput }
  | { op: 'consolidate' }
  | { op: 'counts' };

export const MEMORY_ACTOR = 'memory';
export const CONSOLIDATION_ACTOR = 'memory-consolidation';

const RECALL_TASK = fileURLToPath(new URL('./recall-task.js', import.meta.url));

interface Problem {
  path: string;
  problem: string;
}

function fail(problems: Problem[]): never {
  throw new JameyError('JAMEY_ERR_VALIDATION', problems.map((p) => `${p.path}: ${p.problem}`).join('; '), {
    details: problems,
  });
}

function checkName(problems: Problem[], path: string, v: unknown, optional = true): void {
  if (v === undefined || (optional && v === null)) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME_CHARS) {
    problems.push({ path, problem: `must be a string of 1 to ${MAX_NAME_CHARS} characters` });
  }
}

/** Validates a store request; every problem is listed with its path. */
export function validateStoreInput(input: unknown): StoreInput {
  const problems: Problem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    fail([{ path: '', problem: 'must be an object' }]);
  const i = input as Record<string, unknown>;
  if (!isLayer(i['layer'])) problems.push({ path: '/layer', problem: `must be one of ${LAYERS.join(', ')}` });
  const content = i['content'];
  if (typeof content !== 'string' || content.trim().length === 0) {
    problems.push({ path: '/content', problem: 'must be a non-empty string' });
  } else if (content.length > MAX_CONTENT_CHARS) {
    problems.push({
      path: '/content',
      problem: `must be at most ${MAX_CONTENT_CHARS} characters (got ${content.length})`,
    });
  }
  checkName(problems, '/entityId', i['entityId']);
  checkName(problems, '/preferredModel', i['preferredModel']);
  checkName(problems, '/provider', i['provider']);
  checkName(problems, '/source', i['source'], false);
  const salience = i['salience'];
  if (salience !== undefined && (typeof salience !== 'number' || !(salience >= 0 && salience <= 1))) {
    problems.push({ path: '/salience', problem: 'must be a number from 0 to 1' });
  }
  const metadata = i['metadata'];
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      problems.push({ path: '/metadata', problem: 'must be an object' });
    else if (jsonLength(metadata) > 16_384)
      problems.push({ path: '/metadata', problem: 'must be at most 16384 bytes as JSON' });
  }
  if (problems.length > 0) fail(problems);
  return input as StoreInput;
}

/**
 * Length of a value as JSON; Infinity when it cannot be written (nested so deep that the encoder runs
 * out of stack, or a cycle), so that such metadata is refused as too large instead of crashing the
 * actor. The HTTP layer already refuses bodies nested past 64 levels; this guards library callers.
 */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value).length;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export function validateRecallInput(input: unknown): RecallInput {
  const problems: Problem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    fail([{ path: '', problem: 'must be an object' }]);
  const i = input as Record<string, unknown>;
  if (typeof i['query'] !== 'string' || i['query'].trim().length === 0)
    problems.push({ path: '/query', problem: 'must be a non-empty string' });
  else if (i['query'].length > MAX_CONTENT_CHARS)
    problems.push({ path: '/query', problem: `must be at most ${MAX_CONTENT_CHARS} characters` });
  checkName(problems, '/entityId', i['entityId'], false);
  const layers = i['layers'];
  if (layers !== undefined) {
    if (!Array.isArray(layers))
      problems.push({ path: '/layers', problem: 'must be an array of layer names' });
    else
      layers.forEach((l, k) => {
        if (!isLayer(l))
          problems.push({ path: `/layers/${k}`, problem: `must be one of ${LAYERS.join(', ')}` });
      });
  }
  const limit = i['limit'];
  if (
    limit !== undefined &&
    (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100)
  ) {
    problems.push({ path: '/limit', problem: 'must be an integer from 1 to 100' });
  }
  if (problems.length > 0) fail(problems);
  return input as RecallInput;
}

/** Hash of the normalised content: Unicode NFC, case-folded, whitespace collapsed. */
export function contentHash(content: string): string {
  const normal = content.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(normal).digest('hex');
}

export function newMemoryId(): string {
  return `mem_${randomId(12)}`;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^s:(\d+)$/.exec(text);
  if (m === null) fail([{ path: '/cursor', problem: 'is not a cursor this server issued' }]);
  return Number(m[1]);
}

export interface MemoryDeps {
  store: Store;
  embedder: EmbeddingProvider;
  pool?: TaskPool;
  clock: { now(): number };
  options?: Partial<MemoryOptions>;
  /** Called with each new incarnation's system once its index is loaded (metrics read it). */
  onReady?: (system: MemorySystem) => void;
  /** Called after every committed write that changes memories (not after access bookkeeping). */
  onChange?: () => void;
}

/** Free candidate slots kept per memory system (more are made when more recalls are in flight). */
const MAX_FREE_SLOTS = 64;

/** The memory system's logic; the actor below owns one instance per incarnation. */
export class MemorySystem {
  readonly options: MemoryOptions;
  readonly queries: MemoryQueries;
  readonly index: VectorIndex;
  private readonly deps: MemoryDeps;
  private readonly inFlight = new Map<string, Promise<StoredMemory>>();
  /** General-English frequency rank of a word (the word-vector asset is ordered by frequency). */
  private readonly frequencyRank = (word: string): number | undefined => loadWordVectors().rowOf(word);
  private evicting: Promise<unknown> = Promise.resolve();
  private readonly shape: SlotShape;
  private readonly freeSlots: CandidateSlot[] = [];
  /**
   * Scratch for the synchronous part of a recall after its candidates arrive (fusion, shortlist,
   * hits): reused, so a recall leaves little garbage on the event loop.
   */
  private readonly fusedSeq: Float64Array;
  private readonly fusedScore: Float64Array;
  private readonly order: Int32Array;
  private readonly hitScore: Float64Array;
  private readonly hitAt: Int32Array;
  private readonly heads = new Int32Array(MAX_PARTS);
  private readonly params = new Map<number, unknown[]>();

  constructor(deps: MemoryDeps) {
    this.deps = deps;
    this.options = { ...DEFAULT_MEMORY_OPTIONS, ...deps.options };
    this.queries = new MemoryQueries(deps.store.reader);
    this.index = new VectorIndex(deps.embedder.dimensions);
    this.shape = {
      dims: PROJECTED_DIMS,
      sourceDims: this.index.sourceDims,
      parts: Math.max(1, Math.min(MAX_PARTS, deps.pool?.options.maxThreads ?? 1)),
      k: Math.max(5, this.options.candidates),
      textLimit: this.options.candidates,
    };
    const fused = this.shape.k + this.shape.textLimit;
    this.fusedSeq = new Float64Array(fused);
    this.fusedScore = new Float64Array(fused);
    this.order = new Int32Array(fused);
    this.hitScore = new Float64Array(fused);
    this.hitAt = new Int32Array(fused);
  }

  /** Loads the vector index from the database, yielding to the event loop between chunks. */
  async loadIndex(): Promise<number> {
    let after = 0;
    for (;;) {
      const rows = this.queries.vectorsAfter(after, 250);
      for (const r of rows) {
        after = r.seq;
        if (r.embedding === null) continue;
        const v = new Float32Array(r.embedding.byteLength / 4);
        new Uint8Array(v.buffer).set(r.embedding);
        this.index.add({ seq: r.seq, layer: r.layer, entityId: r.entity_id, expiresAt: null }, v);
      }
      if (rows.length < 250) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return this.index.size;
  }

  /** A write that changes what reads return: `onChange` follows its commit (caches key on it). */
  private async commit<T = unknown>(op: string, args: unknown): Promise<T> {
    const result = await this.deps.store.write<T>(op, args);
    this.deps.onChange?.();
    return result;
  }

  private now(): number {
    // Whole milliseconds: times are stored as INTEGER and returned to clients.
    return Math.floor(this.deps.clock.now());
  }

  private live(m: MemoryRecord | undefined, now = this.now()): MemoryRecord | undefined {
    if (m === undefined) return undefined;
    if (m.expiresAt !== null && m.expiresAt <= now) return undefined;
    return m;
  }

  async embed(text: string): Promise<Float32Array> {
    const [v] = await this.deps.embedder.embed([text]);
    if (v === undefined) throw new JameyError('JAMEY_ERR_INTERNAL', 'the embedder returned no vector');
    return v;
  }

  /** store / storeWithProvider. */
  store(raw: StoreInput): Promise<StoredMemory> {
    const input = validateStoreInput(raw);
    const hash = contentHash(input.content);
    const key = `${input.layer}\u0000${input.entityId ?? ''}\u0000${hash}`;
    const pending = this.inFlight.get(key);
    if (pending !== undefined && input.layer !== 'episodic') {
      // The same content is being stored right now: merge into it once it lands.
      return pending.then((first) => this.mergeExact(first.id, input));
    }
    const p = this.storeNew(input, hash).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async storeNew(input: StoreInput, hash: string): Promise<StoredMemory> {
    const now = this.now();
    const entityId = input.entityId ?? null;
    if (input.layer !== 'episodic') {
      const existing = this.live(this.queries.byHash(hash, input.layer, entityId), now);
      if (existing !== undefined) return this.mergeExact(existing.id, input);
    }
    const embedding = await this.embed(input.content);
    if (input.layer !== 'episodic') {
      const near = await this.nearest(embedding, input.layer, entityId);
      if (near !== undefined && this.isNearDuplicate(near, input.content)) {
        return this.merge(near.memory, input, 'near', near.similarity);
      }
    }
    const args: InsertArgs = {
      id: newMemoryId(),
      layer: input.layer,
      entityId,
      content: input.content,
      contentHash: hash,
      embedding,
      embeddingModel: this.deps.embedder.id,
      salience: input.salience ?? 0.5,
      provider: input.provider ?? null,
      preferredModel: input.preferredModel ?? null,
      source: input.source ?? 'api',
      metadata: input.metadata ?? null,
      createdAt: now,
      expiresAt: input.layer === 'short-term' ? now + this.options.shortTermTtlMs : null,
    };
    const { seq } = await this.commit<{ seq: number }>('memory.insert', args);
    this.index.add({ seq, layer: args.layer, entityId, expiresAt: args.expiresAt }, embedding);
    const memory: StoredMemory = {
      id: args.id,
      layer: args.layer,
      entityId,
      content: args.content,
      contentHash: hash,
      salience: args.salience,
      provider: args.provider,
      preferredModel: args.preferredModel,
      source: args.source,
      metadata: args.metadata,
      provenance: [],
      createdAt: now,
      lastAccessedAt: now,
      accessCount: 0,
      expiresAt: args.expiresAt,
      embeddingModel: args.embeddingModel,
    };
    if (input.layer === 'working') await this.enforceWorkingCapacity();
    return memory;
  }

  private async mergeExact(id: string, input: StoreInput): Promise<StoredMemory> {
    const existing = this.queries.get(id);
    if (existing === undefined) return this.storeNew(input, contentHash(input.content));
    return this.merge(existing, input, 'exact', 1);
  }

  /** Records `input` as merged into `target`: provenance kept, a rehearsal counted, salience the higher. */
  private async merge(
    target: MemoryRecord,
    input: StoreInput | MemoryRecord,
    how: 'exact' | 'near',
    similarity: number,
  ): Promise<StoredMemory> {
    const now = this.now();
    const entry: ProvenanceEntry = {
      id: 'id' in input ? input.id : 'unsaved',
      source: input.source ?? 'api',
      createdAt: 'createdAt' in input ? input.createdAt : now,
      merge: how,
    };
    if (how === 'near') entry.similarity = Math.round(similarity * 1e4) / 1e4;
    const provenance = [...target.provenance, entry].slice(-50);
    const salience = Math.max(target.salience, input.salience ?? 0);
    await this.commit('memory.update', {
      id: target.id,
      salience,
      provenance,
      lastAccessedAt: now,
      accessCount: target.accessCount + 1,
    });
    return {
      ...withoutEmbedding(target),
      salience,
      provenance,
      lastAccessedAt: now,
      accessCount: target.accessCount + 1,
      merged: how,
    };
  }

  private isNearDuplicate(near: { memory: MemoryRecord; similarity: number }, content: string): boolean {
    return (
      near.similarity >= this.options.nearDuplicateThreshold &&
      lexicallyCompatible(near.memory.content, content)
    );
  }

  /** The most similar live memory in `layer` for `entityId`, by exact cosine. */
  private async nearest(
    embedding: Float32Array,
    layer: Layer,
    entityId: string | null,
  ): Promise<{ memory: MemoryRecord; similarity: number } | undefined> {
    const code = entityId === null ? -1 : this.index.entityCode(entityId);
    const ranked = await this.vectorCandidates(
      embedding,
      { entity: code, layerMask: layerMask([layer]), now: this.now() },
      5,
    );
    const best = ranked[0];
    if (best === undefined) return undefined;
    const memory = this.live(this.queries.bySeq(best.seq));
    return memory === undefined ? undefined : { memory, similarity: best.similarity };
  }

  /**
   * A recall's candidates, into a slot (candidate-slot.ts): the vector search (two stages on the
   * shared index, vector-index.ts; a search for one entity visits only that entity's rows) and the
   * full-text query when `text` is given. Up to `poolScanThreshold` visited rows the scan runs here;
   * past that in the pool, split in `scanPartitionRows` parts across its threads. The full-text
   * query runs in the pool past `ftsPoolThreshold` rows. What goes to the pool goes as one task per
   * partition, the full-text query riding with the first, so a recall for one entity keeps at most
   * one thread busy. The caller reads the slot and gives it back with `release`.
   */
  private async gather(
    embedding: Float32Array,
    filter: ScanFilter,
    k: number,
    text: { match: string; entityId: string | null; now: number } | null,
  ): Promise<CandidateSlot> {
    const slot = this.freeSlots.pop() ?? new CandidateSlot(this.shape);
    slot.counts.fill(0);
    slot.parts = 1;
    const index = this.index;
    const o = this.options;
    const any = filter.entity === ANY_ENTITY;
    const n =
      index.count === 0 || embedding.length !== index.sourceDims
        ? 0
        : any
          ? index.count
          : index.listLength(filter.entity);
    const list = any ? null : index.listOf(filter.entity);
    const coarseK = Math.max(k, o.rerank);
    if (n > 0) {
      index.projectInto(embedding, slot.query, 0);
      slot.query.set(embedding, PROJECTED_DIMS);
    }
    const pool = this.deps.pool;
    const scanInPool = pool !== undefined && n > o.poolScanThreshold;
    const textInPool = pool !== undefined && text !== null && index.count > o.ftsPoolThreshold;
    let pending: Promise<unknown> | undefined;
    if (scanInPool || textInPool) {
      const task: CandidatesTask = {
        slot: slot.buffer,
        slotId: slot.id,
        shape: this.shape,
        index: scanInPool ? index.shared : null,
        list,
        start: 0,
        end: n,
        part: 0,
        entity: filter.entity,
        layerMask: filter.layerMask,
        now: filter.now,
        coarseK,
        k,
        file: textInPool ? this.deps.store.file : null,
        match: text?.match ?? '',
        entityId: text?.entityId ?? null,
      };
      const ref = { filename: RECALL_TASK, name: 'candidates', label: 'memory.recall' };
      // Split only scans long enough to gain from it: every task also costs a round trip and a core.
      const parts = scanInPool ? Math.min(this.shape.parts, Math.ceil(n / o.scanPartitionRows)) : 1;
      if (parts <= 1) {
        pending = (pool as TaskPool).run(ref, task);
      } else {
        slot.parts = parts;
        const size = Math.ceil(n / parts);
        const runs = new Array<Promise<unknown>>(parts);
        for (let p = 0; p < parts; p++) {
          runs[p] = (pool as TaskPool).run(ref, {
            ...task,
            start: p * size,
            end: Math.min(n, (p + 1) * size),
            part: p,
            file: p === 0 ? task.file : null,
          });
        }
        pending = Promise.all(runs);
      }
    }
    // What stays here runs while the pool works. A slot whose tasks failed is not given back (a
    // partition may still be writing to it).
    if (n > 0 && !scanInPool) {
      slot.counts[0] = searchInto(
        index.views,
        slot.query,
        0,
        slot.query,
        PROJECTED_DIMS,
        filter,
        { list, start: 0, end: n },
        coarseK,
        k,
        slot.rows,
        slot.scores,
        0,
      );
    }
    if (text !== null && !textInPool) {
      const seqs = this.queries.fullTextFiltered(text.match, text.entityId, text.now, this.shape.textLimit);
      for (let i = 0; i < seqs.length; i++) slot.text[i] = seqs[i] as number;
      slot.textCount = seqs.length;
    }
    if (pending !== undefined) await pending;
    return slot;
  }

  private release(slot: CandidateSlot): void {
    if (this.freeSlots.length < MAX_FREE_SLOTS) this.freeSlots.push(slot);
  }

  /**
   * The next best vector candidate across the slot's partitions (each sorted best first; ties go to
   * the lower partition), as its position in the slot, or -1; advances `heads`.
   */
  private nextVector(slot: CandidateSlot): number {
    const heads = this.heads;
    const k = this.shape.k;
    let best = -1;
    let bestScore = 0;
    for (let p = 0; p < slot.parts; p++) {
      const h = heads[p] as number;
      if (h >= slot.vectorCount(p)) continue;
      const score = slot.scores[p * k + h] as number;
      if (best < 0 || score > bestScore) {
        best = p;
        bestScore = score;
      }
    }
    if (best < 0) return -1;
    const at = best * k + (heads[best] as number);
    heads[best] = (heads[best] as number) + 1;
    return at;
  }

  /** Vector candidates with their int8 re-scored cosines, best first (the store path's search). */
  private async vectorCandidates(
    embedding: Float32Array,
    filter: ScanFilter,
    limit: number,
  ): Promise<Array<{ seq: number; similarity: number }>> {
    const k = Math.min(limit, this.shape.k);
    const slot = await this.gather(embedding, filter, k, null);
    this.heads.fill(0);
    const out: Array<{ seq: number; similarity: number }> = [];
    for (let at = this.nextVector(slot); at >= 0 && out.length < k; at = this.nextVector(slot))
      out.push({ seq: this.index.seqOfRow(slot.rows[at] as number), similarity: slot.scores[at] as number });
    this.release(slot);
    return out;
  }

  async recall(raw: RecallInput): Promise<RecallHit[]> {
    const input = validateRecallInput(raw);
    const now = this.now();
    const limit = input.limit ?? 5;
    const entity = input.entityId === undefined ? ANY_ENTITY : this.index.entityCode(input.entityId);
    const mask = layerMask(input.layers);
    const embedding = await this.embed(input.query);
    const match = ftsQuery(input.query, { frequencyRank: this.frequencyRank });
    const k = this.options.candidates;
    const slot = await this.gather(
      embedding,
      { entity, layerMask: mask, now },
      k,
      match.length === 0 ? null : { match, entityId: input.entityId ?? null, now },
    );
    // From here to the end nothing awaits: the scratch arrays are this recall's alone.
    // Weighted reciprocal rank fusion (rank.ts), vector ranking first.
    const fusedSeq = this.fusedSeq;
    const fusedScore = this.fusedScore;
    const w = this.options.rank;
    let m = 0;
    this.heads.fill(0);
    for (let at = this.nextVector(slot); at >= 0 && m < k; at = this.nextVector(slot)) {
      fusedSeq[m] = this.index.seqOfRow(slot.rows[at] as number);
      fusedScore[m] = 0 + w.vector / (RRF_K + m + 1);
      m++;
    }
    const vectors = m;
    for (let i = 0; i < slot.textCount; i++) {
      const seq = slot.text[i] as number;
      const add = w.text / (RRF_K + i + 1);
      let j = 0;
      while (j < vectors && fusedSeq[j] !== seq) j++;
      if (j < vectors) {
        fusedScore[j] = (fusedScore[j] as number) + add;
      } else {
        fusedSeq[m] = seq;
        fusedScore[m] = 0 + add;
        m++;
      }
    }
    this.release(slot);
    // The salience and recency priors move a score by at most (1 + wS)(1 + wR), so only the best
    // fused candidates can reach the top `limit`: look those up, not all of them. Best first, ties
    // in fusion order.
    const cap = Math.max(20, limit * 4);
    const order = this.order;
    for (let i = 0; i < m; i++) {
      const s = fusedScore[i] as number;
      let j = i;
      while (j > 0 && (fusedScore[order[j - 1] as number] as number) < s) {
        order[j] = order[j - 1] as number;
        j--;
      }
      order[j] = i;
    }
    const shortlist = Math.min(m, cap);
    if (shortlist === 0) return [];
    // One statement for the shortlist; its size rounded up to a multiple of 20, the rest NULL.
    const size = Math.ceil(cap / 20) * 20;
    let params = this.params.get(size);
    if (params === undefined) {
      params = new Array<unknown>(size);
      this.params.set(size, params);
    }
    for (let i = 0; i < size; i++) params[i] = i < shortlist ? fusedSeq[order[i] as number] : null;
    const rows = this.queries.hitsBySeqs(hitsBySeqsSql(size), params);
    let hitMask = 0;
    for (const l of input.layers ?? LAYERS) hitMask |= 1 << LAYER_CODE[l];
    const hitScore = this.hitScore;
    const hitAt = this.hitAt;
    let hits = 0;
    for (let i = 0; i < shortlist; i++) {
      const f = order[i] as number;
      const seq = fusedSeq[f] as number;
      let r = 0;
      while (r < rows.length && (rows[r] as HitRow).seq !== seq) r++;
      const row = rows[r];
      if (row === undefined) {
        this.index.remove(seq); // pruned behind our back: heal the index
        continue;
      }
      if (
        (row.expires_at !== null && row.expires_at <= now) ||
        ((hitMask >> LAYER_CODE[row.layer]) & 1) === 0
      )
        continue;
      // Best first, ties in shortlist order.
      const score = weightedScore(fusedScore[f] as number, row.salience, row.last_accessed_at, now, w);
      insertBestFirst(hitScore, hitAt, hits++, score, r);
    }
    const top = Math.min(hits, limit);
    const out = new Array<RecallHit>(top);
    const ids = new Array<string>(top);
    for (let i = 0; i < top; i++) {
      const row = rows[hitAt[i] as number] as HitRow;
      ids[i] = row.id;
      out[i] = {
        id: row.id,
        content: row.content,
        layer: row.layer,
        entityId: row.entity_id,
        score: Math.round((hitScore[i] as number) * 1e6) / 1e6,
        salience: row.salience,
        createdAt: row.created_at,
        lastAccessedAt: row.last_accessed_at,
      };
    }
    if (top > 0) {
      // Rehearsal: recalled memories count an access. Not awaited: recall does not wait on a write.
      this.deps.store.write('memory.touch', { ids, at: now }).catch(() => undefined);
    }
    return out;
  }

  get(id: string): Memory {
    const m = this.live(this.queries.get(id));
    if (m === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no memory with id "${id}"`);
    this.deps.store.write('memory.touch', { ids: [id], at: this.now() }).catch(() => undefined);
    return withoutEmbedding(m);
  }

  list(q: { layer?: Layer; entityId?: string; limit?: number; cursor?: string }): {
    data: Memory[];
    nextCursor: string | null;
  } {
    const problems: Problem[] = [];
    if (q.layer !== undefined && !isLayer(q.layer))
      problems.push({ path: '/layer', problem: `must be one of ${LAYERS.join(', ')}` });
    const limit = q.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      problems.push({ path: '/limit', problem: 'must be an integer from 1 to 100' });
    checkName(problems, '/entityId', q.entityId);
    if (problems.length > 0) fail(problems);
    const before = q.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(q.cursor);
    const filter: { layer?: Layer; entityId?: string } = {};
    if (q.layer !== undefined) filter.layer = q.layer;
    if (q.entityId !== undefined) filter.entityId = q.entityId;
    const rows = this.queries.list(filter, before, limit);
    const now = this.now();
    const last = rows[rows.length - 1];
    return {
      data: rows
        .filter((r) => this.live(r, now) !== undefined)
        .map(({ seq: _s, ...r }) => withoutEmbedding(r)),
      nextCursor: rows.length === limit && last !== undefined ? encodeCursor(last.seq) : null,
    };
  }

  async delete(id: string): Promise<void> {
    const m = this.queries.get(id);
    if (m === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no memory with id "${id}"`);
    await this.deleteRecord(id);
  }

  private async deleteRecord(id: string): Promise<void> {
    const seq = this.queries.seqOf(id);
    await this.commit('memory.delete', { id });
    if (seq !== undefined) this.index.remove(seq);
  }

  private async moveTo(m: MemoryRecord, layer: Layer): Promise<'moved' | 'merged'> {
    if (m.embedding !== null) {
      const near = await this.nearest(m.embedding, layer, m.entityId);
      if (near !== undefined && near.memory.id !== m.id && this.isNearDuplicate(near, m.content)) {
        await this.merge(near.memory, m, near.similarity >= 0.999999 ? 'exact' : 'near', near.similarity);
        await this.deleteRecord(m.id);
        return 'merged';
      }
    }
    await this.commit('memory.update', { id: m.id, layer, expiresAt: null });
    const seq = this.queries.seqOf(m.id);
    if (seq !== undefined) this.index.update(seq, { layer, expiresAt: null });
    return 'moved';
  }

  /** Evicts the least salient working memories past capacity (serialised: one eviction pass at a time). */
  enforceWorkingCapacity(report?: ConsolidationReport): Promise<unknown> {
    this.evicting = this.evicting.then(async () => {
      const excess = this.queries.layerCount('working') - this.options.workingCapacity;
      if (excess <= 0) return;
      for (const m of this.queries.leastSalient('working', excess)) {
        const keep =
          m.salience >= this.options.keepOnEvictSalience ||
          m.accessCount >= this.options.keepOnEvictRehearsal;
        if (keep) {
          const how = await this.moveTo(m, 'long-term');
          if (report !== undefined) {
            if (how === 'merged') report.merged++;
            else report.toLongTerm++;
          }
        } else {
          await this.deleteRecord(m.id);
          if (report !== undefined) report.evicted++;
        }
      }
    });
    return this.evicting;
  }

  async consolidate(): Promise<ConsolidationReport> {
    const report: ConsolidationReport = {
      toWorking: 0,
      toLongTerm: 0,
      merged: 0,
      evicted: 0,
      expired: 0,
      pruned: 0,
    };
    const now = this.now();
    const o = this.options;
    for (const m of [...this.queries.allOfLayer('short-term')]) {
      if (m.expiresAt !== null && m.expiresAt <= now) {
        await this.deleteRecord(m.id);
        report.expired++;
      } else if (m.accessCount >= o.rehearsalToWorking || m.salience >= o.salienceToWorking) {
        if ((await this.moveTo(m, 'working')) === 'merged') report.merged++;
        else report.toWorking++;
      }
    }
    for (const m of [...this.queries.allOfLayer('working')]) {
      if (m.accessCount >= o.rehearsalToLongTerm) {
        if ((await this.moveTo(m, 'long-term')) === 'merged') report.merged++;
        else report.toLongTerm++;
      }
    }
    await this.enforceWorkingCapacity(report);
    for (const m of this.queries.staleLongTerm(now - o.longTermRetentionMs, 10_000)) {
      await this.deleteRecord(m.id);
      report.pruned++;
    }
    return report;
  }

  counts(): Record<Layer, number> {
    return this.queries.countByLayer();
  }
}

/** The memory actor: I/O-bound (embedding, store writes), so several requests run at once. */
export function memoryActorSpec(
  deps: MemoryDeps & { concurrency?: number },
): ActorSpec<MemoryMessage, unknown> {
  return {
    name: MEMORY_ACTOR,
    dependsOn: ['store'],
    concurrency: deps.concurrency ?? 64,
    async start(): Promise<Behavior<MemoryMessage, unknown>> {
      const memory = new MemorySystem(deps);
      await memory.loadIndex();
      // The embedder's tables load on first use (the built-in one parses its word vectors, ~0.1 s):
      // pay that at start, not in the first request that stores or recalls a memory.
      await deps.embedder.embed(['warm up']);
      deps.onReady?.(memory);
      return {
        receive(msg) {
          switch (msg.op) {
            case 'store':
              return memory.store(msg.input);
            case 'get':
              return memory.get(msg.id);
            case 'list':
              return memory.list(msg);
            case 'delete':
              return memory.delete(msg.id);
            case 'recall':
              return memory.recall(msg.input);
            case 'consolidate':
              return memory.consolidate();
            case 'counts':
              return memory.counts();
            default:
              throw new JameyError(
                'JAMEY_ERR_VALIDATION',
                `unknown memory operation "${(msg as { op: string }).op}"`,
              );
          }
        },
      };
    },
  };
}

/** The consolidation actor: asks the memory actor to consolidate on an interval. */
export function consolidationActorSpec(intervalMs: number): ActorSpec<'tick', unknown> {
  return {
    name: CONSOLIDATION_ACTOR,
    dependsOn: [MEMORY_ACTOR],
    start(ctx: ActorContext): Behavior<'tick', unknown> {
      let timer: unknown;
      const schedule = (): void => {
        if (intervalMs <= 0) return;
        timer = ctx.clock.setTimeout(() => {
          try {
            ctx.actor<'tick'>(CONSOLIDATION_ACTOR).tell('tick', { priority: 'low' });
          } catch {
            // Busy: skip a round.
          }
        }, intervalMs);
      };
      schedule();
      return {
        async receive() {
          try {
            return await ctx
              .actor<MemoryMessage>(MEMORY_ACTOR)
              .ask({ op: 'consolidate' }, { priority: 'low' });
          } finally {
            schedule();
          }
        },
        stop() {
          if (timer !== undefined) ctx.clock.clearTimeout(timer);
        },
      };
    },
  };
}

/** The seed's memory API over the actor. */
export class MemoryClient {
  constructor(private readonly ref: ActorRef<MemoryMessage, unknown>) {}

  store(
    layer: Layer,
    content: string,
    options: Omit<StoreInput, 'layer' | 'content'> = {},
  ): Promise<StoredMemory> {
    return this.ref.ask({ op: 'store', input: { ...options, layer, content } }) as Promise<StoredMemory>;
  }

  storeWithProvider(
    layer: Layer,
    content: string,
    entityId?: string,
    preferredModel?: string,
  ): Promise<StoredMemory> {
    const input: StoreInput = { layer, content };
    if (entityId !== undefined) input.entityId = entityId;
    if (preferredModel !== undefined) input.preferredModel = preferredModel;
    return this.ref.ask({ op: 'store', input }) as Promise<StoredMemory>;
  }

  recall(input: RecallInput): Promise<RecallHit[]> {
    return this.ref.ask({ op: 'recall', input }) as Promise<RecallHit[]>;
  }

  get(id: string): Promise<Memory> {
    return this.ref.ask({ op: 'get', id }) as Promise<Memory>;
  }

  list(
    q: { layer?: Layer; entityId?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ data: Memory[]; nextCursor: string | null }> {
    return this.ref.ask({ op: 'list', ...q }) as Promise<{ data: Memory[]; nextCursor: string | null }>;
  }

  delete(id: string): Promise<void> {
    return this.ref.ask({ op: 'delete', id }) as Promise<void>;
  }

  consolidate(): Promise<ConsolidationReport> {
    return this.ref.ask({ op: 'consolidate' }) as Promise<ConsolidationReport>;
  }

  counts(): Promise<Record<Layer, number>> {
    return this.ref.ask({ op: 'counts' }) as Promise<Record<Layer, number>>;
  }
}
