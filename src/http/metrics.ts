/**
 * HTTP metrics: request duration by route pattern, method and status. Labels are bounded: the route
 * is the pattern (`/v1/memories/:id`, or `(unmatched)`), the method one of the known ones or
 * `OTHER`, the status a number. Children are cached per label set, so a request costs one map
 * lookup and one observation.
 */
import type { Registry } from 'prom-client';
import { FastHistogram } from '../runtime/fast-metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const NAME = 'jamey_http_request_duration_seconds';

export type ObserveRequest = (route: string, method: string, status: number, seconds: number) => void;

export function httpMetrics(registry: Registry): ObserveRequest {
  const histogram =
    (registry.getSingleMetric(NAME) as unknown as FastHistogram<'route' | 'method' | 'status'> | undefined) ??
    new FastHistogram({
      name: NAME,
      help: 'HTTP request duration from arrival to the end of the response, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
  const children = new Map<string, ReturnType<typeof histogram.labels>>();
  return (route, method, status, seconds) => {
    const m = METHODS.has(method) ? method : 'OTHER';
    const key = `${route} ${m} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      child = histogram.labels({ route, method: m, status: String(status) });
      children.set(key, child);
    }
    child.observe(seconds);
  };
}
