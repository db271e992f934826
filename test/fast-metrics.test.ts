/** The request path's counters and histograms scrape exactly as prom-client's own would. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../src/runtime/fast-metrics.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];
const observation = fc.record({
  route: fc.constantFrom('/v1/chat/completions', '/v1/memories/:id', 'a "quoted"\\ route\n'),
  status: fc.constantFrom(200, 404, 503),
  // Bounds themselves, values between and beyond them, and zero.
  value: fc.oneof(fc.constantFrom(...BUCKETS, 0, 2.5), fc.double({ min: 0, max: 5, noNaN: true })),
});

test('a histogram and a counter render the same scrape text as prom-client for the same calls', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (calls) => {
      const theirs = new Registry();
      const ours = new Registry();
      const config = (registers: Registry[]) => ({
        name: 'x_seconds',
        help: 'Help with a \\ backslash.',
        labelNames: ['route', 'status'] as const,
        buckets: BUCKETS,
        registers,
      });
      const h1 = new Histogram(config([theirs]));
      const h2 = new FastHistogram(config([ours]));
      const counter = (registers: Registry[]) => ({
        name: 'x_total',
        help: 'Requests.',
        labelNames: ['route'] as const,
        registers,
      });
      const c1 = new Counter(counter([theirs]));
      const c2 = new FastCounter(counter([ours]));
      const bare1 = new Histogram({ name: 'y', help: 'No labels.', buckets: [1, 2], registers: [theirs] });
      const bare2 = new FastHistogram({
        name: 'y',
        help: 'No labels.',
        labelNames: [],
        buckets: [1, 2],
        registers: [ours],
      });
      for (const { route, status, value } of calls) {
        h1.observe({ route, status }, value);
        h2.labels({ route, status }).observe(value);
        c1.inc({ route }, value);
        c2.inc({ route }, value);
        bare1.observe(value);
        bare2.labels({}).observe(value);
      }
      assert.equal(await ours.metrics(), await theirs.metrics());
      // Through JSON, as a consumer sees it (prom-client leaves some fields undefined).
      const json = async (r: Registry) => JSON.parse(JSON.stringify(await r.getMetricsAsJSON()));
      assert.deepEqual(await json(ours), await json(theirs));
    }),
    { numRuns: 100 },
  );
});

test('bad calls are refused as prom-client refuses them', () => {
  const h = new FastHistogram({ name: 'z', help: 'z', labelNames: ['a'], buckets: [1], registers: [] });
  assert.throws(() => h.labels({ b: 'x' } as never), /unknown label "b"/);
  assert.throws(() => h.labels({ a: 'x' }).observe(Number.NaN), /not a valid number/);
  const c = new FastCounter({ name: 'w', help: 'w', labelNames: ['a'], registers: [] });
  assert.throws(() => c.inc({ a: 'x' }, -1), /only goes up/);
  const registry = new Registry();
  new FastCounter({ name: 'w', help: 'w', labelNames: ['a'], registers: [registry] });
  assert.throws(
    () => new FastCounter({ name: 'w', help: 'w', labelNames: ['a'], registers: [registry] }),
    /already been registered/,
  );
});
