import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { tempDir, WRITER_MODES, type WriterMode } from './fixtures/store.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const child = fileURLToPath(new URL('./fixtures/store-writer-child.js', import.meta.url));

/** Runs the writer child until it has acknowledged at least `minAcks` writes plus a random extra time, then SIGKILLs it. */
function runAndKill(file: string, mode: WriterMode, minAcks: number, extraMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, file, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let buffer = '';
    let stderr = '';
    let armed = false;
    proc.stderr.on('data', (c) => (stderr += c));
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('mem_')) acked.push(l);
      if (!armed && acked.length >= minAcks) {
        armed = true;
        setTimeout(() => proc.kill('SIGKILL'), extraMs);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      else resolve(acked);
    });
  });
}

test('after SIGKILL at random points, every acknowledged write is there and the file is intact', async () => {
  const file = join(tmp.dir, 'durable.db');
  const acked: string[] = [];
  for (let round = 0; round < 4; round++) {
    // The writer on the event loop and on its own thread, in turn, on the same file.
    const mode = WRITER_MODES[round % 2] as WriterMode;
    acked.push(...(await runAndKill(file, mode, 200, Math.floor(Math.random() * 300))));
  }
  assert.ok(acked.length >= 800, `${acked.length} acknowledged writes`);
  const db = new Database(file);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const has = db.prepare('SELECT 1 FROM memories WHERE id = ?').pluck();
  const missing = acked.filter((id) => has.get(id) === undefined);
  assert.deepEqual(missing, [], 'no acknowledged write was lost');
  const fts = db
    .prepare("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'durable'")
    .pluck()
    .get() as number;
  const rows = db.prepare('SELECT count(*) FROM memories').pluck().get() as number;
  assert.equal(fts, rows, 'the full-text index agrees with the table');
  db.close();
});
