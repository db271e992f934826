import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ADMIN_KEY_FILE, parseToken } from '../src/actors/security/index.js';
import { isJameyError } from '../src/runtime/errors.js';
import { type SecurityFixture, startSecurity } from './fixtures/security.js';
import { tempDir } from './fixtures/store.js';

const DAY = 86_400_000;
// Timers far apart so that moving the manual clock by days stays cheap; tests flush by hand.
const options = { audit: { flushIntervalMs: 3_600_000 }, ddos: { sampleIntervalMs: 3_600_000 } };

let f: SecurityFixture;
after(async () => f?.close());

const req = (
  authorization: string | undefined,
  scope: 'chat' | 'memory:read' | 'memory:write' | 'admin',
) => ({
  ip: '192.0.2.7',
  method: 'POST',
  route: '/v1/test',
  authorization: authorization === undefined ? undefined : `Bearer ${authorization}`,
  scope,
});

test('setup', async () => {
  f = await startSecurity({ options });
});

test('a new key: the token is shown once, only SHA-256 of the secret is stored', async () => {
  const created = await f.client.createKey({ name: 'ci', scopes: ['chat', 'memory:read'] });
  const parts = parseToken(created.token);
  assert.ok(parts, `token ${created.token.slice(0, 8)}… has the jmy_<id>_<secret> form`);
  assert.match(created.token, /^jmy_[a-z2-7]{12}_[A-Za-z0-9_-]{32}$/);
  assert.equal(parts.id, created.key.id);
  assert.equal(Buffer.from(parts.secret, 'base64url').length, 24, '192 random bits');
  assert.deepEqual(created.key.scopes, ['chat', 'memory:read']);
  assert.equal(created.key.createdAt, f.clock.now());

  const rows = f.rows('api_keys');
  assert.equal(rows.length, 1);
  const row = rows[0] as Record<string, unknown>;
  assert.equal(row.secret_hash, createHash('sha256').update(parts.secret).digest('hex'));
  const dump = JSON.stringify(rows);
  assert.ok(!dump.includes(parts.secret), 'the secret is not in the row');
  assert.ok(!dump.includes(created.token));

  const listed = await f.client.listKeys();
  assert.equal(listed.length, 1);
  assert.ok(!('secretHash' in (listed[0] as object)) && !('secret_hash' in (listed[0] as object)));
  assert.ok(!JSON.stringify(listed).includes(parts.secret));
  assert.ok(!JSON.stringify(listed).includes(row.secret_hash as string), 'list never shows the hash');
  assert.deepEqual(await f.client.getKey(created.key.id), listed[0]);
});

test('verification: a good key is admitted with its id as tenant, and the hot path does no SQL', async () => {
  const { key, token } = await f.client.createKey({ name: 'verify', scopes: ['chat'] });
  const before = f.layer.keys.lookups;
  const a = f.layer.admit(req(token, 'chat'));
  assert.ok(a.ok, 'admitted');
  assert.deepEqual(a.principal, { keyId: key.id, tenant: key.id, scopes: ['chat'] });
  assert.equal(a.headers['RateLimit-Limit'], '50');
  assert.equal(a.headers['RateLimit-Remaining'], '49');
  for (let i = 0; i < 20; i++) assert.ok(f.layer.admit(req(token, 'chat')).ok);
  assert.equal(f.layer.keys.lookups - before, 1, 'one read for the first use, then the cache');
});

test('a wrong secret, an unknown id and a malformed key all get the same 401', async () => {
  const { token } = await f.client.createKey({ name: 'wrong', scopes: ['chat'] });
  const parts = parseToken(token)!;
  const flipped = parts.secret[0] === 'A' ? 'B' : 'A';
  const wrongSecret = `jmy_${parts.id}_${flipped}${parts.secret.slice(1)}`;
  const unknownId = `jmy_aaaaaaaaaaaa_${parts.secret}`;
  assert.deepEqual(f.layer.keys.verify(wrongSecret), { ok: false, reason: 'mismatch' });
  assert.deepEqual(f.layer.keys.verify(unknownId), { ok: false, reason: 'unknown' });
  assert.deepEqual(f.layer.keys.verify('jmy_short'), { ok: false, reason: 'malformed' });
  const answers = [wrongSecret, unknownId, 'jmy_short', 'not-a-key'].map((t) =>
    f.layer.admit(req(t, 'chat')),
  );
  for (const a of answers) {
    assert.ok(!a.ok);
    assert.equal(a.error.code, 'JAMEY_ERR_UNAUTHENTICATED');
    assert.equal(a.error.status, 401);
    assert.equal(a.headers['WWW-Authenticate'], 'Bearer realm="jamey", error="invalid_token"');
    assert.equal(a.error.message, (answers[0] as { error: Error }).error.message, 'no oracle in the message');
  }
  const missing = f.layer.admit(req(undefined, 'chat'));
  assert.ok(!missing.ok);
  assert.equal(missing.error.status, 401);
  assert.equal(missing.headers['WWW-Authenticate'], 'Bearer realm="jamey"');
  const basic = f.layer.admit({ ...req(undefined, 'chat'), authorization: `Basic ${token}` });
  assert.ok(!basic.ok && basic.error.status === 401, 'only the Bearer scheme');
  assert.ok(
    f.layer.admit({ ...req(undefined, 'chat'), authorization: `bearer   ${token}` }).ok,
    'scheme is case-insensitive',
  );
});

