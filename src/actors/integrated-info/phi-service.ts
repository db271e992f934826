/**
 * Exact IIT 3.0 big Φ through the worker pool: `computePhi(pool, input, options)`.
 *
 * How the work is split (PyPhi 1.2 `compute/subsystem.py` does the same two phases in one process):
 * 1. the concepts of the 2^k - 1 mechanisms, in `workers` interleaved batches (one task each);
 * 2. the 2^k - 2 system cuts, in contiguous chunks taken in `listCuts` order with at most `workers`
 *    tasks in flight. A chunk stops at its first Φ = 0 cut, and chunks after it are cancelled, so
 *    the result is the one `computeSia` gives: the first cut with the strictly smallest Φ.
 * Small systems run as one task (thresholds below, measured: there a whole analysis costs less than
 * the round trips, clones and cold caches of a split). `complex: true` lists the candidate
 * subsystems in a worker, then analyses them with `workers` tasks in flight (small ones batched),
 * and picks the major complex as PyPhi's `major_complex` does.
 *
 * One deadline covers the whole computation: every task gets what is left of it, a missed deadline
 * fails the computation with JAMEY_ERR_DEADLINE_EXCEEDED and aborts the tasks still queued or running
 * (the pool terminates their threads). Nothing heavier than merging results and listing cuts runs on
 * the calling thread; validation is linear in the size of the input.
 *
 * Limits: a system is refused up front (JAMEY_ERR_VALIDATION naming `tpm` or `nodes`) when even the
 * fastest integrated network of its size measured here cannot finish within the deadline with the
 * given workers (`FLOOR_MS`); networks between that floor and the worst case (`WORST_MS`) are left to
 * the deadline. See docs/phi.md for the measurements.
 */

import { fileURLToPath } from 'node:url';
import { JameyError } from '../../runtime/errors.js';
import type { TaskPool } from '../../runtime/pool.js';
import {
  buildSiaResult,
  type ConceptJson,
  type CutJson,
  type CutResult,
  isTriviallyReducibleInput,
  listCuts,
  listMechanisms,
  mergeConcepts,
  prepareSubsystem,
  type SiaOptions,
  type SiaResult,
  type SubsystemInput,
} from './big-phi.js';
import { pickMajorComplex } from './complex.js';
import type { CutBatchResult } from './phi-task.js';
import { causallySignificantNodes, type PreparedNetwork, prepareNetwork } from './tpm.js';

const TASK_FILE = fileURLToPath(new URL('./phi-task.js', import.meta.url));

/**
 * Milliseconds, single-threaded, of the fastest integrated k-node system measured (a ring in which
 * each node copies its predecessor: few concepts, but no Φ = 0 cut ends the search), halved to leave
 * room for faster machines; 11 and 12 nodes are extrapolated (x9 per node). Index = node count.
 */
export const FLOOR_MS: readonly number[] = [
  0, 0, 0, 1, 2, 8, 12, 100, 750, 6_000, 55_000, 500_000, 4_500_000,
];

/**
 * Milliseconds, single-threaded, of the slowest k-node systems measured: fully connected networks
 * with noisy random TPMs (every mechanism a concept, every cut Φ > 0). 7 and more are extrapolated.
 */
export const WORST_MS: readonly number[] = [
  0, 0, 1, 5, 300, 4_500, 200_000, 10_000_000, 500_000_000, 2e10, 1e12, 1e14, 1e16,
];

/** The same for the cut-one approximation (2k cuts instead of 2^k - 2). */
export const CUT_ONE_WORST_MS: readonly number[] = [
  0, 0, 1, 5, 150, 1_500, 40_000, 1_000_000, 50_000_000, 2e9, 1e11, 1e13, 1e15,
];

/**
 * When `split: 'auto'` splits (measured, see docs/phi.md). Systems of fewer than
 * `SPLIT_FROM_NODES` nodes run as one task. From there, a first task computes the concepts and,
 * when there are fewer than `CUT_SPLIT_MIN_CONCEPTS` of them and fewer than `CUT_SPLIT_MIN_WORK`
 * concepts times cuts, finishes the analysis itself: the cuts then cost little next to the round
 * trips, the clones and the cold caches of a split. Otherwise the cuts are spread over the workers
 * (1.7-1.8x on 2 threads for 5-node systems with 30 concepts and 7-node ones with 10). The concepts
 * themselves are spread over the workers only for densely connected systems of
 * `CONCEPT_SPLIT_FROM_NODES` nodes or more (a cm with at least `DENSE_CM` of the possible
 * connections), which have many concepts and whose cuts are spread anyway.
 */
export const SPLIT_FROM_NODES = 5;
export const CONCEPT_SPLIT_FROM_NODES = 6;
export const CUT_SPLIT_MIN_CONCEPTS = 12;
export const CUT_SPLIT_MIN_WORK = 800;
export const DENSE_CM = 0.75;

