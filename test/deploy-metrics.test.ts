/**
 * The allowed metric list of the deploy files (test/fixtures/deploy/metrics.txt) against what the
 * running service declares on GET /metrics: every listed name must be exported, so an alert or a
 * dashboard panel never queries a metric that was renamed or removed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { type Service, startService } from './fixtures/service.js';

/** Series Prometheus makes itself for every target, not exported by Jamey. */
const SYNTHETIC = new Set(['up']);

let service: Service;

before(async () => {
  service = await startService();
});
after(() => service.close());

test('every metric the deploy files may use is declared on GET /metrics', async () => {
  const listed = readFileSync(new URL('../../test/fixtures/deploy/metrics.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !SYNTHETIC.has(l));
  const res = await request(`${service.base}/metrics`);
  assert.equal(res.statusCode, 200);
  const text = await res.body.text();
  const declared = new Set([...text.matchAll(/^# TYPE (\S+) \w+$/gm)].map((m) => m[1]));
  const missing = listed.filter((name) => !declared.has(name));
  assert.deepEqual(missing, [], `not exported: ${missing.join(', ')}`);
});
