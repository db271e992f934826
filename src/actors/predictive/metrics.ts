/**
 * Predictive-processing metrics (docs/metrics.md): the combined surprise and the text level's bits
 * per char of each scored message, messages scored, bytes learned and the text models in memory.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PredictiveActor } from './actor.js';

export function registerPredictiveMetrics(registry: Registry, actor: PredictiveActor): void {
  const surprise = new Histogram({
    name: 'jamey_predictive_surprise',
    help: 'Combined precision-weighted surprise of scored messages (a standard score).',
    buckets: [-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5],
    registers: [registry],
  });
  const bpc = new Histogram({
    name: 'jamey_predictive_bits_per_char',
    help: 'Bits per UTF-8 byte of scored messages under the global text model.',
    buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8],
    registers: [registry],
  });
  const scored = new Counter({
    name: 'jamey_predictive_scored_total',
    help: 'Messages scored by the predictive actor.',
    registers: [registry],
  });
  const learned = new Counter({
    name: 'jamey_predictive_learned_bytes_total',
    help: 'UTF-8 bytes learned by the global text model.',
    registers: [registry],
  });
  new Gauge({
    name: 'jamey_predictive_models',
    help: 'Text models in memory, by scope (global, entity).',
    labelNames: ['scope'] as const,
    registers: [registry],
    collect() {
      const c = actor.modelCounts();
      this.set({ scope: 'global' }, c.global);
      this.set({ scope: 'entity' }, c.entity);
    },
  });
  actor.observer = {
    scored(result) {
      scored.inc();
      surprise.observe(result.surprise.score);
      bpc.observe(result.text.bpc);
    },
    learned(bytes) {
      learned.inc(bytes);
    },
  };
}
