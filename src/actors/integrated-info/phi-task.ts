/**
 * Worker module of the Φ service: each export is one pool task over plain data, wrapped with
 * `defineTask` so that coded errors (validation, unreachable state) come back as data.
 *
 * A pool round trip costs about 0.1 ms plus the structured clone of the payload, while a single
 * concept or cut of a 3-node system costs a few microseconds: every task therefore takes a batch of
 * work units (mechanisms, cuts, candidate subsystems) and the service sizes the batches.
 */

import { defineTask } from '../../runtime/worker-task.js';
import {
  type ConceptJson,
  type CutJson,
  type CutResult,
  computeConcepts,
  computeSia,
  conceptToJson,
  evaluateCuts,
  isTriviallyReducibleInput,
  prepareSubsystem,
  type SiaOptions,
  type SiaResult,
  type SubsystemInput,
  siaOfPrepared,
  unpartitionedCes,
} from './big-phi.js';
import { candidateSubsystems } from './complex.js';

export interface SiaPayload {
  input: SubsystemInput;
  options?: SiaOptions;
}

export interface SiaBatchPayload {
  /** The network once; each entry of `subsystems` is a node list analysed in it. */
  input: SubsystemInput;
  subsystems: number[][];
  options?: SiaOptions;
}

export interface ConceptsPayload {
  input: SubsystemInput;
  mechanisms: number[][];
}

export interface CutsPayload {
  input: SubsystemInput;
  ces: ConceptJson[];
  cuts: CutJson[];
}

/**
 * The outcome of a contiguous run of cuts: the first cut with the strictly smallest Φ (what
 * `computeSia` keeps) and whether a Φ = 0 cut ended the run early.
 */
export interface CutBatchResult {
  best: CutResult | null;
  /** Index in the batch of the Φ = 0 cut that stopped the run, or -1. */
  zeroAt: number;
  evaluated: number;
}

/** Whole system irreducibility analysis of one subsystem (small systems, one worker). */
export const sia = defineTask(({ input, options }: SiaPayload): SiaResult => computeSia(input, options));

export interface SiaOrCesPayload {
  input: SubsystemInput;
  options?: SiaOptions;
  /** From this many concepts on, the cuts are worth spreading over the pool. */
  splitFromConcepts: number;
}

/**
 * The unpartitioned cause-effect structure, and then either the whole analysis in this worker (few
 * concepts: the cuts are cheap and reuse this worker's caches) or the structure itself, for the
 * caller to spread the cuts over the pool. Saves a round trip and a cold cache when splitting would
 * not pay, which is known only once the concepts are.
 */
export const siaOrCes = defineTask(
  ({
    input,
    options,
    splitFromConcepts,
  }: SiaOrCesPayload): { result: SiaResult } | { ces: ConceptJson[] } => {
    if (isTriviallyReducibleInput(input)) return { result: computeSia(input, options) };
    const sub = prepareSubsystem(input);
    const ces = unpartitionedCes(sub);
    if (ces.length < splitFromConcepts) return { result: siaOfPrepared(sub, options) };
    return { ces: ces.map((c) => conceptToJson(c, sub.ctx)) };
  },
);

/** Analyses of a batch of candidate subsystems of one network (major complex). */
export const siaBatch = defineTask(({ input, subsystems, options }: SiaBatchPayload): SiaResult[] =>
  subsystems.map((nodes) => computeSia({ ...input, nodes }, options)),
);

/** Concepts of a batch of mechanisms; only those with φ > 0 travel back. */
export const concepts = defineTask(({ input, mechanisms }: ConceptsPayload): ConceptJson[] =>
  computeConcepts(input, mechanisms).filter((c) => c.phi > 0),
);

/**
 * Φ of a contiguous run of cuts, in order, stopping at the first Φ = 0 cut as `computeSia` does.
 * Cuts are evaluated in small groups so that the early stop costs at most one group, while the
 * per-call set-up (`evaluateCuts` rebuilds the subsystem and the uncut CES) stays amortised.
 */
export const cuts = defineTask(({ input, ces, cuts: list }: CutsPayload): CutBatchResult => {
  let best: CutResult | null = null;
  let evaluated = 0;
  const group = list.length;
  for (let start = 0; start < list.length; start += group) {
    const results = evaluateCuts(input, ces, list.slice(start, start + group));
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      evaluated++;
      if (best === null || r.phi < best.phi) best = r;
      if (r.phi === 0) return { best: r, zeroAt: start + i, evaluated };
    }
  }
  return { best, zeroAt: -1, evaluated };
});

/** Candidate subsystems for the major complex, in PyPhi's order (unreachable ones left out). */
export const candidates = defineTask(({ input }: { input: SubsystemInput }): number[][] =>
  candidateSubsystems(input),
);
