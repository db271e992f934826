/** Pool threads lower their own scheduling priority, so the event loop wins the CPU (Linux). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/runtime/clock.js';
import { defaultOptions } from '../src/runtime/options.js';
import { TaskPool } from '../src/runtime/pool.js';
import { yieldToEventLoop } from '../src/runtime/thread-priority.js';

const poolTasksFile = fileURLToPath(new URL('./fixtures/pool-tasks.js', import.meta.url));
const pool = new TaskPool({ ...defaultOptions().pool, maxThreads: 1 }, systemClock);
after(() => pool.destroy());

/** The nice value of one of this process's threads, from /proc. */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

test('a pool thread runs at nice +10 while the event loop keeps its priority', {
  skip: process.platform !== 'linux',
}, async () => {
  const tid = await pool.run<number>({ filename: poolTasksFile, name: 'osThreadId' }, null);
  assert.notEqual(tid, process.pid);
  assert.equal(niceOf(tid), niceOf(process.pid) + 10);
  const mainNice = niceOf(process.pid);
  assert.equal(yieldToEventLoop('pool'), undefined, 'the main thread is left alone');
  assert.equal(niceOf(process.pid), mainNice);
});

test('the store writer thread runs at nice +5', { skip: process.platform !== 'linux' }, async () => {
  const { Store } = await import('../src/actors/store/store.js');
  const { newSystem, tempDir } = await import('./fixtures/store.js');
  const { readdirSync } = await import('node:fs');
  const tmp = tempDir();
  const before = new Set(readdirSync(`/proc/${process.pid}/task`));
  const store = new Store({ file: `${tmp.dir}/t.db`, thread: { writers: {} } });
  const system = newSystem();
  store.register(system);
  await system.start();
  try {
    const added = readdirSync(`/proc/${process.pid}/task`)
      .filter((t) => !before.has(t))
      .map(Number);
    const nices = added.map(niceOf);
    assert.ok(nices.includes(niceOf(process.pid) + 5), `a new thread at nice +5 (${nices.join(', ')})`);
  } finally {
    await system.close();
    tmp.cleanup();
  }
});
