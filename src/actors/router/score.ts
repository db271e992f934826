/**
 * The routing score: which model serves a request that names none (and no preferred model of the
 * entity applies). A model must first be eligible — every capability the request needs (chat;
 * streaming; tools; JSON output), and a context window that holds the prompt plus the answer's
 * reserve. Among the eligible, the score in [0, 1] is a weighted sum of four parts, each in [0, 1]:
 *
 *   health  = (1 − error rate) × (1 when the breaker is closed, ½ when only a probe may pass)
 *   latency = 1 / (1 + L / latencyRefMs)         L = recent latency (EWMA); unknown counts as the ref
 *   cost    = 1 / (1 + P / priceRefPerMTok)      P = mean of the input and output price per 1M tokens
 *   context = min(1, log2(window / needed) / 4)  a window 16× the need scores 1
 *
 * with weights health 0.35, latency 0.25, cost 0.25, context 0.15 (options). Ties go to the order of
 * configuration. The built-in local responder is not a language model: it is chosen automatically
 * only when no other chat model is configured.
 */
import type { Capability, ModelInfo } from '../llm/config.js';
import type { BreakerState } from './breaker.js';

export interface ScoreWeights {
  readonly health: number;
  readonly latency: number;
  readonly cost: number;
  readonly context: number;
  /** Latency that scores ½. @default 1000 */
  readonly latencyRefMs: number;
  /** Mean price per 1M tokens that scores ½. @default 1 */
  readonly priceRefPerMTok: number;
}

export const DEFAULT_SCORE_WEIGHTS: Readonly<ScoreWeights> = Object.freeze({
  health: 0.35,
  latency: 0.25,
  cost: 0.25,
  context: 0.15,
  latencyRefMs: 1000,
  priceRefPerMTok: 1,
});

export interface RouteNeeds {
  readonly capabilities: readonly Capability[];
  /** Estimated prompt tokens (before assembly trims history). */
  readonly promptTokens: number;
  readonly reserveTokens: number;
}

export interface ModelHealth {
  readonly state: BreakerState;
  /** Whether a request could be sent now (closed, or open with its cooldown passed). */
  readonly available: boolean;
  /** EWMA of request latency in ms; NaN before the first request. */
  readonly latencyMs: number;
  /** EWMA of the failure indicator, in [0, 1]. */
  readonly errorRate: number;
}

/** Why a model cannot serve a request, or null when it can. */
export function ineligibility(model: ModelInfo, needs: RouteNeeds): string | null {
  for (const c of needs.capabilities) if (!model.capabilities.has(c)) return `lacks capability "${c}"`;
  // The prompt may be trimmed to fit, but the newest message and the answer must fit at least.
  if (model.contextTokens < needs.reserveTokens + 16)
    return `context window of ${model.contextTokens} tokens is too small`;
  return null;
}

export interface ScoreParts {
  readonly score: number;
  readonly health: number;
  readonly latency: number;
  readonly cost: number;
  readonly context: number;
}

export function scoreModel(model: ModelInfo, h: ModelHealth, needs: RouteNeeds, w: ScoreWeights): ScoreParts {
  const health = (1 - h.errorRate) * (h.state === 'closed' ? 1 : 0.5);
  const lat = Number.isNaN(h.latencyMs) ? w.latencyRefMs : h.latencyMs;
  const latency = 1 / (1 + lat / w.latencyRefMs);
  const price = (model.pricePerMTokIn + model.pricePerMTokOut) / 2;
  const cost = 1 / (1 + price / w.priceRefPerMTok);
  const needed = Math.max(1, needs.promptTokens + needs.reserveTokens);
  const context = Math.max(0, Math.min(1, Math.log2(model.contextTokens / needed) / 4));
  const score = w.health * health + w.latency * latency + w.cost * cost + w.context * context;
  return { score, health, latency, cost, context };
}
