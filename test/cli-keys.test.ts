import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type CliRun, runCli } from './fixtures/cli.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-cli-');
after(() => tmp.cleanup());

function run(args: string[]): Promise<CliRun> {
  return runCli(tmp.dir, args);
}

test('jamey keys create | list | rotate | revoke on the data folder', async () => {
  const created = await run([
    'keys',
    'create',
    '--name',
    'ci bot',
    '--scopes',
    'chat,memory:read',
    '--rps',
    '5',
    '--burst',
    '20',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout) as { id: string; key: string; scopes: string[]; rateLimit: unknown };
  assert.match(key.key, /^jmy_/);
  assert.deepEqual(key.scopes, ['chat', 'memory:read']);
  assert.deepEqual(key.rateLimit, { rps: 5, burst: 20 });
  const listed = await run(['keys', 'list']);
  assert.equal(listed.code, 0);
  assert.ok(listed.stdout.includes(key.id));
  assert.ok(!listed.stdout.includes(key.key.slice(-20)), 'the secret is never listed');
  const rotated = await run(['keys', 'rotate', key.id, '--grace-days', '1']);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = JSON.parse(rotated.stdout) as { id: string; replaces: string };
  assert.equal(fresh.replaces, key.id);
  const revoked = await run(['keys', 'revoke', fresh.id]);
  assert.equal(revoked.code, 0);
  assert.ok((JSON.parse(revoked.stdout) as { revokedAt: number | null }).revokedAt);
});

test('wrong usage prints one line and exits non-zero', async () => {
  for (const args of [
    ['frobnicate'],
    ['keys'],
    ['keys', 'create', '--name', 'x'],
    ['keys', 'create', '--name', 'x', '--scopes', 'root'],
    ['keys', 'list', '--bogus'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^jamey: /);
  }
  const missing = await run(['keys', 'revoke', 'nosuchkey']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /JAMEY_ERR_NOT_FOUND/);
});
