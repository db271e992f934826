/**
 * The model router: owns the model registry's health (a circuit breaker per model, recent latency
 * and error rate), the routing policy and the spending budgets. It decides; the chat pipeline calls
 * the providers and reports back each attempt's outcome.
 *
 * Order of candidates for a request:
 *   1. the model the request names (unknown → 404);
 *   2. else the entity's preferred model (from memory, `storeWithProvider`), when it is configured
 *      and eligible;
 *   3. else the eligible models by score (score.ts).
 * With fallback on (the default), the other eligible models follow in order of score, so a failure
 * before the first streamed token moves to the next. The local responder is a fallback only when
 * it was chosen or is the only chat model: a deployment with a real model would rather see an error
 * than a canned answer. A model whose breaker is open is passed over until its cooldown ends.
 */
import type { ActorContext, ActorSpec, Behavior } from '../../runtime/actor.js';
import type { Clock } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import { type Capability, costOf, type ModelInfo } from '../llm/config.js';
import type { Usage } from '../llm/types.js';
import type { Store } from '../store/store.js';
import {
  type BreakerOptions,
  type BreakerState,
  CircuitBreaker,
  DEFAULT_BREAKER_OPTIONS,
} from './breaker.js';
import { BudgetBook, type BudgetOptions, USAGE_QUERIES, type UsageRecord, utcDay } from './budget.js';
import {
  DEFAULT_SCORE_WEIGHTS,
  ineligibility,
  type ModelHealth,
  type RouteNeeds,
  type ScoreWeights,
  scoreModel,
} from './score.js';

export const ROUTER_ACTOR = 'router';

export interface RouterOptions {
  /** @default DEFAULT_BREAKER_OPTIONS */
  readonly breaker?: Partial<BreakerOptions>;
  readonly weights?: Partial<ScoreWeights>;
  /** Fall back to the next eligible model when one fails before answering. @default true */
  readonly fallback?: boolean;
  /** Weight of the newest observation in the latency and error-rate averages. @default 0.2 */
  readonly ewmaAlpha?: number;
  readonly budgets?: BudgetOptions;
}

export interface PlanInput {
  /** The model the request names ("auto" or undefined for none). */
  readonly model?: string | undefined;
  readonly preferred?: string | null | undefined;
  readonly needs: RouteNeeds;
  /** Key id for the budget check; null for the public principal. */
  readonly keyId: string | null;
}

export interface RoutePlan {
  readonly candidates: readonly ModelInfo[];
  readonly reason: 'requested' | 'preferred' | 'scored';
}

export interface AttemptReport {
  readonly model: string;
  readonly outcome: 'ok' | 'failed' | 'aborted';
  /** Failures that say nothing of the model's health (a bad request) do not move the breaker. */
  readonly retryable?: boolean;
  readonly latencyMs: number;
  readonly keyId?: string | null;
  readonly usage?: Usage;
}

export interface ModelStatus extends ModelHealth {
  readonly id: string;
  readonly provider: string;
  readonly failures: number;
  readonly retryAt: number | undefined;
}

interface ModelEntry {
  readonly info: ModelInfo;
  readonly breaker: CircuitBreaker;
  latencyMs: number;
  errorRate: number;
  /** Stable tie-break: position in the configuration. */
  readonly order: number;
}

/** Observers the metrics bind to. */
export interface RouterObserver {
  attempt?(model: ModelInfo, report: AttemptReport, costUsd: number): void;
}

export class ModelRouter {
  readonly #models = new Map<string, ModelEntry>();
  readonly #clock: Clock;
  readonly #weights: ScoreWeights;
  readonly #fallback: boolean;
  readonly #alpha: number;
  readonly budgets: BudgetBook;
  readonly #chatModels: number;
  observer: RouterObserver = {};
  /** Persists a usage record (set by the actor: a write through the store). */
  persistUsage: ((record: UsageRecord) => void) | undefined;

