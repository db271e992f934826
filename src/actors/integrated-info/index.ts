/**
 * Exact IIT 3.0 big Phi (Oizumi, Albantakis & Tononi 2014), matching PyPhi 1.2 with its default
 * configuration. Pure functions over plain data: safe to run in a worker thread.
 *
 * One call: `computeSia` (alias `bigPhi`) for a subsystem, `majorComplex` for a network.
 * Work units for a pool: `computeConcepts` (batch of mechanisms, optionally under a cut) +
 * `mergeConcepts`, then `evaluateCuts` (batch of cuts) + `buildSiaResult`; `candidateSubsystems`
 * + `computeSia` + `pickMajorComplex` for complexes.
 */

export type {
  ConceptJson,
  CutJson,
  CutResult,
  MiceJson,
  SiaOptions,
  SiaResult,
  SubsystemInput,
} from './big-phi.js';
export {
  bigPhi,
  buildSiaResult,
  computeConcepts,
  computeSia,
  evaluateCuts,
  isTriviallyReducibleInput,
  listCuts,
  listMechanisms,
  mergeConcepts,
} from './big-phi.js';
export { candidateSubsystems, complexes, majorComplex, pickMajorComplex } from './complex.js';
export { hammingEmd, round6, transportCost } from './emd.js';
export { causeRepertoire, effectRepertoire, smallPhi } from './queries.js';
export type { NetworkInput } from './tpm.js';
export { MAX_NODES, prepareNetwork } from './tpm.js';