test('scopes: a missing scope is 403 naming it; admin implies every scope', async () => {
  const reader = await f.client.createKey({ name: 'reader', scopes: ['memory:read'] });
  const admin = await f.client.createKey({ name: 'root', scopes: ['admin'] });
  assert.ok(f.layer.admit(req(reader.token, 'memory:read')).ok);
  for (const scope of ['memory:write', 'chat', 'admin'] as const) {
    const a = f.layer.admit(req(reader.token, scope));
    assert.ok(!a.ok);
    assert.equal(a.error.code, 'JAMEY_ERR_FORBIDDEN');
    assert.equal(a.error.status, 403);
    assert.equal(
      a.headers['WWW-Authenticate'],
      `Bearer realm="jamey", error="insufficient_scope", scope="${scope}"`,
    );
  }
  for (const scope of ['chat', 'memory:read', 'memory:write', 'admin'] as const) {
    assert.ok(f.layer.admit(req(admin.token, scope)).ok, `admin may ${scope}`);
  }
});

test('rotation: the old key works through the grace period, then is refused', async () => {
  const original = await f.client.createKey({
    name: 'rotating',
    scopes: ['chat'],
    rateLimit: { rps: 5, burst: 20 },
  });
  assert.ok(f.layer.admit(req(original.token, 'chat')).ok, 'cached before rotation');
  const rotated = await f.client.rotateKey(original.key.id);
  assert.notEqual(rotated.key.id, original.key.id);
  assert.equal(rotated.key.name, 'rotating');
  assert.deepEqual(rotated.key.scopes, ['chat']);
  assert.deepEqual(rotated.key.rateLimit, { rps: 5, burst: 20 });
  assert.equal(rotated.old.replacedBy, rotated.key.id);
  assert.equal(rotated.old.expiresAt, f.clock.now() + 7 * DAY, 'default grace: 7 days');
  const fresh = f.layer.admit(req(rotated.token, 'chat'));
  assert.ok(fresh.ok);
  assert.equal(fresh.headers['RateLimit-Limit'], '20', 'the limit carried over');

  f.clock.advance(7 * DAY - 1);
  assert.ok(f.layer.admit(req(original.token, 'chat')).ok, 'old key valid just before the grace ends');
  f.clock.advance(1);
  const late = f.layer.admit(req(original.token, 'chat'));
  assert.ok(!late.ok);
  assert.equal(late.error.status, 401);
  assert.deepEqual(f.layer.keys.verify(original.token), { ok: false, reason: 'expired' });
  assert.ok(f.layer.admit(req(rotated.token, 'chat')).ok, 'the new key goes on');

  await assert.rejects(f.client.rotateKey(original.key.id), (e: unknown) =>
    isJameyError(e, 'JAMEY_ERR_CONFLICT'),
  );
  const short = await f.client.rotateKey(rotated.key.id, { graceMs: 0 });
  assert.ok(!f.layer.admit(req(rotated.token, 'chat')).ok, 'a zero grace ends at once');
  assert.ok(f.layer.admit(req(short.token, 'chat')).ok);
});

test('revocation: refused at once, even though the key was cached', async () => {
  const { key, token } = await f.client.createKey({ name: 'doomed', scopes: ['chat'] });
  assert.ok(f.layer.admit(req(token, 'chat')).ok);
  assert.ok(f.layer.admit(req(token, 'chat')).ok, 'cached');
  const revoked = await f.client.revokeKey(key.id, 'key:someadmin');
  assert.equal(revoked.revokedAt, f.clock.now());
  const a = f.layer.admit(req(token, 'chat'));
  assert.ok(!a.ok);
  assert.equal(a.error.status, 401);
  assert.deepEqual(f.layer.keys.verify(token), { ok: false, reason: 'revoked' });
  assert.equal(
    (await f.client.revokeKey(key.id)).revokedAt,
    revoked.revokedAt,
    'revoking twice changes nothing',
  );
  await assert.rejects(f.client.rotateKey(key.id), (e: unknown) => isJameyError(e, 'JAMEY_ERR_CONFLICT'));
  await assert.rejects(f.client.revokeKey('nosuchkey123'), (e: unknown) =>
    isJameyError(e, 'JAMEY_ERR_NOT_FOUND'),
  );
});

