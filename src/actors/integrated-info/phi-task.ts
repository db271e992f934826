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
  cesFromJson,
  computeConcepts,
  computeSia,
  conceptToJson,
  evaluateCutMasks,
  isTriviallyReducibleInput,
  listCuts,
  prepareSubsystem,
  type SiaOptions,
  type SiaResult,
  type SubsystemInput,
  siaOfPrepared,
  unpartitionedCes,
} from './big-phi.js';
import { candidateSubsystems } from './complex.js';
import { nodesToMask } from './partition.js';

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
  /** The cuts are worth spreading over the pool from this many concepts... */
  splitFromConcepts: number;
  /** ...or from this many concepts times cuts. */
  splitFromWork: number;
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
    splitFromWork,
  }: SiaOrCesPayload): { result: SiaResult } | { ces: ConceptJson[] } => {
    if (isTriviallyReducibleInput(input)) return { result: computeSia(input, options) };
    const sub = prepareSubsystem(input);
    const ces = unpartitionedCes(sub);
    const cutCount = listCuts(input, options).length;
    if (ces.length < splitFromConcepts && ces.length * cutCount < splitFromWork) {
      return { result: siaOfPrepared(sub, options) };
    }
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
 * This is `evaluateCuts` with the early stop: one prepared subsystem and one repertoire cache serve
 * the whole run (so repertoires are not recomputed per call), and only the best cut's partitioned
 * structure is serialised.
 */
export const cuts = defineTask(({ input, ces, cuts: list }: CutsPayload): CutBatchResult => {
  const sub = prepareSubsystem(input);
  const concepts = cesFromJson(sub, ces);
  let best: CutResult | null = null;
  for (let i = 0; i < list.length; i++) {
    const cut = list[i]!;
    const masks = { from: nodesToMask(cut.from, sub.nodes), to: nodesToMask(cut.to, sub.nodes) };
    const r = evaluateCutMasks(sub, concepts, masks);
    if (best === null || r.phi < best.phi) {
      best = {
        cut: { from: [...cut.from], to: [...cut.to] },
        phi: r.phi,
        partitionedConcepts: r.partitioned.map((c) => conceptToJson(c, r.ctx)),
      };
    }
    if (r.phi === 0) return { best, zeroAt: i, evaluated: i + 1 };
  }
  return { best, zeroAt: -1, evaluated: list.length };
});

/** Candidate subsystems for the major complex, in PyPhi's order (unreachable ones left out). */
export const candidates = defineTask(({ input }: { input: SubsystemInput }): number[][] =>
  candidateSubsystems(input),
);
