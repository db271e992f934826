/**
 * Conscience metrics (docs/metrics.md): verdicts, outcomes per principle and evaluation time.
 * The `principle` label is a rule name, bounded by the rule table; so that an operator creating many
 * rules cannot grow the series without end, the first MAX_PRINCIPLE_LABELS distinct names keep their
 * own label and any later one is counted as `other`.
 */
import type { Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../runtime/fast-metrics.js';
import type { ConscienceObserver } from './actor.js';

export const MAX_PRINCIPLE_LABELS = 64;

export function registerConscienceMetrics(registry: Registry): ConscienceObserver {
  const verdicts = new FastCounter({
    name: 'jamey_conscience_verdicts_total',
    help: 'Conscience evaluations by verdict (allow, flag, block).',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const outcomes = new FastCounter({
    name: 'jamey_conscience_principle_outcomes_total',
    help: 'Outcome of each enabled principle per evaluation (allow, flag, block), by principle name.',
    labelNames: ['principle', 'outcome'] as const,
    registers: [registry],
  });
  const seconds = new FastHistogram({
    name: 'jamey_conscience_evaluation_seconds',
    labelNames: [],
    help: 'Time to evaluate one text against the principles.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  const labelled = new Set<string>();
  const label = (name: string): string => {
    if (labelled.has(name)) return name;
    if (labelled.size >= MAX_PRINCIPLE_LABELS) return 'other';
    labelled.add(name);
    return name;
  };
  const allSeconds = seconds.labels({});
  return {
    evaluated(e, s) {
      verdicts.inc({ verdict: e.verdict });
      for (const p of e.principles) outcomes.inc({ principle: label(p.name), outcome: p.outcome });
      allSeconds.observe(s);
    },
  };
}
