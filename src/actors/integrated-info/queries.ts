/**
 * Single-mechanism queries (repertoires and small phi of one mechanism over one purview), for
 * inspection and for checking against PyPhi's `Subsystem.cause_repertoire`,
 * `effect_repertoire`, `cause_mip`, `effect_mip` and `phi`.
 */

import { type CutJson, prepareSubsystem, type SubsystemInput } from './big-phi.js';
import { ConceptEngine } from './concept.js';
import { nodesToMask } from './partition.js';
import { SubsystemContext } from './repertoire.js';

function contextFor(input: SubsystemInput, cut?: CutJson): { ctx: SubsystemContext; engine: ConceptEngine } {
  const sub = prepareSubsystem(input);
  if (cut === undefined) return { ctx: sub.ctx, engine: sub.engine };
  const masks = { from: nodesToMask(cut.from, sub.nodes), to: nodesToMask(cut.to, sub.nodes) };
  const ctx = new SubsystemContext(sub.net, sub.nodes, masks, sub.ctx.conditioned);
  return { ctx, engine: new ConceptEngine(ctx, sub.engine.memo) };
}

/** Cause repertoire over `purview` (global indices), little-endian over the sorted purview. */
export function causeRepertoire(
  input: SubsystemInput,
  mechanism: readonly number[],
  purview: readonly number[],
  cut?: CutJson,
): number[] {
  const { ctx } = contextFor(input, cut);
  return Array.from(ctx.causeRepertoire(nodesToMask(mechanism, ctx.nodes), nodesToMask(purview, ctx.nodes)));
}

/** Effect repertoire over `purview` (global indices), little-endian over the sorted purview. */
export function effectRepertoire(
  input: SubsystemInput,
  mechanism: readonly number[],
  purview: readonly number[],
  cut?: CutJson,
): number[] {
  const { ctx } = contextFor(input, cut);
  return Array.from(ctx.effectRepertoire(nodesToMask(mechanism, ctx.nodes), nodesToMask(purview, ctx.nodes)));
}

/** Cause and effect MIP phi of a mechanism over a purview, and their minimum (PyPhi `Subsystem.phi`). */
export function smallPhi(
  input: SubsystemInput,
  mechanism: readonly number[],
  purview: readonly number[],
  cut?: CutJson,
): { cause: number; effect: number; phi: number } {
  const { ctx, engine } = contextFor(input, cut);
  const m = nodesToMask(mechanism, ctx.nodes);
  const p = nodesToMask(purview, ctx.nodes);
  if (m === 0 || p === 0) return { cause: 0, effect: 0, phi: 0 };
  const cause = engine.causeMipPhi(m, p, null);
  const effect = engine.effectMipPhi(m, p);
  return { cause, effect, phi: Math.min(cause, effect) };
}
