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
import { lexicallyCompatible } from './dedup.js';
import type { EmbeddingProvider } from './embedding/provider.js';
import { loadWordVectors } from './embedding/word-vectors.js';
import {
  DEFAULT_RANK_WEIGHTS,
  ftsQuery,
  type RankWeights,
  reciprocalRankFusion,
  weightedScore,
} from './rank.js';
import { type InsertArgs, MemoryQueries, withoutEmbedding } from './repository.js';
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
  type IndexBuffers,
  layerMask,
  type ScanFilter,
  type ScanResult,
  searchIndex,
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

const SCAN_TASK = fileURLToPath(new URL('./vector-scan-task.js', import.meta.url));
const FTS_TASK = fileURLToPath(new URL('./fts-task.js', import.meta.url));

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
    else if (JSON.stringify(metadata).length > 16_384)
      problems.push({ path: '/metadata', problem: 'must be at most 16384 bytes as JSON' });
  }
  if (problems.length > 0) fail(problems);
  return input as StoreInput;
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

function bestScore(results: ScanResult[], heads: number[], p: number): number {
  return (results[p] as ScanResult).scores[heads[p] as number] as number;
}

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

  constructor(deps: MemoryDeps) {
    this.deps = deps;
    this.options = { ...DEFAULT_MEMORY_OPTIONS, ...deps.options };
    this.queries = new MemoryQueries(deps.store.reader);
    this.index = new VectorIndex(deps.embedder.dimensions);
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
   * Two-stage vector search on the shared index (vector-index.ts). A search for one entity visits
   * only that entity's rows. Up to `poolScanThreshold` visited rows it runs here; past that, in the
   * worker pool (split in `scanPartitionRows` parts across its threads), so the event loop never
   * waits on a long scan. Similarities are
   * the int8 re-scored cosines.
   */
  private async vectorCandidates(
    embedding: Float32Array,
    filter: ScanFilter,
    limit: number,
  ): Promise<Array<{ seq: number; similarity: number }>> {
    const index = this.index;
    const count = index.count;
    if (count === 0) return [];
    const rows = filter.entity === ANY_ENTITY ? { list: null, length: count } : index.rowsOf(filter.entity);
    if (rows.length === 0) return [];
    const query = index.project(embedding);
    const coarseK = Math.max(limit, this.options.rerank);
    const found = await this.search(index.shared, query, embedding, filter, rows, coarseK, limit);
    const out = new Array<{ seq: number; similarity: number }>(found.rows.length);
    for (let i = 0; i < out.length; i++)
      out[i] = { seq: index.seqOfRow(found.rows[i] as number), similarity: found.scores[i] as number };
    return out;
  }

  private async search(
    buffers: IndexBuffers,
    query: Float32Array,
    fullQuery: Float32Array,
    filter: ScanFilter,
    rows: { list: SharedArrayBuffer | null; length: number },
    coarseK: number,
    k: number,
  ): Promise<ScanResult> {
    const pool = this.deps.pool;
    const n = rows.length;
    if (pool === undefined || n <= this.options.poolScanThreshold) {
      return searchIndex(
        buffers,
        query,
        fullQuery,
        filter,
        { list: rows.list, start: 0, end: n },
        coarseK,
        k,
      );
    }
    // Split only scans long enough to gain from it: every task also costs a round trip and a core.
    const parts = Math.max(
      1,
      Math.min(pool.options.maxThreads, Math.ceil(n / this.options.scanPartitionRows)),
    );
    const size = Math.ceil(n / parts);
    const results = await Promise.all(
      Array.from({ length: parts }, (_, p) =>
        pool.run<ScanResult>(
          { filename: SCAN_TASK, name: 'scan', label: 'memory.scan' },
          {
            buffers,
            query,
            fullQuery,
            filter,
            range: { list: rows.list, start: p * size, end: Math.min(n, (p + 1) * size) },
            coarseK,
            k,
          },
        ),
      ),
    );
    // Merge the partitions' best-k lists (each sorted, best first).
    const heads = new Array<number>(results.length).fill(0);
    const out: ScanResult = { rows: [], scores: [] };
    while (out.rows.length < k) {
      let best = -1;
      for (let p = 0; p < results.length; p++) {
        const r = results[p] as ScanResult;
        const h = heads[p] as number;
        if (h < r.rows.length && (best < 0 || (r.scores[h] as number) > bestScore(results, heads, best)))
          best = p;
      }
      if (best < 0) break;
      const r = results[best] as ScanResult;
      const h = heads[best] as number;
      out.rows.push(r.rows[h] as number);
      out.scores.push(r.scores[h] as number);
      heads[best] = h + 1;
    }
    return out;
  }

  /**
   * FTS5 candidates: on the main thread for small databases, in a worker with its own read-only
   * connection for large ones (a BM25 query over long posting lists can take tens of milliseconds).
   */
  private async fullText(
    match: string,
    entityId: string | null,
    now: number,
    limit: number,
  ): Promise<number[]> {
    const pool = this.deps.pool;
    if (pool === undefined || this.index.count <= this.options.ftsPoolThreshold) {
      return this.queries.fullTextFiltered(match, entityId, now, limit);
    }
    return pool.run<number[]>(
      { filename: FTS_TASK, name: 'fullText', label: 'memory.fts' },
      { file: this.deps.store.file, match, entityId, now, limit },
    );
  }

  async recall(raw: RecallInput): Promise<RecallHit[]> {
    const input = validateRecallInput(raw);
    const now = this.now();
    const limit = input.limit ?? 5;
    const entity = input.entityId === undefined ? ANY_ENTITY : this.index.entityCode(input.entityId);
    const mask = layerMask(input.layers);
    const embedding = await this.embed(input.query);
    const match = ftsQuery(input.query, { frequencyRank: this.frequencyRank });
    const [vector, text] = await Promise.all([
      this.vectorCandidates(embedding, { entity, layerMask: mask, now }, this.options.candidates),
      match.length === 0
        ? Promise.resolve([])
        : this.fullText(match, input.entityId ?? null, now, this.options.candidates),
    ]);
    const layers = new Set(input.layers ?? LAYERS);
    const fused = reciprocalRankFusion(
      [vector.map((v) => v.seq), text],
      [this.options.rank.vector, this.options.rank.text],
    );
    // The salience and recency priors move a score by at most (1 + wS)(1 + wR), so only the best
    // fused candidates can reach the top `limit`: look those up, not all of them.
    const shortlist = [...fused].sort((a, b) => b[1] - a[1]).slice(0, Math.max(20, limit * 4));
    const hits: Array<RecallHit & { seq: number }> = [];
    for (const [seq, rrf] of shortlist) {
      const m = this.queries.hitBySeq(seq);
      if (m === undefined) {
        this.index.remove(seq); // pruned behind our back: heal the index
        continue;
      }
      if ((m.expiresAt !== null && m.expiresAt <= now) || !layers.has(m.layer)) continue;
      hits.push({
        seq,
        id: m.id,
        content: m.content,
        layer: m.layer,
        entityId: m.entityId,
        score: weightedScore(rrf, m.salience, m.lastAccessedAt, now, this.options.rank),
        salience: m.salience,
        createdAt: m.createdAt,
        lastAccessedAt: m.lastAccessedAt,
      });
    }
    hits.sort((a, b) => b.score - a.score);
    const top = hits.slice(0, limit);
    if (top.length > 0) {
      // Rehearsal: recalled memories count an access. Not awaited: recall does not wait on a write.
      this.deps.store.write('memory.touch', { ids: top.map((h) => h.id), at: now }).catch(() => undefined);
    }
    return top.map(({ seq: _s, ...hit }) => ({ ...hit, score: Math.round(hit.score * 1e6) / 1e6 }));
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
