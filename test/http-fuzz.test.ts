import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { allRoutes } from '../src/http/routes/index.js';
import type { JameyServer } from '../src/http/server.js';
import { createJamey, type Jamey } from '../src/jamey.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-fuzz-');
let jamey: Jamey;
let server: JameyServer;
let pool: Pool;
let auth: Record<string, string> = {};

before(async () => {
  // One client sends everything here: limits high enough that the fuzzing is not rate-limited or
  // banned (those paths have their own tests).
  const unlimited = { rps: 1e6, burst: 1e6 };
  jamey = createJamey(
    { dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } },
    { security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited } },
  );
  await jamey.start();
  server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
  // The admin key, so the fuzzing reaches the handlers behind authentication.
  auth = { authorization: `Bearer ${jamey.adminKey?.token}` };
});
after(async () => {
  await pool.close();
  await server.shutdown();
  await jamey.close();
  tmp.cleanup();
});

const knownPaths = [...new Set(allRoutes.map((r) => r.path.replace(':id', 'mem_x')))];

const path = fc.oneof(
  fc.constantFrom(...knownPaths),
  fc
    .constantFrom(...knownPaths)
    .chain((p) => fc.string({ maxLength: 20 }).map((s) => `${p}/${encodeURIComponent(s)}`)),
  fc
    .constantFrom(...knownPaths)
    .chain((p) =>
      fc
        .string({ maxLength: 30 })
        .map((s) => `${p}?${encodeURIComponent(s)}=${encodeURIComponent(s)}&limit=${s.length - 3}`),
    ),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
);

const nested = fc.integer({ min: 1, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`);

const body = fc.oneof(
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc
    .record(
      {
        layer: fc.oneof(
          fc.constantFrom('short-term', 'working', 'long-term', 'episodic', 'semantic'),
          fc.string(),
        ),
        content: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.constant(null)),
        entityId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        query: fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
        layers: fc.array(fc.string()),
        limit: fc.oneof(fc.integer(), fc.double(), fc.string()),
        salience: fc.oneof(fc.double(), fc.string()),
        tpm: fc.array(fc.array(fc.double(), { maxLength: 4 }), { maxLength: 9 }),
        state: fc.array(fc.integer({ min: -1, max: 2 }), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.string().map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), // invalid UTF-8 included
  nested.map((s) => Buffer.from(s)),
);

const headerValue = fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s));

test('random and malformed requests never get a 5xx and never crash the server', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'),
      path,
      fc.option(body, { nil: undefined }),
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        '',
        'multipart/form-data',
      ),
      headerValue,
      async (method, p, b, contentType, extra) => {
        const res = await pool.request({
          path: p,
          method: method as 'GET',
          headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}), 'x-extra': extra },
          ...(b === undefined || method === 'GET' || method === 'HEAD' ? {} : { body: b }),
        });
        const text = await res.body.text();
        assert.ok(res.statusCode < 500, `${method} ${p} → ${res.statusCode} ${text.slice(0, 200)}`);
        if (res.statusCode >= 400 && method !== 'HEAD') {
          const parsed = JSON.parse(text) as { error?: { code?: string } };
          assert.match(parsed.error?.code ?? '', /^JAMEY_ERR_/);
        }
      },
    ),
    { numRuns: 1000 },
  );
  const health = await pool.request({ path: '/healthz', method: 'GET' });
  assert.equal(health.statusCode, 200);
  await health.body.dump();
});
