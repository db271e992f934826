/**
 * The security checks of the release gate, over real HTTP against the whole service with its logs
 * captured at debug level:
 * - scopes, driven from the route table: every route refuses a missing key (401) and a key without
 *   its scope (403, coded), admin routes refuse chat-scoped keys, and no lesser key escalates;
 * - keys never appear: after keys are created, rotated, revoked, used, mistyped and sent where no
 *   key belongs, no whole key and no secret is in the logs, the /metrics scrape, any answer but the
 *   one that issued the key, the audit rows, or any other row of the SQLite database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { parseToken, SCOPES, type Scope } from '../src/actors/security/index.js';
import type { Route } from '../src/http/route.js';
import { allRoutes } from '../src/http/routes/index.js';
import { createLogger } from '../src/runtime/log.js';
import {
  type Answer,
  assertCodedError,
  fillPath,
  lenientSecurity,
  PARAM_SAMPLES,
  type Schema,
  send,
  validBody,
} from './fixtures/http-fuzz.js';
import { type Service, startService } from './fixtures/service.js';

const logLines: string[] = [];
/** Every answer, with whether it is the one answer allowed to show a key (its creation). */
const answers: Array<{ what: string; answer: Answer; issuesKey: boolean }> = [];
/** Every key this test has seen or made up, whole. */
const tokens = new Set<string>();

let service: Service;
let pool: Pool;

before(async () => {
  service = await startService(
    { logLevel: 'debug' },
    { security: lenientSecurity },
    { logger: createLogger('debug', (line) => logLines.push(line)) },
  );
  pool = new Pool(service.base, { connections: 2 });
  tokens.add(service.adminKey);
});
after(async () => {
  await pool.close();
  await service.close();
});

