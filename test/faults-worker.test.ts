/**
 * A worker thread that dies mid-task. Over HTTP: the thread computing a `POST /v1/phi` is ended
 * under it (as the OOM killer or a native fault would); the client gets a coded 500
 * JAMEY_ERR_WORKER_CRASHED, the pool starts a new thread and the next Φ request is answered. In the
 * pool: an exception nobody catches while a task runs fails that task with the code, and the next
 * task runs. (A task that calls process.exit is in pool.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { systemClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';
import { TaskPool } from '../src/runtime/pool.js';
import { BASIC_NETWORK, BASIC_PHI } from './fixtures/iit/basic-network.js';
import { type Service, startService } from './fixtures/service.js';

/**
 * A fully connected 5-node network with a noisy TPM (every mechanism a concept, every cut Φ > 0):
 * among the slowest systems of its size, seconds of work for one thread. Seeded, so every run is the
 * same network.
 */
function slowNetwork(): { tpm: number[][]; state: number[] } {
  let seed = 12_345;
  const next = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const n = 5;
  const tpm = Array.from({ length: 2 ** n }, () =>
    Array.from({ length: n }, () => Math.round((0.1 + 0.8 * next()) * 1000) / 1000),
  );
  return { tpm, state: [1, 0, 1, 0, 0] };
}

/** Resolves with the pool thread once one is busy (its event loop held by a task), for at most `ms`. */
async function busyThread(threads: () => readonly Worker[], ms = 20_000): Promise<Worker> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const t of threads()) {
      const start = t.performance.eventLoopUtilization();
      await new Promise((r) => setTimeout(r, 50));
      if (t.performance.eventLoopUtilization(start).utilization > 0.9) return t;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no pool thread became busy within ${ms} ms`);
}

async function postPhi(
  svc: Service,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${svc.base}/v1/phi`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('a pool thread that dies under a Φ request', () => {
  let svc: Service;
  before(async () => {
    // One thread, and no live Φ of the runtime itself: the only task is the request's.
    svc = await startService({ pool: { maxThreads: 1 } }, { integratedInfo: { live: false } });
  });
  after(() => svc.close());

  test('the client gets 500 JAMEY_ERR_WORKER_CRASHED; a new thread answers the next request', async () => {
    const pool = svc.jamey.runtime.pool;
    const answer = postPhi(svc, { ...slowNetwork(), complex: false });
    const thread = await busyThread(() => pool.instance.threads);
    await thread.terminate();

    const { status, json } = await answer;
    assert.equal(status, 500, JSON.stringify(json));
    assert.equal((json['error'] as { code: string }).code, 'JAMEY_ERR_WORKER_CRASHED');
    assert.equal(pool.stats.crashed, 1);

    const next = await postPhi(svc, { ...BASIC_NETWORK, complex: false });
    assert.equal(next.status, 200, JSON.stringify(next.json));
    assert.equal(next.json['phi'], BASIC_PHI);
    assert.ok(!pool.instance.threads.includes(thread), 'the dead thread was replaced');
    assert.equal((await fetch(`${svc.base}/healthz`)).status, 200);
  });
});

describe('an exception nobody catches inside a worker', () => {
  const filename = fileURLToPath(new URL('./fixtures/fault-tasks.js', import.meta.url));
  const task = (name: string) => ({ filename, name });
  const pool = new TaskPool(
    { maxThreads: 1, maxQueue: 4, taskDeadlineMs: 10_000, idleTimeoutMs: 60_000 },
    systemClock,
  );
  after(() => pool.destroy());

  test('while a task runs: the task fails with JAMEY_ERR_WORKER_CRASHED, the next one runs', async () => {
    await assert.rejects(
      pool.run(task('throwWhileRunning'), null),
      (err) => isJameyError(err, 'JAMEY_ERR_WORKER_CRASHED') && /mid-task/.test(err.message),
    );
    assert.equal(await pool.run(task('echo'), 'next'), 'next');
  });
});