/** Candidate subsystems of at most this many nodes are analysed in batches, not one per task. */
const SMALL_CANDIDATE_NODES = 4;
const SMALL_CANDIDATE_BATCH = 16;
/** Cut chunks per worker: enough for the early stop at a Φ = 0 cut and for load balance. */
const CUT_CHUNKS_PER_WORKER = 4;

export interface ComputePhiOptions {
  /** Find the major complex over the candidate subsystems instead of analysing `nodes`. */
  complex?: boolean | undefined;
  /** Milliseconds for the whole computation. */
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  /** Tasks in flight at most. @default pool.options.maxThreads */
  workers?: number | undefined;
  /** PyPhi's CUT_ONE_APPROXIMATION: 2k cuts; Φ is then an upper bound of the exact value. */
  cutOneApproximation?: boolean | undefined;
  /**
   * How a single subsystem is spread over the workers: 'auto' by the measured thresholds,
   * 'always' splits both phases whatever the size (tests), 'never' runs one task. @default 'auto'
   */
  split?: 'auto' | 'always' | 'never' | undefined;
}

export interface PhiOutcome extends SiaResult {
  method: 'exact' | 'cut-one';
  elapsedMs: number;
  /** Pool tasks the computation used. */
  tasks: number;
}

interface Problem {
  path: string;
  problem: string;
}

function invalid(message: string, details: Problem[]): JameyError {
  return new JameyError('JAMEY_ERR_VALIDATION', message, { details });
}

/** Estimated lower bound, in ms, of exact Φ for a k-node subsystem with `workers` threads. */
export function floorMs(k: number, workers: number): number {
  return (FLOOR_MS[k] ?? Number.POSITIVE_INFINITY) / Math.max(1, workers);
}

/** Estimated worst case, in ms, of Φ for a k-node subsystem with `workers` threads. */
export function worstMs(k: number, workers: number, cutOne = false): number {
  const table = cutOne ? CUT_ONE_WORST_MS : WORST_MS;
  return (table[k] ?? Number.POSITIVE_INFINITY) / Math.max(1, workers);
}

function binomial(n: number, r: number): number {
  let c = 1;
  for (let i = 1; i <= r; i++) c = (c * (n - i + 1)) / i;
  return c;
}

/** Lower bound for the major complex: every candidate subsystem of the k significant nodes. */
export function complexFloorMs(k: number, workers: number): number {
  let total = 0;
  for (let j = 2; j <= k; j++) total += binomial(k, j) * (FLOOR_MS[j] ?? Number.POSITIVE_INFINITY);
  return total / Math.max(1, workers);
}

/** The most nodes whose floor fits `deadlineMs` with `workers` threads (for error messages and docs). */
export function maxNodesFor(deadlineMs: number, workers: number): number {
  let k = 1;
  while (k + 1 < FLOOR_MS.length && floorMs(k + 1, workers) <= deadlineMs) k++;
  return k;
}

function refuseTooLarge(k: number, deadlineMs: number, workers: number, path: string, need: number): never {
  throw invalid(`the system is too large for the deadline`, [
    {
      path,
      problem:
        `${k} nodes need at least ~${Math.ceil(need)} ms for exact Φ with ${workers} worker(s); ` +
        `the deadline is ${deadlineMs} ms (at most ${maxNodesFor(deadlineMs, workers)} nodes fit)`,
    },
  ]);
}

/** Interleaves `items` into `n` batches (item i goes to batch i mod n): sizes and costs even out. */
function interleave<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: Math.min(n, items.length) }, () => []);
  for (let i = 0; i < items.length; i++) out[i % out.length]!.push(items[i]!);
  return out;
}

function chunk<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / Math.max(1, count));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One computation: its deadline, its abort signal, and the tasks it runs. */
class Job {
  readonly pool: TaskPool;
  readonly deadlineMs: number;
  readonly workers: number;
  readonly started = performance.now();
  readonly controller = new AbortController();
  tasks = 0;
  private readonly deadlineAt: number;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly onCallerAbort = (): void => this.controller.abort(this.callerSignal?.reason);