async function call(
  method: string,
  path: string,
  options: { key?: string; authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const answer = await send(pool, {
    method,
    path,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const issuesKey =
    answer.status === 201 &&
    method === 'POST' &&
    (path === '/v1/keys' || /^\/v1\/keys\/[^/]+\/rotate$/.test(path));
  answers.push({ what: `${method} ${path} → ${answer.status}`, answer, issuesKey });
  return answer;
}

async function newKey(
  scopes: readonly Scope[],
  name = `gate ${scopes.join('+')}`,
): Promise<{ id: string; token: string }> {
  const answer = await call('POST', '/v1/keys', { key: service.adminKey, body: { name, scopes } });
  assert.equal(answer.status, 201, answer.text);
  const created = JSON.parse(answer.text) as { id: string; key: string };
  tokens.add(created.key);
  return { id: created.id, token: created.key };
}

const concretePath = (r: Route): string => fillPath(r.path, (n) => PARAM_SAMPLES[n] ?? 'sample-0001');
/** A body the route's schema accepts (so a refusal is about the key, not the input). */
const goodBody = (r: Route): unknown =>
  r.body === undefined
    ? r.method === 'GET' || r.method === 'DELETE'
      ? undefined
      : {}
    : fc.sample(validBody(r.body as Schema), { numRuns: 1, seed: 1 })[0];

function assertRefusal(answer: Answer, status: 401 | 403, what: string): void {
  assert.equal(answer.status, status, `${what}: ${answer.text.slice(0, 300)}`);
  const code = assertCodedError(answer, what).code;
  assert.equal(code, status === 401 ? 'JAMEY_ERR_UNAUTHENTICATED' : 'JAMEY_ERR_FORBIDDEN', what);
  assert.match(String(answer.headers['www-authenticate']), /^Bearer realm=/, `${what}: WWW-Authenticate`);
}

describe('scopes, from the route table', () => {
  test('the table has admin routes and every route declares a known scope or none', () => {
    assert.ok(allRoutes.some((r) => r.scope === 'admin'));
    for (const r of allRoutes) {
      assert.ok(r.scope == null || (SCOPES as readonly string[]).includes(r.scope), `${r.method} ${r.path}`);
    }
  });

  test('admin routes refuse chat-scoped keys (403) and no key (401); the admin key passes', async () => {
    const chat = await newKey(['chat']);
    const allButAdmin = await newKey(SCOPES.filter((s) => s !== 'admin'));
    for (const route of allRoutes.filter((r) => r.scope === 'admin')) {
      const path = concretePath(route);
      const body = goodBody(route);
      const what = `${route.method} ${route.path}`;
      assertRefusal(await call(route.method, path, { body }), 401, `${what} without a key`);
      assertRefusal(
        await call(route.method, path, { key: chat.token, body }),
        403,
        `${what} with a chat key`,
      );
      assertRefusal(
        await call(route.method, path, { key: allButAdmin.token, body }),
        403,
        `${what} with every scope but admin`,
      );
      const passed = await call(route.method, path, { key: service.adminKey, body });
      assert.ok(
        passed.status !== 401 && passed.status !== 403,
        `${what} with the admin key: ${passed.text.slice(0, 200)}`,
      );
      assert.ok(passed.status < 500, `${what}: ${passed.text.slice(0, 200)}`);
    }
  });

  test('every scoped route refuses a key holding every other scope but its own, and takes one with it', async () => {
    const holders = new Map<Scope, string>();
    const lackers = new Map<Scope, string>();
    for (const scope of SCOPES.filter((s) => s !== 'admin')) {
      holders.set(scope, (await newKey([scope])).token);
      lackers.set(scope, (await newKey(SCOPES.filter((s) => s !== 'admin' && s !== scope))).token);
    }
    for (const route of allRoutes) {
      const path = concretePath(route);
      const body = goodBody(route);
      const what = `${route.method} ${route.path}`;
      if (route.scope == null) {
        const open = await call(route.method, path);
        assert.ok(open.status !== 401 && open.status !== 403, `${what} is public`);
        continue;
      }
      assertRefusal(await call(route.method, path, { body }), 401, `${what} without a key`);
      if (route.scope === 'admin') continue;
      assertRefusal(
        await call(route.method, path, { key: lackers.get(route.scope) as string, body }),
        403,
        `${what} without ${route.scope}`,
      );
      const holder = await call(route.method, path, { key: holders.get(route.scope) as string, body });
      assert.ok(
        holder.status !== 401 && holder.status !== 403,
        `${what} with ${route.scope}: ${holder.text.slice(0, 200)}`,
      );
    }
  });

  test('a chat key cannot escalate: no new key, no rotation, no revocation, no rule change', async () => {
    const chat = await newKey(['chat']);
    const admin = service.adminKey;
    const adminId = parseToken(admin)?.id as string;
    const keysBefore = JSON.parse((await call('GET', '/v1/keys', { key: admin })).text) as {
      data: unknown[];
    };
    const rulesBefore = (await call('GET', '/v1/conscience/rules', { key: admin })).text;
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/v1/keys', { name: 'mine now', scopes: ['admin'] }],
      ['POST', '/v1/keys', { name: 'a little more', scopes: ['chat', 'memory:write'] }],
      ['POST', `/v1/keys/${chat.id}/rotate`, {}],
      ['POST', `/v1/keys/${adminId}/rotate`, { graceMs: 0 }],
      ['DELETE', `/v1/keys/${adminId}`, undefined],
      ['GET', `/v1/keys/${adminId}`, undefined],
      ['GET', '/v1/keys', undefined],
      [
        'POST',
        '/v1/conscience/rules',
        { name: 'allow-all', description: 'x', weight: 0, detectors: ['pii-email'], action: 'allow' },
      ],
    ];
    const rules = JSON.parse(rulesBefore) as { data: Array<{ name: string }> };
    const existing = rules.data[0]?.name;
    if (existing !== undefined) {
      attempts.push(['PUT', `/v1/conscience/rules/${existing}`, { enabled: false }]);
      attempts.push(['DELETE', `/v1/conscience/rules/${existing}`, undefined]);
    }
    for (const [method, path, body] of attempts) {
      assertRefusal(
        await call(method, path, { key: chat.token, body }),
        403,
        `${method} ${path} with a chat key`,
      );
    }
    // A malformed or doubled Authorization header does not get further than a plain chat key.
    for (const authorization of [
      `Bearer ${chat.token}, Bearer ${admin.slice(0, 20)}`,
      `Bearer ${chat.token} admin`,
    ]) {
      assertRefusal(
        await call('POST', '/v1/keys', { authorization, body: { name: 'x', scopes: ['admin'] } }),
        401,
        authorization,
      );
    }
    const keysAfter = JSON.parse((await call('GET', '/v1/keys', { key: admin })).text) as { data: unknown[] };
    assert.equal(keysAfter.data.length, keysBefore.data.length, 'no key was made');
    assert.equal(
      (await call('GET', '/v1/conscience/rules', { key: admin })).text,
      rulesBefore,
      'no rule changed',
    );
    assert.equal(
      (await call('GET', `/v1/keys/${adminId}`, { key: admin })).status,
      200,
      'the admin key still works',
    );
  });
});

describe('keys never appear', () => {
  test('in the logs, the metrics, the answers, the audit rows or anywhere in the database', async () => {
    const admin = service.adminKey;
    const chat = await newKey(['chat'], 'chat key for the leak check');
    const memory = await newKey(['memory:read', 'memory:write'], 'memory key for the leak check');
    const rotated = JSON.parse(
      (await call('POST', `/v1/keys/${memory.id}/rotate`, { key: admin, body: { graceMs: 60_000 } })).text,
    ) as {
      id: string;
      key: string;
    };
    tokens.add(rotated.key);
    const revoked = await newKey(['chat'], 'revoked');
    assert.equal((await call('DELETE', `/v1/keys/${revoked.id}`, { key: admin })).status, 200);

    // Keys that work, on routes that answer well and badly.
    for (const [key, path] of [
      [chat.token, '/v1/models'],
      [memory.token, '/v1/memories?limit=3'],
      [rotated.key, '/v1/memories?limit=oops'],
      [admin, '/v1/keys'],
    ] as const) {
      assert.ok((await call('GET', path, { key })).status < 500);
    }
    assert.equal(
      (
        await call('POST', '/v1/chat/completions', {
          key: chat.token,
          body: { messages: [{ role: 'user', content: 'hello' }] },
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await call('POST', '/v1/memories', {
          key: memory.token,
          body: { layer: 'episodic', content: 'kept' },
        })
      ).status,
      201,
    );

    // Keys that do not work, and keys where no key belongs.
    const id = parseToken(chat.token)?.id as string;
    const secret = parseToken(chat.token)?.secret as string;
    const wrongSecret = `jmy_${id}_${'A'.repeat(secret.length)}`;
    const mistyped = [
      wrongSecret,
      `${chat.token}x`,
      chat.token.slice(0, -1),
      revoked.token,
      `jmy_${'z'.repeat(12)}_${secret}`,
    ];
    for (const t of mistyped) tokens.add(t);
    const authorizations = [
      ...mistyped.map((t) => `Bearer ${t}`),
      `bearer ${chat.token}`,
      `Basic ${Buffer.from(`user:${chat.token}`).toString('base64')}`,
      `Token ${chat.token}`,
      chat.token,
      `Bearer ${chat.token} ${admin}`,
      `Bearer\t${admin}\textra`,
    ];
    for (const authorization of authorizations) {
      for (const [method, path] of [
        ['GET', '/v1/memories'],
        ['POST', '/v1/keys'],
        ['GET', '/v1/nowhere'],
      ] as const) {
        const answer = await call(method, path, {
          authorization,
          ...(method === 'POST' ? { body: {} } : {}),
        });
        assert.ok(answer.status < 500, `${authorization.slice(0, 12)}…: ${answer.status}`);
      }
    }
    for (const name of ['api_key', 'key', 'access_token', 'token']) {
      for (const path of ['/v1/memories', '/v1/models', '/metrics', '/healthz']) {
        const answer = await call('GET', `${path}?${name}=${encodeURIComponent(chat.token)}`);
        assert.ok(answer.status < 500);
      }
      const withKey = await call('GET', `/v1/memories?${name}=${encodeURIComponent(admin)}`, {
        key: memory.token,
      });
      assert.equal(
        withKey.status,
        400,
        'a key in the query string is not a way in, and it is an unknown parameter',
      );
    }
    for (const header of ['x-api-key', 'api-key', 'proxy-authorization']) {
      assert.equal(
        (await call('GET', '/v1/memories', { headers: { [header]: admin } })).status,
        401,
        `${header} is not a way in`,
      );
    }
    await service.jamey.keys.flush();

    const secrets = [...tokens].flatMap((t) => [t, parseToken(t)?.secret ?? t]);
    const leaks = (text: string): string[] => secrets.filter((s) => text.includes(s));

    // The logs: structured lines, debug level (the access log is on).
    const logs = logLines.join('');
    assert.ok(
      logLines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'request'),
      'the access log ran',
    );
    assert.deepEqual(leaks(logs), [], 'no key in the logs');
    assert.doesNotMatch(logs, /bearer|basic [a-z0-9+/=]{8,}/i, 'no Authorization header in the logs');

    // The metrics scrape, labels included.
    const metrics = await call('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.deepEqual(leaks(metrics.text), [], 'no key in the metrics');

    // Every answer, headers too, but the ones that issued a key (and those show only their own).
    for (const { what, answer, issuesKey } of answers) {
      let text = `${JSON.stringify(answer.headers)}\n${answer.text}`;
      // The answer that issues a key shows it (once); the keys made up from it are its prefixes.
      if (issuesKey) text = text.replaceAll((JSON.parse(answer.text) as { key: string }).key, '(issued)');
      assert.deepEqual(leaks(text), [], `${what} shows no key${issuesKey ? ' but the one it issued' : ''}`);
    }

    // The audit rows, and every other row of every table.
    const db = service.jamey.store.reader.connection;
    const audit = db.prepare('SELECT * FROM audit_log').all() as Array<Record<string, unknown>>;
    assert.ok(
      audit.some((r) => r['action'] === 'key.create') &&
        audit.some((r) => r['outcome'] === 'unauthenticated'),
    );
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
      name: string;
    }>;
    let cells = 0;
    for (const { name } of tables) {
      for (const row of db
        .prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`)
        .raw()
        .iterate() as Iterable<unknown[]>) {
        for (const cell of row) {
          if (typeof cell !== 'string' && !Buffer.isBuffer(cell)) continue;
          cells++;
          const text = typeof cell === 'string' ? cell : cell.toString('latin1');
          assert.deepEqual(leaks(text), [], `no key in table ${name}`);
        }
      }
    }
    assert.ok(cells > 100, `the database was read (${cells} text cells)`);
  });
});
