/**
 * Φ metrics on a runtime's registry, created once per registry and shared by the actor and the
 * HTTP route (whichever runs first creates them):
 * - `jamey_phi`: the last live Φ;
 * - `jamey_phi_compute_seconds{kind}`: time of each computation, kind ∈ {request, live};
 * - `jamey_phi_requests_total{kind, outcome}`: computations by outcome (`ok` or the error code).
 * Labels are bounded: kinds are two constants and outcomes are error codes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { toJameyError } from '../../runtime/errors.js';

export type PhiKind = 'request' | 'live';

export interface PhiMetrics {
  readonly phi: Gauge;
  readonly seconds: Histogram<'kind'>;
  readonly requests: Counter<'kind' | 'outcome'>;
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60];
const cache = new WeakMap<Registry, PhiMetrics>();

export function phiMetrics(registry: Registry): PhiMetrics {
  let m = cache.get(registry);
  if (m !== undefined) return m;
  const registers = [registry];
  m = {
    phi:
      (registry.getSingleMetric('jamey_phi') as Gauge | undefined) ??
      new Gauge({
        name: 'jamey_phi',
        help: 'Big Phi (IIT 3.0) of the runtime observed as a network of actors, last live value.',
        registers,
      }),
    seconds:
      (registry.getSingleMetric('jamey_phi_compute_seconds') as Histogram<'kind'> | undefined) ??
      new Histogram({
        name: 'jamey_phi_compute_seconds',
        help: 'Time of a Phi computation, by kind (request or live).',
        labelNames: ['kind'] as const,
        buckets: SECONDS_BUCKETS,
        registers,
      }),
    requests:
      (registry.getSingleMetric('jamey_phi_requests_total') as Counter<'kind' | 'outcome'> | undefined) ??
      new Counter({
        name: 'jamey_phi_requests_total',
        help: 'Phi computations by kind and outcome (ok or the error code).',
        labelNames: ['kind', 'outcome'] as const,
        registers,
      }),
  };
  cache.set(registry, m);
  return m;
}

/** Runs `fn`, observing its time and counting its outcome under `kind`. */
export async function observed<T>(metrics: PhiMetrics, kind: PhiKind, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    const value = await fn();
    metrics.requests.inc({ kind, outcome: 'ok' });
    return value;
  } catch (err) {
    metrics.requests.inc({ kind, outcome: toJameyError(err).code });
    throw err;
  } finally {
    metrics.seconds.observe({ kind }, (performance.now() - t0) / 1000);
  }
}
