/**
 * System integrated information (big Phi) of a subsystem: the system irreducibility analysis.
 *
 * Source: Oizumi et al. 2014 (IIT 3.0), "Integrated conceptual information Phi" (unidirectional
 * system partitions, minimum over cuts of the extended EMD between the cause-effect structures);
 * PyPhi 1.2 `compute/subsystem.py` `_sia`, `evaluate_cut`, `sia_bipartitions`,
 * `ComputeSystemIrreducibility` (first cut with the strictly smallest Phi wins; stop at Phi = 0),
 * and the degenerate cases (empty, not strongly connected, single node: Phi = 0).
 *
 * Work units for a worker pool (all inputs and outputs are plain data):
 * - `computeConcepts(input, mechanisms?, cut?)`: concepts of a batch of mechanisms;
 * - `evaluateCuts(input, ces, cuts)`: Phi of a batch of system cuts given the unpartitioned CES;
 * - `mergeCutResults` / `buildSiaResult`: combine the pieces exactly as `computeSia` does.
 * `computeSia(input)` runs everything in one call.
 */

import { JameyError } from '../../runtime/errors.js';
import { ConceptSpace, mechanismOrder } from './ces.js';
import { type ConceptData, ConceptEngine, type Mice, MipMemo } from './concept.js';
import {
  type CutMasks,
  cutMechanisms,
  cutOneCuts,
  maskToNodes,
  nodesToMask,
  powersetMasks,
  systemCuts,
} from './partition.js';
import { SubsystemContext } from './repertoire.js';
import {
  conditionTpm,
  isStateReachable,
  isStronglyConnected,
  type NetworkInput,
  type PreparedNetwork,
  prepareNetwork,
} from './tpm.js';

/** A network, its state and the subsystem to analyse (all nodes when `nodes` is omitted). */
export interface SubsystemInput extends NetworkInput {
  nodes?: readonly number[] | undefined;
}

export interface SiaOptions {
  /**
   * Evaluate only the 2k cuts that isolate the inputs or the outputs of one node (PyPhi
   * `CUT_ONE_APPROXIMATION`) instead of all 2^k - 2 unidirectional bipartitions. Phi is then an
   * upper bound of the exact value.
   */
  cutOneApproximation?: boolean | undefined;
}

/** Global node indices; connections from `from` to `to` are severed. */
export interface CutJson {
  from: number[];
  to: number[];
}

export interface MiceJson {
  /** Global node indices of the purview (sorted). */
  purview: number[];
  /** Repertoire over the purview, little-endian over the sorted purview (PyPhi `flatten`). */
  repertoire: number[];
  phi: number;
}

export interface ConceptJson {
  mechanism: number[];
  phi: number;
  cause: MiceJson;
  effect: MiceJson;
}

/**
 * Result of `computeSia` / `majorComplex`:
 * `{ phi, cut: {from, to} | null, concepts, nodes, partitionedConcepts }`.
 * `phi` and every concept/MICE `phi` are rounded to 6 decimal places as PyPhi does; `cut` is the
 * minimum-information system cut (null when Phi is trivially 0); `concepts` is the unpartitioned
 * cause-effect structure ordered by mechanism size then indices; `partitionedConcepts` is the
 * cause-effect structure under `cut`.
 */
export interface SiaResult {
  phi: number;
  cut: CutJson | null;
  concepts: ConceptJson[];
  nodes: number[];
  partitionedConcepts: ConceptJson[];
}

export interface CutResult {
  cut: CutJson;
  phi: number;
  partitionedConcepts: ConceptJson[];
}

/** A prepared subsystem: validated network, node list, uncut context and shared memo. */
export interface PreparedSubsystem {
  net: PreparedNetwork;
  nodes: number[];
  ctx: SubsystemContext;
  engine: ConceptEngine;
  space: ConceptSpace;
}

function normaliseNodes(net: PreparedNetwork, nodes: readonly number[] | undefined): number[] {
  if (nodes === undefined) return Array.from({ length: net.size }, (_, i) => i);
  if (!Array.isArray(nodes)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'Invalid subsystem', {
      details: [{ path: 'nodes', problem: 'must be an array of node indices' }],
    });
  }
  const problems: { path: string; problem: string }[] = [];
  nodes.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= net.size) {
      problems.push({ path: `nodes[${i}]`, problem: `must be an integer in [0, ${net.size - 1}]` });
    }
  });
  if (problems.length > 0)
    throw new JameyError('JAMEY_ERR_VALIDATION', 'Invalid subsystem', { details: problems });
  return [...new Set(nodes)].sort((a, b) => a - b);
}

