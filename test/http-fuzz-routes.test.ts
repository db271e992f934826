/**
 * Every route of the table (`allRoutes`), fuzzed with the admin key over real HTTP against the whole
 * service: bodies derived from the route's declared schema (valid, one field wrong, a required field
 * missing, an unknown field, `__proto__`, truncated), arbitrary JSON and bytes, deep nesting, hostile
 * path parameters and query strings, other methods and content types. A new route is fuzzed by
 * being in the table. Every answer is below 500 (but for the few 5xx a good request can get, listed
 * below), every refusal is a coded JSON error, and the service stays healthy and ready after each
 * route. fast-check prints the seed and path of a failure; `FUZZ_SEED=… FUZZ_PATH=…` replays it
 * (see fixtures/http-fuzz.ts), and `FUZZ_SCALE=20` soaks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import type { Route } from '../src/http/route.js';
import { allRoutes } from '../src/http/routes/index.js';
import {
  type Answer,
  anyBody,
  anyQuery,
  assertCodedError,
  fillPath,
  fuzzParameters,
  hostileSegment,
  lenientSecurity,
  mutatedBody,
  mutatedQuery,
  namesField,
  PARAM_SAMPLES,
  type Schema,
  send,
} from './fixtures/http-fuzz.js';
import { type Service, startService } from './fixtures/service.js';

/**
 * The 5xx answers a route may give a request that is not at fault, by route. Neither is about the
 * shape of the input:
 * - chat: the built-in local model has no `tools` or `json` capability, so a request that needs one
 *   finds no model to serve it (503 `JAMEY_ERR_NO_MODEL`, naming the missing capability);
 * - Φ: the caller's own `deadlineMs` can be too short for the network (504).
 */
const LEGITIMATE_5XX: Readonly<Record<string, readonly string[]>> = {
  'POST /v1/chat/completions': ['JAMEY_ERR_NO_MODEL'],
  'POST /v1/phi': ['JAMEY_ERR_DEADLINE_EXCEEDED'],
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  '',
];

/** Random requests per route, and single-fault bodies per route with a schema (the file runs in ~10 s). */
const RANDOM_RUNS = 60;
const MUTATION_RUNS = 30;

let service: Service;
let pool: Pool;
let admin: Record<string, string>;

before(async () => {
  service = await startService({}, { security: lenientSecurity });
  pool = new Pool(service.base, { connections: 4 });
  admin = { authorization: `Bearer ${service.adminKey}` };
});
after(async () => {
  await pool.close();
  await service.close();
});

const routeKey = (r: Route): string => `${r.method} ${r.path}`;
const sample = (name: string): string => PARAM_SAMPLES[name] ?? 'sample-0001';
const paramNames = (r: Route): string[] =>
  r.path
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));

function errorCode(answer: Answer): string {
  try {
    return String((JSON.parse(answer.text) as { error?: { code?: unknown } }).error?.code);
  } catch {
    return '(no JSON body)';
  }
}

