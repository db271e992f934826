/**
 * Kernel benchmarks, each against a baseline measured in the same run
 * (alternating rounds, medians, so a change of load on the machine hits both sides alike):
 * 1. messages/s through one actor (tell → handler) vs a raw mnemonist ring-buffer loop calling the
 *    same handler; goal ≥ 10 M/s and ≥ 30 % of raw;
 * 2. ask round trips/s (pipelined batches, and one at a time); goal ≥ 1 M/s;
 * 3. trivial pool task round trips/s through pool.ts vs bare piscina.run; goal overhead < 10 %.
 */
import { fileURLToPath } from 'node:url';
import { FixedDeque } from 'mnemonist';
import { Piscina } from 'piscina';
import { systemClock } from '../src/runtime/clock.js';
import { RuntimeMetrics } from '../src/runtime/metrics.js';
import { TaskPool } from '../src/runtime/pool.js';
import { ActorSystem, systemOptions } from '../src/runtime/system.js';
import { compareRounds, opsPerSecond, type Row } from './lib.js';

const BATCH = 1000;

function newSystem(capacity: number): ActorSystem {
  return new ActorSystem(
    systemOptions({ mailbox: { capacity, overflow: 'reject' }, shutdownTimeoutMs: 5000 }),
  );
}

export async function actorThroughput(time?: number): Promise<Row[]> {
  let sink = 0;
  const handler = (m: number): void => {
    sink += m;
  };
  const system = newSystem(BATCH);
  const ref = system.spawn<number, void>({ name: 'bench', start: () => ({ receive: handler }) });
  await system.start();
  const host = system.host('bench');
  if (host === undefined) throw new Error('no host');
  const ring = new FixedDeque<number>(Array, BATCH);
  const { ops, ratio } = await compareRounds(
    {
      raw: () => {
        for (let i = 0; i < BATCH; i++) ring.push(i);
        while (ring.size > 0) handler(ring.shift() as number);
      },
      actor: async () => {
        for (let i = 0; i < BATCH; i++) ref.tell(i);
        await host.whenIdle();
      },
    },
    'actor',
    'raw',
    time === undefined ? {} : { time },
  );
  await system.close();
  if (sink < 0) console.log(sink);
  const value = (ops['actor'] ?? 0) * BATCH;
  const baseline = (ops['raw'] ?? 0) * BATCH;
  return [
    {
      suite: 'actor',
      name: 'tell → handler, messages/s',
      value,
      unit: 'msg/s',
      baseline,
      baselineName: 'raw ring-buffer loop',
      ratio,
      goal: '≥ 10 M/s and ≥ 0.30 of raw',
      met: value >= 10e6 && ratio >= 0.3,
    },
  ];
}

export async function askRoundTrips(time?: number): Promise<Row[]> {
  const system = newSystem(BATCH);
  const ref = system.spawn<number, number>({ name: 'echo', start: () => ({ receive: (n) => n + 1 }) });
  await system.start();
  const SEQ = 100;
  const promises: Array<Promise<number>> = new Array(BATCH);
  const ops = await opsPerSecond(
    {
      pipelined: async () => {
        for (let i = 0; i < BATCH; i++) promises[i] = ref.ask(i);
        await Promise.all(promises);
      },
      sequential: async () => {
        for (let i = 0; i < SEQ; i++) await ref.ask(i);
      },
      'baseline: promise round trip': async () => {
        for (let i = 0; i < SEQ; i++) await Promise.resolve(i + 1);
      },
    },
    time === undefined ? {} : { time },
  );
  await system.close();
  const pipelined = (ops['pipelined'] ?? 0) * BATCH;
  const sequential = (ops['sequential'] ?? 0) * SEQ;
  const bare = (ops['baseline: promise round trip'] ?? 0) * SEQ;
  return [
    {
      suite: 'ask',
      name: `round trips/s, ${BATCH} in flight`,
      value: pipelined,
      unit: 'asks/s',
      goal: '≥ 1 M/s',
      met: pipelined >= 1e6,
    },
    {
      suite: 'ask',
      name: 'round trips/s, one at a time',
      value: sequential,
      unit: 'asks/s',
      baseline: bare,
      baselineName: 'awaiting a resolved promise',
      ratio: sequential / bare,
      goal: '(reported)',
      met: true,
    },
  ];
}

export async function poolOverhead(time?: number): Promise<Row[]> {
  const filename = fileURLToPath(new URL('./fixtures/trivial-task.js', import.meta.url));
  const threads = 2;
  const bare = new Piscina({ filename, name: 'bareEcho', minThreads: threads, maxThreads: threads });
  // Same thread count, both threads started up front, as pool.ts does.
  const pool = new TaskPool(
    { maxThreads: threads, maxQueue: 10_000, taskDeadlineMs: 30_000, idleTimeoutMs: 60_000 },
    systemClock,
  );
  // As in the runtime: the task-time histogram is bound.
  new RuntimeMetrics({ defaultMetrics: false }).bindPool(pool);
  const task = { filename, name: 'echo' };
  const IN_FLIGHT = 32;
  // Warm both pools' threads before measuring.
  await Promise.all(Array.from({ length: 64 }, (_, i) => Promise.all([bare.run(i), pool.run(task, i)])));
  const { ops, ratio } = await compareRounds(
    {
      'bare piscina.run': async () => {
        const ps = new Array(IN_FLIGHT);
        for (let i = 0; i < IN_FLIGHT; i++) ps[i] = bare.run(i);
        await Promise.all(ps);
      },
      'pool.ts': async () => {
        const ps = new Array(IN_FLIGHT);
        for (let i = 0; i < IN_FLIGHT; i++) ps[i] = pool.run(task, i);
        await Promise.all(ps);
      },
    },
    'pool.ts',
    'bare piscina.run',
    { rounds: 11, ...(time === undefined ? {} : { time }) },
  );
  await bare.destroy();
  await pool.destroy();
  const value = (ops['pool.ts'] ?? 0) * IN_FLIGHT;
  const baseline = (ops['bare piscina.run'] ?? 0) * IN_FLIGHT;
  return [
    {
      suite: 'pool',
      name: `trivial task round trips/s, ${IN_FLIGHT} in flight`,
      value,
      unit: 'tasks/s',
      baseline,
      baselineName: 'bare piscina.run',
      ratio,
      goal: 'overhead < 10 % (ratio > 0.90)',
      met: ratio > 0.9,
    },
  ];
}
