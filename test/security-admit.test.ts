import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { parseToken, securityHeaders } from '../src/actors/security/index.js';
import { isJameyError } from '../src/runtime/errors.js';
import { startSecurity } from './fixtures/security.js';
import { tempDir } from './fixtures/store.js';

const options = { audit: { flushIntervalMs: 3_600_000 }, ddos: { sampleIntervalMs: 3_600_000 } };

function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('public routes: the address bucket (10/s, burst 50), refusals with headers, audit and metrics', async () => {
  const f = await startSecurity({ options });
  try {
    const health = { ip: '198.51.100.1', method: 'GET', route: '/healthz', scope: null };
    const first = f.layer.admit(health);
    assert.ok(first.ok);
    assert.deepEqual(first.principal, { keyId: null, tenant: 'ip:198.51.100.1', scopes: [] });
    assert.equal(first.headers['RateLimit-Limit'], '50');
    for (let i = 1; i < 50; i++) assert.ok(f.layer.admit(health).ok);
    const refused = f.layer.admit(health);
    assert.ok(!refused.ok);
    assert.equal(refused.reason, 'rate_limited');
    assert.ok(isJameyError(refused.error, 'JAMEY_ERR_RATE_LIMITED'));
    assert.equal(refused.error.status, 429);
    assert.deepEqual(refused.headers, {
      'RateLimit-Limit': '50',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '5',
      'Retry-After': '1',
    });
    f.clock.advance(100);
    assert.ok(f.layer.admit(health).ok, 'a token back after 100 ms');
    assert.ok(f.layer.admit({ ...health, ip: '198.51.100.2' }).ok, 'per address');
    for (let i = 0; i < 4; i++) f.layer.admit(health);

    await f.layer.flush();
    const rows = f.rows('audit_log').filter((r) => r.action === 'request.refused');
    assert.equal(rows.length, 1, 'identical refusals in one flush share a row');
    const row = rows[0] as Record<string, unknown>;
    assert.equal(row.actor, 'ip:198.51.100.1');
    assert.equal(row.target, '/healthz');
    assert.equal(row.outcome, 'rate_limited');
    const details = JSON.parse(row.details as string) as Record<string, unknown>;
    assert.equal(details.count, 5);
    assert.equal(details.status, 429);
    assert.equal(details.method, 'GET');

    const text = await f.registry.metrics();
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="rate_limited"}'), 5);
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="forbidden"}'), 0);
    assert.equal(metricValue(text, 'jamey_security_bans_active'), 0);
    assert.equal(metricValue(text, 'jamey_security_audit_failures_total'), 0);
  } finally {
    await f.close();
  }
});