/**
 * Validates the input and builds the subsystem (PyPhi `Subsystem.__init__`): throws
 * `JAMEY_ERR_VALIDATION` on malformed input and `JAMEY_ERR_STATE_UNREACHABLE` when the state
 * cannot be reached (PyPhi `validate.state_reachable`).
 */
export function prepareSubsystem(input: SubsystemInput, net?: PreparedNetwork): PreparedSubsystem {
  const prepared = net ?? prepareNetwork(input);
  const nodes = normaliseNodes(prepared, input.nodes);
  const conditioned = conditionTpm(prepared, nodes);
  if (nodes.length > 0 && !isStateReachable(prepared, nodes, conditioned)) {
    throw new JameyError(
      'JAMEY_ERR_STATE_UNREACHABLE',
      `State ${JSON.stringify(Array.from(prepared.state))} cannot be reached for nodes ${JSON.stringify(nodes)}`,
      {
        details: [
          { path: 'state', problem: 'no previous state leads to this state with non-zero probability' },
        ],
      },
    );
  }
  const ctx = new SubsystemContext(prepared, nodes, null, conditioned);
  const engine = new ConceptEngine(ctx);
  return { net: prepared, nodes, ctx, engine, space: new ConceptSpace(ctx) };
}

function repertoireToArray(r: Float64Array): number[] {
  return Array.from(r);
}

function miceToJson(m: Mice, ctx: SubsystemContext): MiceJson {
  const purview = maskToNodes(m.purview, ctx.nodes);
  let repertoire: number[];
  if (m.direction === 'cause') {
    repertoire = repertoireToArray(m.repertoire);
  } else {
    // Joint product distribution from the per-node ON probabilities.
    const q = m.repertoire;
    const size = 1 << q.length;
    const joint = new Float64Array(size).fill(1);
    for (let o = 0; o < q.length; o++) {
      const p = q[o]!;
      for (let i = 0; i < size; i++) joint[i] = joint[i]! * ((i >> o) & 1 ? p : 1 - p);
    }
    repertoire = repertoireToArray(joint);
  }
  return { purview, repertoire, phi: m.phi };
}

export function conceptToJson(c: ConceptData, ctx: SubsystemContext): ConceptJson {
  return {
    mechanism: maskToNodes(c.mechanism, ctx.nodes),
    phi: c.phi,
    cause: miceToJson(c.cause, ctx),
    effect: miceToJson(c.effect, ctx),
  };
}

function cutToJson(cut: CutMasks, nodes: readonly number[]): CutJson {
  return { from: maskToNodes(cut.from, nodes), to: maskToNodes(cut.to, nodes) };
}

/** PyPhi `compute.ces`: concepts with phi > 0 of the given mechanisms (all by default), sorted. */
function cesOf(engine: ConceptEngine, mechanisms: Iterable<number>): ConceptData[] {
  const out: ConceptData[] = [];
  for (const m of mechanisms) {
    const c = engine.concept(m, false);
    if (c.phi > 0) out.push(c);
  }
  out.sort((a, b) => mechanismOrder(a.mechanism, b.mechanism));
  return out;
}

/** The unpartitioned cause-effect structure of a prepared subsystem. */
export function unpartitionedCes(sub: PreparedSubsystem): ConceptData[] {
  return cesOf(sub.engine, powersetMasks(sub.ctx.k));
}

/** PyPhi `evaluate_cut`: Phi of one cut and the partitioned cause-effect structure. */
export function evaluateCutMasks(
  sub: PreparedSubsystem,
  ces: readonly ConceptData[],
  cut: CutMasks,
): { phi: number; partitioned: ConceptData[]; ctx: SubsystemContext } {
  const ctx = new SubsystemContext(sub.net, sub.nodes, cut, sub.ctx.conditioned);
  const engine = new ConceptEngine(ctx, sub.engine.memo);
  const mechanisms = new Set<number>(ces.map((c) => c.mechanism));
  for (const m of cutMechanisms(cut, sub.ctx.k)) mechanisms.add(m);
  const partitioned = cesOf(engine, mechanisms);
  const phi = sub.space.cesDistance(ces, partitioned);
  return { phi, partitioned, ctx };
}

