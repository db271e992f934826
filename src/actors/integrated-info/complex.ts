/**
 * Major complex: the subsystem with maximal big Phi.
 *
 * Source: Oizumi et al. 2014 (IIT 3.0), "Complexes"; PyPhi 1.2 `compute/network.py`
 * `possible_complexes` (subsets of the causally significant nodes, largest first, skipping
 * subsystems whose state is unreachable), `complexes` (Phi > 0) and `major_complex` (max by
 * (Phi, size, node indices); an empty subsystem with Phi = 0 when there is none).
 */

import { isJameyError } from '../../runtime/errors.js';
import {
  type PreparedSubsystem,
  prepareSubsystem,
  type SiaOptions,
  type SiaResult,
  type SubsystemInput,
  siaOfPrepared,
} from './big-phi.js';
import { causallySignificantNodes, type NetworkInput, prepareNetwork } from './tpm.js';

/** PyPhi `utils.powerset(nodes, nonempty=True, reverse=True)`. */
function reversePowerset(nodes: readonly number[]): number[][] {
  const items = [...nodes].reverse();
  const out: number[][] = [];
  const combo = (start: number, left: number, acc: number[]): void => {
    if (left === 0) {
      out.push(acc.slice());
      return;
    }
    for (let i = start; i <= items.length - left; i++) {
      acc.push(items[i]!);
      combo(i + 1, left - 1, acc);
      acc.pop();
    }
  };
  for (let r = items.length; r >= 1; r--) combo(0, r, []);
  return out;
}

/**
 * Candidate subsystems for the major complex, in PyPhi's order, as sorted global node lists
 * (subsystems in an unreachable state are left out). Work unit for a pool: `computeSia` each one
 * and combine with `pickMajorComplex`.
 */
export function candidateSubsystems(input: NetworkInput): number[][] {
  const net = prepareNetwork(input);
  const out: number[][] = [];
  for (const subset of reversePowerset(causallySignificantNodes(net))) {
    const nodes = [...subset].sort((a, b) => a - b);
    try {
      prepareSubsystem({ ...input, nodes }, net);
      out.push(nodes);
    } catch (err) {
      if (!isJameyError(err, 'JAMEY_ERR_STATE_UNREACHABLE')) throw err;
    }
  }
  return out;
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** PyPhi `max(complexes)`: largest (Phi, size, node tuple); the first one wins exact ties. */
export function pickMajorComplex(results: readonly SiaResult[]): SiaResult {
  let best: SiaResult | null = null;
  for (const r of results) {
    if (!(r.phi > 0)) continue;
    if (
      best === null ||
      r.phi > best.phi ||
      (r.phi === best.phi &&
        (r.nodes.length > best.nodes.length ||
          (r.nodes.length === best.nodes.length && compareTuples(r.nodes, best.nodes) > 0)))
    ) {
      best = r;
    }
  }
  return best ?? { phi: 0, cut: null, concepts: [], nodes: [], partitionedConcepts: [] };
}

/** The major complex of a network in its state (PyPhi `compute.major_complex`). */
export function majorComplex(input: NetworkInput, options?: SiaOptions): SiaResult {
  const net = prepareNetwork(input);
  const results: SiaResult[] = [];
  for (const subset of reversePowerset(causallySignificantNodes(net))) {
    const nodes = [...subset].sort((a, b) => a - b);
    let sub: PreparedSubsystem;
    try {
      sub = prepareSubsystem({ ...input, nodes } as SubsystemInput, net);
    } catch (err) {
      if (isJameyError(err, 'JAMEY_ERR_STATE_UNREACHABLE')) continue;
      throw err;
    }
    results.push(siaOfPrepared(sub, options));
  }
  return pickMajorComplex(results);
}

/** All subsystems' analyses with Phi > 0 (PyPhi `compute.complexes`). */
export function complexes(input: NetworkInput, options?: SiaOptions): SiaResult[] {
  const net = prepareNetwork(input);
  const out: SiaResult[] = [];
  for (const nodes of candidateSubsystems(input)) {
    const r = siaOfPrepared(prepareSubsystem({ ...input, nodes }, net), options);
    if (r.phi > 0) out.push(r);
  }
  return out;
}
