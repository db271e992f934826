import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { parseToken } from '../src/actors/security/index.js';
import { type Service, startService } from './fixtures/service.js';

let service: Service;
let base: string;
let admin: string;

before(async () => {
  service = await startService();
  base = service.base;
  admin = service.adminKey;
  assert.match(admin, /^jmy_/);
});
after(() => service.close());

async function call(
  method: string,
  path: string,
  key?: string,
  body?: unknown,
  extra: Record<string, string> = {},
) {
  const headers: Record<string, string> = { ...extra };
  if (key !== undefined) headers['authorization'] = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  const isJson = String(res.headers['content-type'] ?? '').startsWith('application/json');
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string | undefined>,
    text,
    json: (isJson && text.length > 0 ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const code = (r: { json: Record<string, unknown> }) =>
  (r.json['error'] as { code?: string } | undefined)?.code;

async function newKey(
  scopes: string[],
  rateLimit?: { rps: number; burst: number },
): Promise<{ id: string; key: string }> {
  const r = await call('POST', '/v1/keys', admin, {
    name: `test ${scopes.join('+')}`,
    scopes,
    ...(rateLimit ? { rateLimit } : {}),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.json['id'] as string, key: r.json['key'] as string };
}

test('401 without a key, 403 with the wrong scope, security headers on every response', async () => {
  const none = await call('GET', '/v1/memories');
  assert.equal(none.status, 401);
  assert.equal(code(none), 'JAMEY_ERR_UNAUTHENTICATED');
  assert.match(none.headers['www-authenticate'] ?? '', /^Bearer realm="jamey"/);
  const wrong = await call('GET', '/v1/memories', 'jmy_nope_nope');
  assert.equal(wrong.status, 401);
  const chat = await newKey(['chat']);
  const forbidden = await call('GET', '/v1/memories', chat.key);
  assert.equal(forbidden.status, 403);
  assert.equal(code(forbidden), 'JAMEY_ERR_FORBIDDEN');
  assert.equal((await call('GET', '/v1/keys', chat.key)).status, 403, 'admin routes refuse other scopes');
  for (const r of [none, forbidden, await call('GET', '/healthz'), await call('GET', '/nowhere')]) {
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.ok(r.headers['content-security-policy']);
  }
});

test('429 past the key rate limit, with RateLimit-* and Retry-After', async () => {
  const slow = await newKey(['memory:read'], { rps: 1, burst: 2 });
  const first = await call('GET', '/v1/memories', slow.key);
  assert.equal(first.status, 200);
  assert.equal(first.headers['ratelimit-limit'], '2');
  assert.equal(first.headers['ratelimit-remaining'], '1');
  await call('GET', '/v1/memories', slow.key);
  const limited = await call('GET', '/v1/memories', slow.key);
  assert.equal(limited.status, 429);
  assert.equal(code(limited), 'JAMEY_ERR_RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal(limited.headers['ratelimit-remaining'], '0');
});

test('rotation keeps the old key working through the grace period; revocation stops a key at once', async () => {
  const k = await newKey(['memory:read']);
  const rotated = await call('POST', `/v1/keys/${k.id}/rotate`, admin, { graceMs: 60_000 });
  assert.equal(rotated.status, 201);
  const fresh = rotated.json['key'] as string;
  assert.notEqual(fresh, k.key);
  assert.equal((await call('GET', '/v1/memories', k.key)).status, 200, 'old key in its grace period');
  assert.equal((await call('GET', '/v1/memories', fresh)).status, 200);
  const revoked = await call('DELETE', `/v1/keys/${rotated.json['id'] as string}`, admin);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.json['revokedAt']);
  assert.equal((await call('GET', '/v1/memories', fresh)).status, 401);
  const listed = await call('GET', '/v1/keys', admin);
  const text = listed.text;
  for (const token of [fresh, k.key]) {
    const secret = parseToken(token)?.secret ?? token;
    assert.ok(secret.length >= 20 && !text.includes(secret), 'secrets are never listed');
  }
  const metrics = await call('GET', '/metrics');
  assert.ok(!metrics.text.includes(fresh) && !metrics.text.includes(admin), 'keys never appear in metrics');
});

test('responses are cached per tenant: another key never sees a cached entry', async () => {
  const a = await newKey(['memory:read', 'memory:write']);
  const b = await newKey(['memory:read', 'memory:write']);
  assert.equal((await call('GET', '/v1/memories?limit=7', a.key)).headers['x-cache'], 'MISS');
  assert.equal((await call('GET', '/v1/memories?limit=7', a.key)).headers['x-cache'], 'HIT');
  assert.equal(
    (await call('GET', '/v1/memories?limit=7', b.key)).headers['x-cache'],
    'MISS',
    'not served from A',
  );
  const noCache = await call('GET', '/v1/memories?limit=7', a.key, undefined, {
    'cache-control': 'no-cache',
  });
  assert.equal(noCache.headers['x-cache'], 'MISS');
});

test('a read after a write never returns a stale cached result', async () => {
  const k = await newKey(['memory:read', 'memory:write']);
  const search = { query: 'what colour is the front door', entityId: 'house', limit: 5 };
  const before1 = await call('POST', '/v1/memories/search', k.key, search);
  await call('POST', '/v1/memories/search', k.key, search);
  assert.equal((await call('POST', '/v1/memories/search', k.key, search)).headers['x-cache'], 'HIT');
  assert.deepEqual(before1.json['results'], []);
  const stored = await call('POST', '/v1/memories', k.key, {
    layer: 'semantic',
    content: 'The front door is painted dark green.',
    entityId: 'house',
  });
  assert.equal(stored.status, 201);
  const after1 = await call('POST', '/v1/memories/search', k.key, search);
  assert.equal(after1.headers['x-cache'], 'MISS');
  assert.equal((after1.json['results'] as Array<{ id: string }>)[0]?.id, stored.json['id']);
  const list = await call('GET', '/v1/memories?entityId=house', k.key);
  assert.equal((list.json['data'] as unknown[]).length, 1);
  await call('DELETE', `/v1/memories/${stored.json['id'] as string}`, k.key);
  const afterDelete = await call('POST', '/v1/memories/search', k.key, search);
  assert.deepEqual(afterDelete.json['results'], [], 'a deleted memory is not served from the cache');
  assert.deepEqual((await call('GET', '/v1/memories?entityId=house', k.key)).json['data'], []);
});

test('load shedding: with the event loop lagging, new work gets 503 with Retry-After; health still answers', async () => {
  const shedding = await startService(
    {},
    { security: { ddos: { maxEventLoopLagMs: 50, sampleIntervalMs: 250 } } },
  );
  const url = shedding.base;
  const key = shedding.adminKey;
  try {
    // Hold the event loop past a whole sampling interval, as an overloaded process would; the
    // sample taken right after sees the delay and sheds until the next sample.
    await new Promise((r) => setTimeout(r, 300)); // let sampling start
    // On a loaded machine the sample can land late: block again (at most five times) until one sees it.
    let shed = await request(`${url}/healthz`);
    await shed.body.dump();
    for (let attempt = 0; attempt < 5; attempt++) {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        /* busy */
      }
      await new Promise((r) => setTimeout(r, 5));
      shed = await request(`${url}/v1/memories`, { headers: { authorization: `Bearer ${key}` } });
      if (shed.statusCode === 503) break;
      await shed.body.dump();
    }
    const body = (await shed.body.json()) as { error: { code: string } };
    assert.equal(shed.statusCode, 503);
    assert.equal(body.error.code, 'JAMEY_ERR_OVERLOADED');
    assert.ok(Number(shed.headers['retry-after']) >= 1);
    const health = await request(`${url}/healthz`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();
  } finally {
    await shedding.close();
  }
});
