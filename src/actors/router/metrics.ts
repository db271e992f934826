/**
 * LLM metrics (docs/metrics.md): requests, latency, tokens and cost per provider and model, and
 * the circuit breaker of each model. Labels are configured model and provider names (bounded by the
 * configuration), an outcome from a fixed set, and a token kind.
 */
import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../runtime/fast-metrics.js';
import type { ModelRouter } from './router.js';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function registerRouterMetrics(registry: Registry, router: ModelRouter): void {
  const labelNames = ['provider', 'model', 'outcome'] as const;
  const requests = new FastCounter({
    name: 'jamey_llm_requests_total',
    help: 'Attempts sent to a model, by outcome (ok, failed, aborted).',
    labelNames,
    registers: [registry],
  });
  const duration = new FastHistogram({
    name: 'jamey_llm_request_duration_seconds',
    help: 'Duration of model attempts (to the last token), by outcome.',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const tokens = new FastCounter({
    name: 'jamey_llm_tokens_total',
    help: 'Tokens used, by kind (prompt, completion).',
    labelNames: ['provider', 'model', 'kind'] as const,
    registers: [registry],
  });
  const cost = new FastCounter({
    name: 'jamey_llm_cost_usd_total',
    help: 'Spend in US dollars from token usage and the model’s prices.',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'jamey_llm_breaker_state',
    help: 'Circuit breaker of the model: 0 closed, 1 half-open, 2 open.',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
    collect() {
      for (const s of router.status())
        this.set({ provider: s.provider, model: s.id }, BREAKER_VALUE[s.state]);
    },
  });
  router.observer = {
    attempt(model, report, usd) {
      const labels = { provider: model.provider, model: model.id, outcome: report.outcome };
      requests.inc(labels);
      duration.observe(labels, report.latencyMs / 1000);
      if (report.usage !== undefined) {
        tokens.inc({ provider: model.provider, model: model.id, kind: 'prompt' }, report.usage.promptTokens);
        tokens.inc(
          { provider: model.provider, model: model.id, kind: 'completion' },
          report.usage.completionTokens,
        );
        if (usd > 0) cost.inc({ provider: model.provider, model: model.id }, usd);
      }
    },
  };
}