  constructor(pool: TaskPool, deadlineMs: number, workers: number, signal: AbortSignal | undefined) {
    this.pool = pool;
    this.deadlineMs = deadlineMs;
    this.workers = workers;
    this.deadlineAt = this.started + deadlineMs;
    this.callerSignal = signal;
    signal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  remaining(): number {
    return this.deadlineAt - performance.now();
  }

  expired(): JameyError {
    return new JameyError(
      'JAMEY_ERR_DEADLINE_EXCEEDED',
      `the Φ computation missed its deadline of ${this.deadlineMs} ms`,
      { details: { deadlineMs: this.deadlineMs } },
    );
  }

  /** Runs one task with what is left of the deadline; `signal` cancels just this task. */
  async run<T>(name: string, payload: unknown, signal?: AbortSignal): Promise<T> {
    if (this.callerSignal?.aborted) {
      throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: this.callerSignal.reason });
    }
    const left = this.remaining();
    if (left <= 0) throw this.expired();
    this.tasks++;
    try {
      return await this.pool.run<T>({ filename: TASK_FILE, name, label: `phi.${name}` }, payload, {
        deadlineMs: left,
        signal: signal ?? this.controller.signal,
      });
    } catch (err) {
      if (err instanceof JameyError && err.code === 'JAMEY_ERR_DEADLINE_EXCEEDED') throw this.expired();
      throw err;
    }
  }

  /** Ends the job: tasks still running or queued are aborted. */
  finish(): void {
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new Error('Φ computation finished'));
  }
}

/** Abort signal for one task that also follows the job's. */
function childSignal(job: Job): AbortController {
  const c = new AbortController();
  const parent = job.controller.signal;
  if (parent.aborted) c.abort(parent.reason);
  else parent.addEventListener('abort', () => c.abort(parent.reason), { once: true });
  return c;
}

/** The first failure wins; the others (aborts it caused) are swallowed. */
async function allOrAbort<T>(job: Job, promises: Promise<T>[]): Promise<T[]> {
  try {
    return await Promise.all(promises);
  } catch (err) {
    job.controller.abort(err);
    await Promise.allSettled(promises);
    throw err;
  }
}

async function siaSplit(
  job: Job,
  input: SubsystemInput,
  options: SiaOptions,
  splitConcepts: boolean,
  always: boolean,
): Promise<SiaResult> {
  let ces: ConceptJson[];
  if (always || splitConcepts) {
    const batches = interleave(listMechanisms(input), job.workers);
    const conceptBatches = await allOrAbort(
      job,
      batches.map((b) => job.run<ConceptJson[]>('concepts', { input, mechanisms: b })),
    );
    ces = mergeConcepts(conceptBatches);
  } else {
    const first = await job.run<{ result: SiaResult } | { ces: ConceptJson[] }>('siaOrCes', {
      input,
      options,
      splitFromConcepts: CUT_SPLIT_MIN_CONCEPTS,
      splitFromWork: CUT_SPLIT_MIN_WORK,
    });
    if ('result' in first) return first.result;
    ces = first.ces;
  }
  if (ces.length === 0) return buildSiaResult(input, ces, []);
  const cutList = listCuts(input, options);
  const splitCuts =
    always || ces.length >= CUT_SPLIT_MIN_CONCEPTS || ces.length * cutList.length >= CUT_SPLIT_MIN_WORK;
  const chunks = splitCuts ? chunk(cutList, job.workers * CUT_CHUNKS_PER_WORKER) : [cutList];
  const results: (CutBatchResult | undefined)[] = new Array(chunks.length);
  const controllers: (AbortController | undefined)[] = new Array(chunks.length);
  /** Index of the first chunk known to end at a Φ = 0 cut: later chunks are not needed. */
  let stopAt = chunks.length;
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < stopAt) {
      const i = next++;
      const c = childSignal(job);
      controllers[i] = c;
      try {
        const r = await job.run<CutBatchResult>('cuts', { input, ces, cuts: chunks[i] }, c.signal);
        results[i] = r;
        if (r.zeroAt >= 0 && i < stopAt) {
          stopAt = i;
          for (let j = i + 1; j < chunks.length; j++) controllers[j]?.abort(new Error('not needed'));
        }
      } catch (err) {
        // A chunk cancelled because an earlier one reached Φ = 0 is not a failure.
        if (i > stopAt) continue;
        if (failure === undefined) failure = err;
        job.controller.abort(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.workers, chunks.length) }, worker));
  if (failure !== undefined) throw failure;
  const ordered: CutResult[] = [];
  for (let i = 0; i <= Math.min(stopAt, chunks.length - 1); i++) {
    const best = results[i]?.best;
    if (best) ordered.push(best);
  }
  return buildSiaResult(input, ces, ordered);
}