/** Never a 5xx for bad input (but the listed ones), and every refusal in the documented shape. */
function checkAnswer(route: Route, method: string, path: string, answer: Answer): void {
  const what = `${method} ${path.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500) {
    assert.ok(LEGITIMATE_5XX[routeKey(route)]?.includes(errorCode(answer)), `a 5xx: ${what}`);
  }
  if (answer.status >= 400 && method !== 'HEAD') assertCodedError(answer, what);
}

async function assertHealthy(): Promise<void> {
  for (const path of ['/healthz', '/readyz']) {
    const answer = await send(pool, { method: 'GET', path });
    assert.equal(answer.status, 200, `${path} after the fuzzing: ${answer.text.slice(0, 300)}`);
  }
}

/** The route's path with each parameter a well-formed sample or a hostile segment. */
function anyPath(route: Route): fc.Arbitrary<string> {
  const names = paramNames(route);
  if (names.length === 0) return fc.constant(route.path);
  const values = fc.tuple(...names.map((n) => fc.oneof(fc.constant(sample(n)), hostileSegment)));
  return values.map((vs) => fillPath(route.path, (n) => vs[names.indexOf(n)] as string));
}

/** The methods the table serves on a concrete path (HEAD with GET), as the router matches patterns. */
function servedMethods(path: string): Set<string> {
  const parts = path.split('/').filter((s) => s.length > 0);
  const served = new Set<string>();
  for (const r of allRoutes) {
    const pattern = r.path.split('/').filter((s) => s.length > 0);
    if (pattern.length !== parts.length) continue;
    if (pattern.every((seg, i) => seg.startsWith(':') || seg === parts[i])) {
      served.add(r.method);
      if (r.method === 'GET') served.add('HEAD');
    }
  }
  return served;
}

for (const route of allRoutes) {
  describe(routeKey(route), () => {
    test('random requests never get a 5xx, and every refusal is a coded JSON error', async () => {
      const hasBody = (m: string): boolean => m !== 'GET' && m !== 'HEAD';
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(route.method) },
            { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
          ),
          anyPath(route),
          anyQuery(route.query as Schema | undefined),
          fc.oneof(
            { weight: 4, arbitrary: fc.constant('application/json') },
            { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
          ),
          fc.option(anyBody(route.body as Schema | undefined), { freq: 6, nil: undefined }),
          async (method, path, query, contentType, body) => {
            const full = `${path}${query}`;
            const answer = await send(pool, {
              method,
              path: full,
              headers: { ...admin, ...(contentType === '' ? {} : { 'content-type': contentType }) },
              ...(body === undefined || !hasBody(method) ? {} : { body }),
            });
            checkAnswer(route, method, full, answer);
          },
        ),
        fuzzParameters(RANDOM_RUNS),
      );
      await assertHealthy();
    });

    if (route.body !== undefined) {
      const schema = route.body as Schema;
      test('a body with one wrong, missing or unknown field gets a 400 naming that field', async () => {
        const path = fillPath(route.path, sample);
        await fc.assert(
          fc.asyncProperty(mutatedBody(schema), async (m) => {
            const answer = await send(pool, {
              method: route.method,
              path,
              headers: { ...admin, 'content-type': 'application/json' },
              body: JSON.stringify(m.body),
            });
            const what = `${m.kind} ${m.field}: ${JSON.stringify(m.body).slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`;
            assert.equal(answer.status, 400, what);
            const error = assertCodedError(answer, what);
            assert.equal(error.code, 'JAMEY_ERR_VALIDATION', what);
            assert.ok(namesField(error.details, m.field), `the problems name "${m.field}": ${what}`);
          }),
          fuzzParameters(MUTATION_RUNS),
        );
      });

      test('a body that is not JSON gets a 415', async () => {
        const answer = await send(pool, {
          method: route.method,
          path: fillPath(route.path, sample),
          headers: { ...admin, 'content-type': 'text/plain' },
          body: '{}',
        });
        assert.equal(answer.status, 415, answer.text);
        assert.equal(assertCodedError(answer, routeKey(route)).code, 'JAMEY_ERR_UNSUPPORTED_MEDIA_TYPE');
      });
    }

    if (route.query !== undefined) {
      const schema = route.query as Schema;
      test('a query with one wrong or unknown parameter gets a 400 naming it', async () => {
        const path = fillPath(route.path, sample);
        await fc.assert(
          fc.asyncProperty(mutatedQuery(schema), async (m) => {
            const answer = await send(pool, {
              method: route.method,
              path: `${path}${m.query}`,
              headers: admin,
            });
            const what = `${m.query} → ${answer.status} ${answer.text.slice(0, 300)}`;
            assert.equal(answer.status, 400, what);
            assert.ok(namesField(assertCodedError(answer, what).details, m.field), what);
          }),
          fuzzParameters(MUTATION_RUNS),
        );
      });
    }

    test('a method the path does not serve gets a 405 with Allow', async () => {
      const path = fillPath(route.path, sample);
      const served = servedMethods(path);
      for (const method of METHODS) {
        if (served.has(method)) continue;
        const answer = await send(pool, { method, path, headers: admin });
        assert.equal(answer.status, 405, `${method} ${path}: ${answer.text}`);
        assert.ok(
          String(answer.headers['allow']).split(', ').includes(route.method),
          `Allow names ${route.method}`,
        );
        if (method !== 'HEAD')
          assert.equal(assertCodedError(answer, path).code, 'JAMEY_ERR_METHOD_NOT_ALLOWED');
      }
    });
  });
}