test('order: address limit, then ban, then shedding, then authentication, key limit and scope', async () => {
  let lag = 0;
  const f = await startSecurity({
    options: { ...options, preAuthIpLimit: { rps: 1, burst: 3 } },
    eventLoopLagMs: () => lag,
  });
  try {
    const { token, key } = await f.client.createKey({
      name: 'limited',
      scopes: ['chat'],
      rateLimit: { rps: 1, burst: 2 },
    });
    const chat = {
      ip: '203.0.113.9',
      method: 'POST',
      route: '/v1/chat',
      authorization: `Bearer ${token}`,
      scope: 'chat' as const,
    };

    // Per-key limit after authentication: burst 2.
    const ok = f.layer.admit(chat);
    assert.ok(ok.ok);
    assert.equal(ok.headers['RateLimit-Limit'], '2', 'the key bucket, not the address one');
    assert.ok(f.layer.admit(chat).ok);
    const keyLimited = f.layer.admit(chat);
    assert.ok(!keyLimited.ok && keyLimited.reason === 'rate_limited');
    assert.equal(keyLimited.headers['RateLimit-Limit'], '2');
    assert.equal(keyLimited.headers['Retry-After'], '1');
    // The address's pre-auth bucket (burst 3) is now empty: the next one is refused before auth.
    const ipLimited = f.layer.admit(chat);
    assert.ok(!ipLimited.ok && ipLimited.reason === 'rate_limited');
    assert.equal(ipLimited.headers['RateLimit-Limit'], '3');

    // Shedding: refuses protected routes, never public ones.
    f.clock.advance(10_000);
    lag = 10_000;
    f.layer.ddos.sample();
    const shed = f.layer.admit(chat);
    assert.ok(!shed.ok && shed.reason === 'shed');
    assert.ok(isJameyError(shed.error, 'JAMEY_ERR_OVERLOADED'));
    assert.equal(shed.error.status, 503);
    assert.equal(shed.headers['Retry-After'], '2');
    assert.ok(f.layer.shouldShed());
    assert.ok(f.layer.admit({ ...chat, route: '/readyz', scope: null }).ok, 'readiness is not shed');
    lag = 0;
    f.layer.ddos.sample();

    // Abuse reported by the HTTP layer bans the address; the ban comes before authentication.
    for (let i = 0; i < 4; i++) f.layer.strike('203.0.113.9', 'payload_too_large');
    assert.ok(f.layer.isBanned('203.0.113.9'));
    f.clock.advance(5_000);
    const banned = f.layer.admit({ ...chat, authorization: 'Bearer nonsense' });
    assert.ok(!banned.ok && banned.reason === 'banned');
    assert.ok(isJameyError(banned.error, 'JAMEY_ERR_BANNED'));
    assert.equal(banned.headers['Retry-After'], '55');
    assert.equal(f.layer.onConnectionOpen('203.0.113.9'), false, 'a banned address cannot connect');
    assert.equal(f.layer.connectionRefusal('203.0.113.9').error.code, 'JAMEY_ERR_BANNED');
    f.clock.advance(55_000);
    assert.ok(f.layer.admit(chat).ok, 'the ban expired');

    await f.layer.flush();
    const outcomes = f.rows('audit_log').map((r) => `${r.action}:${r.outcome}:${r.actor}`);
    assert.ok(outcomes.includes(`request.refused:rate_limited:key:${key.id}`));
    assert.ok(outcomes.includes('request.refused:rate_limited:ip:203.0.113.9'));
    assert.ok(outcomes.includes('request.refused:shed:ip:203.0.113.9'));
    assert.ok(outcomes.includes('request.refused:banned:ip:203.0.113.9'));
    assert.ok(outcomes.includes('ip.ban:banned:ip:203.0.113.9'));
    assert.ok(outcomes.includes('connection.refused:banned:ip:203.0.113.9'));
    const text = await f.registry.metrics();
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="shed"}'), 1);
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="banned"}'), 2);
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="rate_limited"}'), 2);
    assert.equal(metricValue(text, 'jamey_security_bans_active'), 0, 'expired');
  } finally {
    await f.close();
  }
});

test('connection cap refusals are counted and audited; mailbox fill sheds', async () => {
  let fill = 0;
  const f = await startSecurity({
    options: { ...options, ddos: { ...options.ddos, maxConnectionsPerIp: 2 } },
    mailboxFill: () => fill,
  });
  try {
    assert.ok(f.layer.onConnectionOpen('192.0.2.50'));
    assert.ok(f.layer.onConnectionOpen('192.0.2.50'));
    assert.equal(f.layer.onConnectionOpen('192.0.2.50'), false);
    assert.equal(f.layer.connectionRefusal('192.0.2.50').error.code, 'JAMEY_ERR_RATE_LIMITED');
    f.layer.onConnectionClose('192.0.2.50');
    assert.ok(f.layer.onConnectionOpen('192.0.2.50'));
    fill = 0.95;
    f.layer.ddos.sample();
    assert.ok(f.layer.shouldShed());
    await f.layer.flush();
    const rows = f.rows('audit_log').filter((r) => r.action === 'connection.refused');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'connection_cap');
    const text = await f.registry.metrics();
    assert.equal(metricValue(text, 'jamey_security_refusals_total', '{reason="connection_cap"}'), 1);
    assert.equal(metricValue(text, 'jamey_security_shedding'), 1);
  } finally {
    await f.close();
  }
});

