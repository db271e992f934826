/**
 * A full disk, end to end: the service's data folder on a small tmpfs, filled by HTTP writes until
 * SQLite reports SQLITE_FULL. The writes that do not fit get 507 JAMEY_ERR_STORAGE_FULL, none that
 * was acknowledged is lost, reads keep working, a WAL checkpoint on the full disk fails with the same
 * code while the writer carries on, writes succeed again once space is freed, a close on the full
 * disk loses nothing, and the file passes `PRAGMA integrity_check`.
 *
 * Mounting a tmpfs needs root on Linux; elsewhere the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { isJameyError } from '../src/runtime/errors.js';
import { type Service, startService } from './fixtures/service.js';

const unlimited = { rps: 1e6, burst: 1e6 };
const mountPoint = mkdtempSync(join(tmpdir(), 'jamey-full-disk-'));
const dataDir = join(mountPoint, 'data');
const filler = join(mountPoint, 'filler');

/** Mounts a 3 MiB tmpfs on `mountPoint`; returns why it cannot, or false when it is mounted. */
function mountSmallDisk(): string | false {
  if (process.platform !== 'linux') return `a tmpfs mount needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (run the tests as root to include it)';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return false;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `mount -t tmpfs is not permitted here: ${stderr || (err as Error).message}`;
  }
}

const skip = mountSmallDisk();
after(() => {
  if (skip === false) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      // Something still holds a file open: detach now, the kernel frees it when it is closed.
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
  }
  rmdirSync(mountPoint);
});

interface Acked {
  id: string;
  content: string;
}

interface Refused {
  status: number;
  body: { error?: { code?: string; message?: string } };
}

function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

async function postMemory(svc: Service, token: string, content: string): Promise<Response> {
  return fetch(`${svc.base}/v1/memories`, {
    method: 'POST',
    headers: auth(token),
    body: JSON.stringify({ layer: 'episodic', content, entityId: 'disk' }),
  });
}

/** Four writers POST memories until `refusals` writes have been refused; a bound keeps it finite. */
async function fillDisk(svc: Service, token: string, acked: Acked[], refusals = 12): Promise<Refused[]> {
  const refused: Refused[] = [];
  let attempts = 0;
  const writer = async (w: number): Promise<void> => {
    while (refused.length < refusals && attempts++ < 5_000) {
      const content = `writer ${w}: ${Array.from({ length: 40 }, () => randomBytes(5).toString('hex')).join(' ')}`;
      const res = await postMemory(svc, token, content);
      const body = (await res.json()) as Acked & Refused['body'];
      if (res.status === 201) acked.push({ id: body.id, content });
      else refused.push({ status: res.status, body });
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  return refused;
}

function assertStorageFull(refused: readonly Refused[]): void {
  assert.ok(refused.length > 0, 'the disk filled up');
  for (const r of refused) {
    assert.equal(r.status, 507, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, 'JAMEY_ERR_STORAGE_FULL');
  }
}

async function assertReadable(svc: Service, token: string, acked: readonly Acked[]): Promise<void> {
  const wrong: string[] = [];
  for (const m of acked) {
    const res = await fetch(`${svc.base}/v1/memories/${m.id}`, { headers: auth(token) });
    const body = (await res.json()) as { content?: string };
    if (res.status !== 200 || body.content !== m.content) wrong.push(`${m.id}: ${res.status}`);
  }
  assert.deepEqual(wrong, [], 'every acknowledged memory reads back');
}

test('a full disk gives 507 JAMEY_ERR_STORAGE_FULL, loses no acknowledged write and recovers', {
  skip,
}, async () => {
  // Space that can be given back later without a remount.
  writeFileSync(filler, Buffer.alloc(1 << 20));
  const options = { dataDir };
  const jameyOptions = { security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited } };
  const acked: Acked[] = [];
  let svc: Service | undefined = await startService(options, jameyOptions);
  const token = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  try {
    assertStorageFull(await fillDisk(svc, token, acked));
    assert.ok(acked.length > 0, 'writes were acknowledged before the disk filled');

    // Reads keep working, and the service stays up.
    await assertReadable(svc, token, acked);
    const search = await fetch(`${svc.base}/v1/memories/search`, {
      method: 'POST',
      headers: auth(token),
      body: JSON.stringify({ query: acked[0]?.content.split(' ')[2], entityId: 'disk' }),
    });
    assert.equal(search.status, 200, await search.text());
    assert.equal((await fetch(`${svc.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${svc.base}/readyz`)).status, 200, 'reads are still served');

    // A checkpoint needs room in the database file: it fails with the code, and the writer lives on.
    await assert.rejects(svc.jamey.store.maintain(['checkpoint']), (err) =>
      isJameyError(err, 'JAMEY_ERR_STORAGE_FULL'),
    );
    const store = svc.jamey.runtime.health().actors.find((a) => a.name === 'store');
    assert.deepEqual(store, { name: 'store', status: 'running', restarts: 0 });

    // Space freed: the same process writes again.
    rmSync(filler);
    const again = await postMemory(svc, token, `after the filler went: ${randomBytes(8).toString('hex')}`);
    const body = (await again.json()) as Acked;
    assert.equal(again.status, 201, JSON.stringify(body));
    acked.push({ id: body.id, content: body.content });

    // Full again, then closed while full: what was acknowledged sits in the WAL and survives.
    assertStorageFull(await fillDisk(svc, token, acked));
    await svc.close();
    svc = undefined;

    execFileSync('mount', ['-o', 'remount,size=16m', mountPoint], { stdio: 'pipe' });
    svc = await startService(options, jameyOptions);
    await assertReadable(svc, token, acked);
    const fresh = await postMemory(svc, token, `on a roomier disk: ${randomBytes(8).toString('hex')}`);
    assert.equal(fresh.status, 201);
    await svc.close();
    svc = undefined;
  } finally {
    await svc?.close();
  }

  const db = new Database(join(dataDir, 'jamey.db'));
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const has = db.prepare('SELECT 1 FROM memories WHERE id = ?').pluck();
    assert.deepEqual(
      acked.filter((m) => has.get(m.id) === undefined).map((m) => m.id),
      [],
      'every acknowledged memory is in the file',
    );
    const rows = db.prepare('SELECT count(*) FROM memories').pluck().get() as number;
    const indexed = db.prepare('SELECT count(*) FROM memories_fts').pluck().get() as number;
    assert.equal(indexed, rows, 'the full-text index agrees with the table');
    assert.equal(rows, acked.length + 1, 'no refused write left a row behind');
  } finally {
    db.close();
  }
});