  constructor(models: readonly ModelInfo[], clock: Clock, options: RouterOptions = {}) {
    const breaker = { ...DEFAULT_BREAKER_OPTIONS, ...options.breaker };
    models.forEach((info, order) => {
      this.#models.set(info.id, {
        info,
        breaker: new CircuitBreaker(breaker),
        latencyMs: Number.NaN,
        errorRate: 0,
        order,
      });
    });
    this.#clock = clock;
    this.#weights = { ...DEFAULT_SCORE_WEIGHTS, ...options.weights };
    this.#fallback = options.fallback ?? true;
    this.#alpha = options.ewmaAlpha ?? 0.2;
    this.budgets = new BudgetBook(options.budgets);
    this.#chatModels = models.filter((m) => m.capabilities.has('chat') && m.kind !== 'local').length;
  }

  models(): ModelInfo[] {
    return [...this.#models.values()].map((e) => e.info);
  }

  model(id: string): ModelInfo | undefined {
    return this.#models.get(id)?.info;
  }

  #health(e: ModelEntry, now: number): ModelHealth {
    return {
      state: e.breaker.state,
      available: e.breaker.available(now),
      latencyMs: e.latencyMs,
      errorRate: e.errorRate,
    };
  }

  status(): ModelStatus[] {
    const now = this.#clock.now();
    return [...this.#models.values()].map((e) => ({
      id: e.info.id,
      provider: e.info.provider,
      ...this.#health(e, now),
      failures: e.breaker.failures,
      retryAt: e.breaker.retryAt,
    }));
  }

  breakerState(id: string): BreakerState | undefined {
    return this.#models.get(id)?.breaker.state;
  }

  plan(input: PlanInput): RoutePlan {
    const now = this.#clock.now();
    if (input.keyId !== null) this.budgets.check(input.keyId, now);
    const needs = input.needs;
    const named = input.model !== undefined && input.model !== 'auto' ? input.model : undefined;
    let first: ModelEntry | undefined;
    let reason: RoutePlan['reason'] = 'scored';
    if (named !== undefined) {
      first = this.#models.get(named);
      if (first === undefined) {
        throw new JameyError('JAMEY_ERR_NOT_FOUND', `the model "${named.slice(0, 100)}" does not exist`, {
          details: [{ path: '/model', problem: 'unknown model; GET /v1/models lists them' }],
        });
      }
      const why = ineligibility(first.info, needs);
      if (why !== null) {
        throw new JameyError(
          'JAMEY_ERR_VALIDATION',
          `the model "${named}" cannot serve this request: it ${why}`,
          {
            details: [{ path: '/model', problem: why }],
          },
        );
      }
      reason = 'requested';
    } else if (input.preferred != null) {
      const p = this.#models.get(input.preferred);
      if (p !== undefined && ineligibility(p.info, needs) === null) {
        first = p;
        reason = 'preferred';
      }
    }
    const passedOver: Array<{ model: string; problem: string }> = [];
    const ranked: Array<{ e: ModelEntry; score: number }> = [];
    for (const e of this.#models.values()) {
      if (e === first) continue;
      const why = ineligibility(e.info, needs);
      if (why !== null) {
        passedOver.push({ model: e.info.id, problem: why });
        continue;
      }
      const h = this.#health(e, now);
      if (!h.available) {
        passedOver.push({ model: e.info.id, problem: 'circuit breaker open' });
        continue;
      }
      // The local responder is automatic only when there is nothing else, or when it was chosen.
      if (
        e.info.kind === 'local' &&
        needs.capabilities.includes('chat') &&
        this.#chatModels > 0 &&
        first?.info.kind !== 'local'
      ) {
        continue;
      }
      ranked.push({ e, score: scoreModel(e.info, h, needs, this.#weights).score });
    }
    ranked.sort((a, b) => b.score - a.score || a.e.order - b.e.order);
    const candidates: ModelInfo[] = [];
    if (first !== undefined) {
      if (first.breaker.available(now)) candidates.push(first.info);
      else passedOver.push({ model: first.info.id, problem: 'circuit breaker open' });
    }
    if (first === undefined || this.#fallback) for (const r of ranked) candidates.push(r.e.info);
    if (candidates.length === 0) {
      throw new JameyError('JAMEY_ERR_NO_MODEL', 'no configured model can serve this request now', {
        details: passedOver,
      });
    }
    return {
      candidates: first === undefined && !this.#fallback ? candidates.slice(0, 1) : candidates,
      reason,
    };
  }

  /** Takes the right to send one request to a model (the probe, when its breaker is half-open). */
  acquire(id: string): boolean {
    const e = this.#models.get(id);
    return e?.breaker.tryAcquire(this.#clock.now()) ?? false;
  }

  /** Records an attempt's outcome: breaker, latency and error averages, spend. Returns its cost. */
  report(r: AttemptReport): number {
    const e = this.#models.get(r.model);
    if (e === undefined) return 0;
    const now = this.#clock.now();
    const a = this.#alpha;
    if (r.outcome === 'ok') {
      e.breaker.success();
      e.errorRate *= 1 - a;
      e.latencyMs = Number.isNaN(e.latencyMs) ? r.latencyMs : e.latencyMs + a * (r.latencyMs - e.latencyMs);
    } else if (r.outcome === 'failed' && r.retryable !== false) {
      e.breaker.failure(now);
      e.errorRate += a * (1 - e.errorRate);
    } else {
      e.breaker.release();
    }
    let cost = 0;
    if (r.usage !== undefined) {
      cost = costOf(e.info, r.usage.promptTokens, r.usage.completionTokens);
      const micros = Math.round(cost * 1e6);
      if (r.keyId != null) {
        this.budgets.add(r.keyId, now, micros);
        this.persistUsage?.({
          keyId: r.keyId,
          day: utcDay(now),
          model: e.info.id,
          promptTokens: r.usage.promptTokens,
          completionTokens: r.usage.completionTokens,
          costMicros: micros,
        });
      }
    }
    this.observer.attempt?.(e.info, r, cost);
    return cost;
  }

  close(): void {
    for (const e of this.#models.values()) e.breaker.stop();
  }
}

export type RouterMessage =
  | { type: 'plan'; input: PlanInput }
  | { type: 'acquire'; model: string }
  | { type: 'report'; report: AttemptReport }
  | { type: 'status' }
  | { type: 'models' };

export function capabilityNeeds(request: {
  stream?: boolean | null;
  tools?: unknown;
  response_format?: { type?: string } | null;
}): Capability[] {
  const caps: Capability[] = ['chat'];
  if (request.stream === true) caps.push('stream');
  if (Array.isArray(request.tools) && request.tools.length > 0) caps.push('tools');
  const rf = request.response_format?.type;
  if (rf === 'json_object' || rf === 'json_schema') caps.push('json');
  return caps;
}

/** The router actor: plans, breaker acquisitions and reports go through its mailbox, in order. */
export function routerActorSpec(
  router: ModelRouter,
  store: Store | undefined,
  log?: Logger,
): ActorSpec<RouterMessage, unknown> {
  return {
    name: ROUTER_ACTOR,
    dependsOn: store === undefined ? [] : ['store'],
    mailbox: { capacity: 10_000 },
    start(ctx: ActorContext): Behavior<RouterMessage, unknown> {
      if (store !== undefined) {
        const now = ctx.clock.now();
        const monthStart = `${utcDay(now).slice(0, 7)}-01`;
        router.budgets.load(
          store.reader.statement(USAGE_QUERIES.monthSpend).all(monthStart) as Array<{
            key_id: string;
            day: string;
            micros: number;
          }>,
          now,
        );
        router.persistUsage = (record) => {
          store.write('router.usage', record).catch((err: unknown) => {
            log?.error('usage not persisted', { err, keyId: record.keyId, model: record.model });
          });
        };
      }
      return {
        receive(msg) {
          switch (msg.type) {
            case 'plan':
              return router.plan(msg.input);
            case 'acquire':
              return router.acquire(msg.model);
            case 'report':
              return router.report(msg.report);
            case 'status':
              return router.status();
            case 'models':
              return router.models();
            default:
              throw new JameyError('JAMEY_ERR_VALIDATION', 'unknown router message');
          }
        },
      };
    },
  };
}