async function majorComplexSplit(job: Job, input: SubsystemInput, options: SiaOptions): Promise<SiaResult> {
  const network: SubsystemInput = { tpm: input.tpm, cm: input.cm, state: input.state };
  const subsystems = await job.run<number[][]>('candidates', { input: network });
  // Units of work in PyPhi's order: big candidates alone, runs of small ones together.
  const units: number[][][] = [];
  for (const nodes of subsystems) {
    const last = units[units.length - 1];
    if (
      nodes.length <= SMALL_CANDIDATE_NODES &&
      last !== undefined &&
      last[0]!.length <= SMALL_CANDIDATE_NODES &&
      last.length < SMALL_CANDIDATE_BATCH
    ) {
      last.push(nodes);
    } else {
      units.push([nodes]);
    }
  }
  const results: SiaResult[][] = new Array(units.length);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < units.length) {
      const i = next++;
      try {
        results[i] = await job.run<SiaResult[]>('siaBatch', {
          input: network,
          subsystems: units[i],
          options,
        });
      } catch (err) {
        if (failure === undefined) failure = err;
        job.controller.abort(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.workers, units.length) }, worker));
  if (failure !== undefined) throw failure;
  return pickMajorComplex(results.flat());
}

/** Whether the subsystem's connectivity has at least DENSE_CM of the possible connections. */
function isDense(net: PreparedNetwork, input: SubsystemInput): boolean {
  const nodes =
    input.nodes === undefined ? Array.from({ length: net.size }, (_, i) => i) : [...new Set(input.nodes)];
  let edges = 0;
  for (const i of nodes) for (const j of nodes) edges += net.cm[i * net.size + j]!;
  return edges >= DENSE_CM * nodes.length * nodes.length;
}

function checkOptions(options: ComputePhiOptions, pool: TaskPool): { workers: number; deadlineMs: number } {
  const { deadlineMs } = options;
  if (typeof deadlineMs !== 'number' || !(deadlineMs > 0)) {
    throw invalid('invalid deadline', [{ path: 'deadlineMs', problem: 'must be a positive number of ms' }]);
  }
  const workers = options.workers ?? pool.options.maxThreads;
  if (!Number.isInteger(workers) || workers < 1) {
    throw invalid('invalid workers', [{ path: 'workers', problem: 'must be a positive integer' }]);
  }
  if (options.split !== undefined && !['auto', 'always', 'never'].includes(options.split)) {
    throw invalid('invalid split', [{ path: 'split', problem: "must be 'auto', 'always' or 'never'" }]);
  }
  return { workers, deadlineMs };
}

/**
 * Big Φ of `input` (or its major complex with `complex: true`) computed in the pool. Throws
 * JAMEY_ERR_VALIDATION (malformed input, or too large for the deadline), JAMEY_ERR_STATE_UNREACHABLE,
 * JAMEY_ERR_DEADLINE_EXCEEDED, JAMEY_ERR_ABORTED or the pool's codes.
 */
export async function computePhi(
  pool: TaskPool,
  input: SubsystemInput,
  options: ComputePhiOptions,
): Promise<PhiOutcome> {
  const { workers, deadlineMs } = checkOptions(options, pool);
  const cutOne = options.cutOneApproximation === true;
  const siaOptions: SiaOptions = cutOne ? { cutOneApproximation: true } : {};
  const method = cutOne ? 'cut-one' : 'exact';
  if (typeof input !== 'object' || input === null) {
    throw invalid('invalid input', [{ path: '', problem: 'must be an object with tpm and state' }]);
  }
  // Validation on this thread is linear in the input; everything exponential happens in workers.
  const net: PreparedNetwork = prepareNetwork(input);
  let k: number;
  if (options.complex === true) {
    if (input.nodes !== undefined) {
      throw invalid('nodes cannot be combined with complex', [
        { path: 'nodes', problem: 'the major complex is searched over the whole network; omit nodes' },
      ]);
    }
    k = causallySignificantNodes(net).length;
    const need = complexFloorMs(k, workers);
    if (need > deadlineMs) refuseTooLarge(k, deadlineMs, workers, 'tpm', need);
  } else {
    k = prepareSubsystem(input, net).nodes.length;
    const need = floorMs(k, workers);
    if (need > deadlineMs)
      refuseTooLarge(k, deadlineMs, workers, input.nodes === undefined ? 'tpm' : 'nodes', need);
  }

  const job = new Job(pool, deadlineMs, workers, options.signal);
  try {
    let result: SiaResult;
    if (options.complex === true) {
      result = await majorComplexSplit(job, input, siaOptions);
    } else if (isTriviallyReducibleInput(input)) {
      result = buildSiaResult(input, [], []);
    } else {
      const split = options.split ?? 'auto';
      result =
        split === 'always' || (split === 'auto' && workers > 1 && k >= SPLIT_FROM_NODES)
          ? await siaSplit(
              job,
              input,
              siaOptions,
              k >= CONCEPT_SPLIT_FROM_NODES && isDense(net, input),
              split === 'always',
            )
          : await job.run<SiaResult>('sia', { input, options: siaOptions });
    }
    if (job.remaining() < 0) throw job.expired();
    return { ...result, method, elapsedMs: performance.now() - job.started, tasks: job.tasks };
  } finally {
    job.finish();
  }
}

export type { CutJson };