test('no secret in audit rows, metrics or admin audit details; lost audit writes are counted', async () => {
  const f = await startSecurity({ options: { ...options, audit: { ...options.audit, maxPending: 3 } } });
  try {
    const { token, key } = await f.client.createKey({ name: 'secretive', scopes: ['memory:read'] });
    const secret = parseToken(token)!.secret;
    const base = { ip: '192.0.2.99', method: 'GET', route: '/v1/memories', scope: 'memory:write' as const };
    f.layer.admit({ ...base, authorization: `Bearer ${token}` }); // 403
    // A raw URL with a key in it, passed by mistake as the route, is masked too.
    f.layer.admit({ ...base, route: `/v1/memories?key=${token}`, authorization: `Bearer ${token}` });
    f.layer.auditAdmin({ keyId: key.id, tenant: key.id, scopes: ['admin'] }, 'backup', 'jamey.db', 'ok', {
      note: `called with ${token}`,
      authorization: `Bearer ${token}`,
      nested: { apiKey: token },
    });
    await f.layer.flush();
    const audit = f.rows('audit_log');
    const dump = JSON.stringify(audit);
    assert.ok(!dump.includes(secret), 'the secret never reaches the audit log');
    assert.ok(!dump.includes(token));
    const admin = audit.find((r) => r.action === 'admin.backup');
    assert.ok(admin);
    assert.deepEqual(JSON.parse(admin.details as string), {
      note: 'called with jmy_[redacted]',
      authorization: '[redacted]',
      nested: { apiKey: '[redacted]' },
    });
    assert.ok(audit.some((r) => r.outcome === 'forbidden' && r.actor === `key:${key.id}`));
    const text = await f.registry.metrics();
    assert.ok(!text.includes(secret) && !text.includes(key.id), 'metrics carry neither keys nor key ids');

    // A full buffer drops and counts.
    for (let i = 0; i < 5; i++) {
      f.layer.admit({ ...base, ip: `192.0.2.${i}`, scope: 'chat', authorization: undefined });
    }
    assert.equal(f.layer.audit.failures, 2, 'three distinct entries fit, two are lost');
    await f.layer.flush();
    // A failing store write is counted too (the store is gone).
    await f.system.close();
    f.layer.audit.record({ actor: 'system', action: 'test', outcome: 'ok' });
    await f.layer.audit.flush();
    assert.equal(f.layer.audit.failures, 3);
    assert.equal(metricValue(await f.registry.metrics(), 'jamey_security_audit_failures_total'), 3);
  } finally {
    await f.close();
  }
});

test('security headers for every response', () => {
  assert.deepEqual(securityHeaders(), {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Cache-Control': 'no-store',
  });
  assert.equal(securityHeaders({ noStore: false })['Cache-Control'], undefined);
});

test('layer options are validated with names', async () => {
  await assert.rejects(
    startSecurity({ options: { preAuthIpLimit: { rps: 0, burst: 1 }, bogus: true } as never }),
    (e: unknown) => {
      assert.ok(isJameyError(e, 'JAMEY_ERR_INVALID_OPTION'));
      assert.match(e.message, /"security\.preAuthIpLimit\.rps" must be a number from 0\.001/);
      assert.match(e.message, /unknown option "security\.bogus"/);
      return true;
    },
  );
});

test('stopping the actor writes the buffered audit entries before the store closes', async () => {
  const data = tempDir('jamey-security-stop-');
  try {
    const f = await startSecurity({ options, dir: data.dir });
    f.layer.admit({ ip: '192.0.2.1', method: 'GET', route: '/v1/chat', scope: 'chat' });
    assert.equal(f.layer.audit.pendingCount, 1);
    await f.close();
    const db = new Database(join(data.dir, 'jamey.db'), { readonly: true });
    const rows = db.prepare("SELECT outcome FROM audit_log WHERE action = 'request.refused'").all();
    db.close();
    assert.deepEqual(rows, [{ outcome: 'unauthenticated' }]);
  } finally {
    data.cleanup();
  }
});

test('the request path is fast: a cached key admitted 50k times well under a second', async () => {
  const f = await startSecurity({
    options: {
      ...options,
      rateLimit: { defaultLimit: { rps: 1e6, burst: 1e6 } },
      preAuthIpLimit: { rps: 1e6, burst: 1e6 },
    },
  });
  try {
    const { token } = await f.client.createKey({ name: 'fast', scopes: ['chat'] });
    const r = {
      ip: '192.0.2.3',
      method: 'POST',
      route: '/v1/chat',
      authorization: `Bearer ${token}`,
      scope: 'chat' as const,
    };
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) if (!f.layer.admit(r).ok) assert.fail('refused');
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms for 50k (${((ms * 1000) / 50_000).toFixed(2)} µs each)`);
  } finally {
    await f.close();
  }
});
