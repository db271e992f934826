import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type CliRun, runCli } from './fixtures/cli.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-cli-store-');
after(() => tmp.cleanup());

function run(args: string[]): Promise<CliRun> {
  return runCli(join(tmp.dir, 'data'), args);
}

test('jamey backup shows its progress and restore brings the data back', async () => {
  // Something to keep: a key made through the CLI.
  const created = await run(['keys', 'create', '--name', 'kept', '--scopes', 'chat']);
  assert.equal(created.code, 0, created.stderr);
  const kept = JSON.parse(created.stdout) as { id: string };
  const file = join(tmp.dir, 'backup.db');
  const backup = await run(['backup', file]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stderr, /^backup: \d+% \(\d+\/\d+ pages\)$/m);
  assert.match(backup.stderr, /backup: 100%/);
  assert.ok(existsSync(file));
  assert.ok((JSON.parse(backup.stdout) as { bytes: number }).bytes > 0);

  const revoked = await run(['keys', 'revoke', kept.id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const restore = await run(['restore', file]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stderr, /restore: done/);
  const list = JSON.parse((await run(['keys', 'list'])).stdout) as Array<{
    id: string;
    revokedAt: number | null;
  }>;
  assert.equal(
    list.find((k) => k.id === kept.id)?.revokedAt,
    null,
    'the revocation after the backup is gone',
  );
});

test('jamey maintain reports each task; wrong usage is one line and status 2', async () => {
  const m = await run(['maintain', 'optimize,incremental-vacuum']);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stderr, /maintain: optimize…\nmaintain: incremental-vacuum…/);
  const report = JSON.parse(m.stdout) as Array<{ task: string; optimized: boolean }>;
  assert.deepEqual(
    report.map((r) => r.task),
    ['optimize', 'incremental-vacuum'],
  );
  for (const args of [['maintain', 'polish'], ['backup'], ['restore']]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const missing = await run(['restore', join(tmp.dir, 'nope.db')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /does not exist/);
});

test('jamey memory import streams JSON lines with progress; export writes them back; bad lines are named', async () => {
  const file = join(tmp.dir, 'memories.jsonl');
  const lines = Array.from({ length: 1200 }, (_, i) =>
    JSON.stringify({
      layer: 'semantic',
      content: `Imported fact number ${i} about topic ${i % 37}.`,
      entityId: 'importer',
    }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  const imported = await run(['memory', 'import', file]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stderr, /^import: 1000 lines \(\d+ stored, \d+ merged, \d+\/s\)$/m);
  const summary = JSON.parse(imported.stdout) as { lines: number; stored: number; merged: number };
  assert.equal(summary.lines, 1200);
  assert.equal(summary.stored + summary.merged, 1200);

  const exported = await run(['memory', 'export']);
  assert.equal(exported.code, 0, exported.stderr);
  const rows = exported.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { content: string; entityId: string });
  assert.equal(rows.filter((r) => r.entityId === 'importer').length, summary.stored);
  assert.ok(rows.some((r) => r.content === 'Imported fact number 7 about topic 7.'));

  writeFileSync(file, '{"layer":"semantic","content":"ok"}\n{not json\n');
  const bad = await run(['memory', 'import', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /line 2 of .* is not JSON/);
  writeFileSync(file, '{"layer":"nowhere","content":"x"}\n');
  const invalid = await run(['memory', 'import', file]);
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stderr, /line 1: .*layer/);
});