/** Trivially reducible subsystems (PyPhi `_sia` degenerate cases). */
function isTriviallyReducible(sub: PreparedSubsystem): boolean {
  const { nodes, net } = sub;
  if (nodes.length === 0) return true;
  if (!isStronglyConnected(net.cm, net.size, nodes)) return true;
  // SINGLE_MICRO_NODES_WITH_SELFLOOPS_HAVE_PHI = False: a single node never has Phi.
  if (nodes.length === 1) return true;
  return false;
}

function nullResult(nodes: number[]): SiaResult {
  return { phi: 0, cut: null, concepts: [], nodes, partitionedConcepts: [] };
}

function cutsFor(k: number, options: SiaOptions | undefined): CutMasks[] {
  return options?.cutOneApproximation ? cutOneCuts(k) : systemCuts(k);
}

/** Big Phi of a prepared subsystem (PyPhi `compute.sia`). */
export function siaOfPrepared(sub: PreparedSubsystem, options?: SiaOptions): SiaResult {
  if (isTriviallyReducible(sub)) return nullResult(sub.nodes);
  const ces = unpartitionedCes(sub);
  if (ces.length === 0) return nullResult(sub.nodes);
  let bestPhi = Number.POSITIVE_INFINITY;
  let bestCut: CutMasks | null = null;
  let bestPartitioned: ConceptData[] = [];
  let bestCtx: SubsystemContext = sub.ctx;
  for (const cut of cutsFor(sub.ctx.k, options)) {
    const r = evaluateCutMasks(sub, ces, cut);
    if (r.phi === 0 || r.phi < bestPhi) {
      bestPhi = r.phi;
      bestCut = cut;
      bestPartitioned = r.partitioned;
      bestCtx = r.ctx;
      if (r.phi === 0) break;
    }
  }
  return {
    phi: bestPhi,
    cut: bestCut === null ? null : cutToJson(bestCut, sub.nodes),
    concepts: ces.map((c) => conceptToJson(c, sub.ctx)),
    nodes: sub.nodes,
    partitionedConcepts: bestPartitioned.map((c) => conceptToJson(c, bestCtx)),
  };
}

/** Big Phi of a subsystem in one call (PyPhi `compute.sia`). */
export function computeSia(input: SubsystemInput, options?: SiaOptions): SiaResult {
  return siaOfPrepared(prepareSubsystem(input), options);
}

/** Alias of `computeSia`. */
export const bigPhi = computeSia;

// ---------------------------------------------------------------------------------------------
// Separable work units
// ---------------------------------------------------------------------------------------------

/** Mechanisms (global node lists) of a subsystem in PyPhi's powerset order, for batching. */
export function listMechanisms(input: SubsystemInput): number[][] {
  const net = prepareNetwork(input);
  const nodes = normaliseNodes(net, input.nodes);
  return Array.from(powersetMasks(nodes.length), (m) => maskToNodes(m, nodes));
}

/** The system cuts `computeSia` evaluates, in order, for batching. */
export function listCuts(input: SubsystemInput, options?: SiaOptions): CutJson[] {
  const net = prepareNetwork(input);
  const nodes = normaliseNodes(net, input.nodes);
  if (nodes.length < 2) return [];
  return cutsFor(nodes.length, options).map((c) => cutToJson(c, nodes));
}

/**
 * Work unit (a): the concepts of a batch of mechanisms (default: all), optionally under a cut.
 * Returns one entry per mechanism, including those with phi = 0 (whose cause side may then be a
 * null MICE with an empty purview); `mergeConcepts` keeps the ones with phi > 0 in CES order.
 */
export function computeConcepts(
  input: SubsystemInput,
  mechanisms?: readonly (readonly number[])[],
  cut?: CutJson,
): ConceptJson[] {
  const sub = prepareSubsystem(input);
  const masks =
    mechanisms === undefined
      ? Array.from(powersetMasks(sub.ctx.k))
      : mechanisms.map((m) => nodesToMask(m, sub.nodes));
  let engine = sub.engine;
  let ctx = sub.ctx;
  if (cut !== undefined) {
    const masksCut = { from: nodesToMask(cut.from, sub.nodes), to: nodesToMask(cut.to, sub.nodes) };
    ctx = new SubsystemContext(sub.net, sub.nodes, masksCut, sub.ctx.conditioned);
    engine = new ConceptEngine(ctx, sub.engine.memo);
  }
  return masks.map((m) => conceptToJson(engine.concept(m, false), ctx));
}