test('last use is written at most once a minute per key, in batches', async () => {
  const { key, token } = await f.client.createKey({ name: 'touch', scopes: ['chat'] });
  const t0 = f.clock.now();
  f.layer.admit(req(token, 'chat'));
  f.clock.advance(10_000);
  f.layer.admit(req(token, 'chat'));
  await f.layer.flush();
  assert.equal(
    (await f.client.getKey(key.id)).lastUsedAt,
    t0,
    'the first use; the second was within the minute',
  );
  f.clock.advance(50_000);
  f.layer.admit(req(token, 'chat'));
  await f.layer.flush();
  assert.equal((await f.client.getKey(key.id)).lastUsedAt, t0 + 60_000);
});

test('bad key input is refused with field details', async () => {
  await assert.rejects(
    f.client.createKey({ name: '', scopes: ['chat', 'root' as never], rateLimit: { rps: -1, burst: 0 } }),
    (e: unknown) => {
      assert.ok(isJameyError(e, 'JAMEY_ERR_VALIDATION'));
      const paths = (e.details as Array<{ path: string }>).map((d) => d.path);
      assert.deepEqual(paths, ['/name', '/scopes/1', '/rateLimit', '/rateLimit']);
      return true;
    },
  );
});

test('key changes are audited in the same transaction, never with a secret', async () => {
  const created = await f.client.createKey({ name: 'audited', scopes: ['memory:write'] }, 'key:operator');
  const rotated = await f.client.rotateKey(created.key.id, { by: 'key:operator' });
  await f.client.revokeKey(rotated.key.id, 'key:operator');
  const rows = f.rows('audit_log').filter((r) => r.target === created.key.id || r.target === rotated.key.id);
  assert.deepEqual(
    rows.map((r) => [r.actor, r.action, r.target, r.outcome]),
    [
      ['key:operator', 'key.create', created.key.id, 'ok'],
      ['key:operator', 'key.rotate', created.key.id, 'ok'],
      ['key:operator', 'key.revoke', rotated.key.id, 'ok'],
    ],
  );
  const everything = JSON.stringify(f.rows('audit_log'));
  for (const t of [created.token, rotated.token]) {
    assert.ok(!everything.includes(parseToken(t)!.secret), 'no secret in the audit log');
  }
  const listed = await f.client.auditLog({ action: 'key.rotate' });
  assert.ok(
    listed.some(
      (r) =>
        r.target === created.key.id && (r.details as { replacedBy: string }).replacedBy === rotated.key.id,
    ),
  );
});

test('admin bootstrap: the first start writes admin.key (0600) once; later starts print nothing', async () => {
  const data = tempDir('jamey-bootstrap-');
  try {
    const first = await startSecurity({ options, dir: data.dir });
    const boot = await first.client.ensureAdminKey(data.dir);
    assert.ok(boot, 'a key on first start');
    const file = join(data.dir, ADMIN_KEY_FILE);
    assert.equal(boot.file, file);
    assert.equal(readFileSync(file, 'utf8'), `${boot.token}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const a = first.layer.admit({
      ip: '::1',
      method: 'GET',
      route: '/v1/admin/keys',
      authorization: `Bearer ${boot.token}`,
      scope: 'admin',
    });
    assert.ok(a.ok, 'the bootstrap key is an admin key');
    assert.equal(await first.client.ensureAdminKey(data.dir), undefined, 'not twice in one run');
    const audit = first.rows('audit_log').filter((r) => r.action === 'key.bootstrap');
    assert.equal(audit.length, 1);
    assert.ok(!JSON.stringify(audit).includes(parseToken(boot.token)!.secret));
    await first.close();

    const second = await startSecurity({ options, dir: data.dir });
    assert.equal(await second.client.ensureAdminKey(data.dir), undefined, 'second start: nothing to print');
    rmSync(file);
    assert.equal(await second.client.ensureAdminKey(data.dir), undefined, 'the database has an admin key');
    assert.equal(second.rows('api_keys').length, 1);
    await second.close();
  } finally {
    data.cleanup();
  }
  const fileOnly = tempDir('jamey-bootstrap-');
  try {
    writeFileSync(join(fileOnly.dir, ADMIN_KEY_FILE), 'kept elsewhere\n', { mode: 0o600 });
    const third = await startSecurity({ options, dir: fileOnly.dir });
    assert.equal(
      await third.client.ensureAdminKey(fileOnly.dir),
      undefined,
      'an existing file is never replaced',
    );
    assert.equal(third.rows('api_keys').length, 0);
    await third.close();
  } finally {
    fileOnly.cleanup();
  }
});
