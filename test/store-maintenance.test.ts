import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MemoryQueries } from '../src/actors/memory/repository.js';
import { SCHEMA_VERSION } from '../src/actors/store/migrations.js';
import { isJameyError } from '../src/runtime/errors.js';
import { memoryArgs, startStore, tempDir, WRITER_MODES } from './fixtures/store.js';

const tmp = tempDir();
after(() => tmp.cleanup());

for (const mode of WRITER_MODES) {
  test(`backup with progress, then restore brings back exactly the backed-up state (${mode})`, async () => {
    const file = join(tmp.dir, `live-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, {}, mode);
    const before = Array.from({ length: 300 }, () => memoryArgs({ content: 'x'.repeat(2000) }));
    await Promise.all(before.map((r) => store.write('memory.insert', r)));
    const progress: number[] = [];
    const backupFile = join(tmp.dir, `backup-${mode.replace(' ', '-')}.db`);
    const result = await store.backup(backupFile, (p) => progress.push(p.remainingPages));
    assert.ok(existsSync(backupFile));
    assert.ok(result.totalPages > 100 && result.bytes > 500_000);
    assert.ok(progress.length >= 1, 'progress reported');
    const check = new Database(backupFile, { readonly: true });
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal((check.prepare('SELECT count(*) AS n FROM memories').get() as { n: number }).n, 300);
    check.close();

    const later = memoryArgs();
    await store.write('memory.insert', later);
    const restored = await store.restore(backupFile);
    assert.equal(restored.schemaVersion, SCHEMA_VERSION);
    const q = new MemoryQueries(store.reader);
    assert.equal(q.get(later.id), undefined, 'the write after the backup is gone');
    assert.equal(q.get(before[123]!.id)?.content.length, 2000);
    assert.equal(q.countByLayer()['long-term'], 300);
    // FTS follows the restored content.
    assert.equal(q.fullText('xxxx*', 500).length, 300, 'the full-text index matches the restored rows');
    const after1 = memoryArgs({ content: 'written after the restore' });
    await store.write('memory.insert', after1);
    assert.equal(q.fullText('restore', 5).length, 1);
    await system.close();
  });
}

for (const mode of WRITER_MODES) {
  test(`restore refuses a file that is not a database, leaving the live one untouched (${mode})`, async () => {
    const file = join(tmp.dir, `live2-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, {}, mode);
    const keep = memoryArgs();
    await store.write('memory.insert', keep);
    await assert.rejects(store.restore(join(tmp.dir, 'missing.db')), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
    await assert.rejects(store.restore(new URL(import.meta.url).pathname), (err) =>
      isJameyError(err, 'JAMEY_ERR_VALIDATION'),
    );
    assert.equal(new MemoryQueries(store.reader).get(keep.id)?.id, keep.id);
    await system.close();
  });
}

for (const mode of WRITER_MODES) {
  test(`maintenance prunes expired and stale memories, optimizes, vacuums and checkpoints (${mode})`, async () => {
    const file = join(tmp.dir, `maint-${mode.replace(' ', '-')}.db`);
    const { store, system } = await startStore(file, {}, mode);
    const now = Date.now();
    const day = 86_400_000;
    const expired = memoryArgs({ layer: 'short-term', expiresAt: now - 1 });
    const fresh = memoryArgs({ layer: 'short-term', expiresAt: now + 60_000 });
    const stale = memoryArgs({ layer: 'long-term', createdAt: now - 31 * day });
    const recent = memoryArgs({ layer: 'long-term', createdAt: now - 29 * day });
    const oldSemantic = memoryArgs({ layer: 'semantic', createdAt: now - 365 * day });
    const filler = Array.from({ length: 200 }, () =>
      memoryArgs({ layer: 'episodic', content: 'y'.repeat(4000) }),
    );
    for (const r of [expired, fresh, stale, recent, oldSemantic, ...filler])
      await store.write('memory.insert', r);
    for (const r of filler) await store.write('memory.delete', { id: r.id });
    const report = await store.maintain();
    assert.equal(report.pruned['memory'], 2);
    assert.equal(report.optimized, true);
    assert.ok(report.vacuumedPages > 0, `freed pages: ${report.vacuumedPages}`);
    assert.ok(report.checkpoint !== undefined);
    const q = new MemoryQueries(store.reader);
    assert.equal(q.get(expired.id), undefined);
    assert.equal(q.get(stale.id), undefined);
    for (const k of [fresh, recent, oldSemantic]) assert.ok(q.get(k.id), `${k.layer} kept`);
    await system.close();
  });
}