function mechKey(m: readonly number[]): string {
  return m.join(',');
}

/** Merge concept batches into the cause-effect structure (phi > 0, PyPhi order). */
export function mergeConcepts(batches: readonly (readonly ConceptJson[])[]): ConceptJson[] {
  const all = batches.flat().filter((c) => c.phi > 0);
  all.sort((a, b) => {
    if (a.mechanism.length !== b.mechanism.length) return a.mechanism.length - b.mechanism.length;
    for (let i = 0; i < a.mechanism.length; i++) {
      if (a.mechanism[i] !== b.mechanism[i]) return a.mechanism[i]! - b.mechanism[i]!;
    }
    return 0;
  });
  const seen = new Set<string>();
  return all.filter((c) => {
    const key = mechKey(c.mechanism);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Rebuild the unpartitioned CES from its JSON form. Repertoires are recomputed from the network
 * (bit-for-bit what `computeSia` computes), and the uncut MICE are registered as PyPhi's MICE
 * cache so cut evaluation reuses them exactly as in the one-call path.
 */
export function cesFromJson(sub: PreparedSubsystem, ces: readonly ConceptJson[]): ConceptData[] {
  const out: ConceptData[] = [];
  for (const c of ces) {
    const mechanism = nodesToMask(c.mechanism, sub.nodes);
    const cp = nodesToMask(c.cause.purview, sub.nodes);
    const ep = nodesToMask(c.effect.purview, sub.nodes);
    const cause: Mice = {
      direction: 'cause',
      purview: cp,
      phi: c.cause.phi,
      repertoire: sub.ctx.causeRepertoire(mechanism, cp),
    };
    const effect: Mice = {
      direction: 'effect',
      purview: ep,
      phi: c.effect.phi,
      repertoire: sub.engine.effectQ(mechanism, ep),
    };
    sub.engine.memo.causeMice.set(mechanism, cause);
    sub.engine.memo.effectMice.set(mechanism, effect);
    out.push({ mechanism, phi: c.phi, cause, effect });
  }
  out.sort((a, b) => mechanismOrder(a.mechanism, b.mechanism));
  return out;
}

/** Work unit (b): Phi of a batch of system cuts, given the unpartitioned CES (e.g. from `mergeConcepts`). */
export function evaluateCuts(
  input: SubsystemInput,
  ces: readonly ConceptJson[],
  cuts: readonly CutJson[],
): CutResult[] {
  const sub = prepareSubsystem(input);
  const concepts = cesFromJson(sub, ces);
  return cuts.map((cut) => {
    const masks = { from: nodesToMask(cut.from, sub.nodes), to: nodesToMask(cut.to, sub.nodes) };
    const r = evaluateCutMasks(sub, concepts, masks);
    return {
      cut: { from: [...cut.from], to: [...cut.to] },
      phi: r.phi,
      partitionedConcepts: r.partitioned.map((c) => conceptToJson(c, r.ctx)),
    };
  });
}

/**
 * Combine the work units into the `computeSia` result: the cut results must be given in
 * `listCuts` order (a prefix ending at a Phi = 0 cut is enough, as `computeSia` stops there).
 */
export function buildSiaResult(
  input: SubsystemInput,
  ces: readonly ConceptJson[],
  cutResults: readonly CutResult[],
): SiaResult {
  const sub = prepareSubsystem(input);
  if (isTriviallyReducible(sub) || ces.length === 0) return nullResult(sub.nodes);
  let best: CutResult | null = null;
  for (const r of cutResults) {
    if (best === null || r.phi < best.phi) best = r;
    if (r.phi === 0) break;
  }
  if (best === null) return nullResult(sub.nodes);
  return {
    phi: best.phi,
    cut: best.cut,
    concepts: [...ces],
    nodes: sub.nodes,
    partitionedConcepts: best.partitionedConcepts,
  };
}

/** Whether `computeSia` would return Phi = 0 without computing anything (for pool scheduling). */
export function isTriviallyReducibleInput(input: SubsystemInput): boolean {
  return isTriviallyReducible(prepareSubsystem(input));
}

export { MipMemo };
