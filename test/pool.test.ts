import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';
import { TaskPool } from '../src/runtime/pool.js';

const filename = fileURLToPath(new URL('./fixtures/pool-tasks.js', import.meta.url));
const task = (name: string) => ({ filename, name });

const pool = new TaskPool(
  { maxThreads: 2, maxQueue: 2, taskDeadlineMs: 5_000, idleTimeoutMs: 60_000 },
  systemClock,
);
after(() => pool.destroy());

test('a task runs in a worker thread and returns its value', async () => {
  assert.deepEqual(await pool.run(task('echo'), { a: [1, 2] }), { a: [1, 2] });
  const tid = await pool.run<number>(task('threadId'), null);
  assert.ok(tid > 0, 'ran off the main thread');
});

test('a coded error thrown in the worker comes back with its code and details', async () => {
  await assert.rejects(pool.run(task('refuse'), null), (err) => {
    assert.ok(isJameyError(err, 'JAMEY_ERR_VALIDATION'));
    assert.deepEqual(err.details, [{ path: '/x', problem: 'wrong' }]);
    return true;
  });
  await assert.rejects(
    pool.run(task('plainThrow'), null),
    (err) => isJameyError(err, 'JAMEY_ERR_TASK_FAILED') && err.message === 'boom',
  );
});

test('a full queue gives JAMEY_ERR_POOL_SATURATED without running the task', async () => {
  const running = [pool.run(task('block'), { ms: 300 }), pool.run(task('block'), { ms: 300 })];
  const queued = [pool.run(task('block'), { ms: 1 }), pool.run(task('block'), { ms: 1 })];
  await assert.rejects(pool.run(task('echo'), 1), (err) => isJameyError(err, 'JAMEY_ERR_POOL_SATURATED'));
  assert.ok(pool.stats.saturated >= 1);
  await Promise.all([...running, ...queued]);
});

test('a task past its deadline fails with the code, and its thread is replaced', async () => {
  const t0 = performance.now();
  await assert.rejects(pool.run(task('block'), { ms: 2_000 }, { deadlineMs: 100 }), (err) =>
    isJameyError(err, 'JAMEY_ERR_DEADLINE_EXCEEDED'),
  );
  assert.ok(performance.now() - t0 < 1_500, 'the caller did not wait for the blocked thread');
  assert.equal(await pool.run(task('echo'), 'still works'), 'still works');
});

test('an aborted signal fails the task with JAMEY_ERR_ABORTED', async () => {
  const ac = new AbortController();
  const p = pool.run(task('block'), { ms: 1_000 }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, (err) => isJameyError(err, 'JAMEY_ERR_ABORTED'));
});

test('a worker that dies mid-task gives JAMEY_ERR_WORKER_CRASHED and the pool carries on', async () => {
  await assert.rejects(pool.run(task('crash'), null), (err) => isJameyError(err, 'JAMEY_ERR_WORKER_CRASHED'));
  assert.equal(await pool.run(task('echo'), 42), 42);
});
