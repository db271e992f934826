/**
 * Benchmark of exact big Phi (IIT 3.0) on PyPhi's basic network and seeded random networks of 3 to
 * 7 nodes: single-threaded, and (`--pool`) through the worker pool.
 *
 *   npm run build
 *   node dist/bench/phi.js [--sizes 3,4,5,6,7] [--per-size 2] [--time-ms 2000] [--json out.json]
 *                          [--networks-out networks.json] [--pyphi pyphi-results.json]
 *   node dist/bench/phi.js --pool [--threads N] [--sizes ...] [--per-size 2] [--dense 5,6,7]
 *                          [--deadline-ms 60000] [--repeat 3]
 *   node dist/bench/phi.js --live [--sizes 3,4,5] [--per-size 4] [--ticks 600]
 *
 * `--pool` times each network single-threaded (`computeSia` on this thread), through the pool as one
 * task (`split: 'never'`) and with all threads (`split: 'auto'`), and reports the speed-up and
 * whether it finished within the deadline; `--dense` adds fully connected noisy networks (the worst
 * case), run only through the pool under the deadline. `--live` measures the cut-one approximation
 * against exact Phi on TPMs estimated the way the live Phi does (Laplace-smoothed frequencies of a
 * simulated activity sequence).
 *
 * `--networks-out` writes the networks (state-by-node TPM, cm, state) for
 * `bench/pyphi/time_pyphi.py`, which times PyPhi 1.2 on the same inputs; `--pyphi` reads its
 * output and adds PyPhi's time, the speed-up and whether Phi agrees to the table.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Bench } from 'tinybench';
import { computeSia, type SiaResult } from '../src/actors/integrated-info/index.js';
import { estimateTpm } from '../src/actors/integrated-info/live-estimator.js';
import { computePhi } from '../src/actors/integrated-info/phi-service.js';
import { systemClock } from '../src/runtime/clock.js';
import { toJameyError } from '../src/runtime/errors.js';
import { TaskPool } from '../src/runtime/pool.js';
import { mulberry32 } from '../src/runtime/random.js';
import { BASIC_NETWORK } from '../test/fixtures/iit/basic-network.js';

export interface BenchNetwork {
  name: string;
  tpm: number[][];
  cm: number[][];
  state: number[];
  nodes?: number[];
}

export interface PhiBenchRow {
  name: string;
  nodes: number;
  phi: number;
  concepts: number;
  meanMs: number;
  samples: number;
  pyphiMs?: number;
  speedup?: number;
  matchesPyphi?: boolean;
}

export interface PhiBenchOptions {
  sizes?: number[];
  perSize?: number;
  /** Minimum time budget per network for tinybench, in ms. */
  timeMs?: number;
  /** Include PyPhi's 5-node test networks big_subsys_all and rule152_s (default true). */
  classic?: boolean;
  /** PyPhi results (output of bench/pyphi/time_pyphi.py) to compare against. */
  pyphi?: { name: string; seconds?: number; phi?: number }[];
}

export { mulberry32 };

/** PyPhi `examples.basic_network()` in state (1, 0, 0). */
export function basicNetwork(): BenchNetwork {
  return {
    name: 'basic-3',
    tpm: BASIC_NETWORK.tpm.map((r) => [...r]),
    cm: BASIC_NETWORK.cm.map((r) => [...r]),
    state: [...BASIC_NETWORK.state],
  };
}

/**
 * A seeded random network of n nodes: node j always listens to node j - 1 (a ring, so the
 * network is strongly connected) plus up to two other random inputs; its ON probability depends
 * only on its inputs and is either deterministic (a random boolean function) or a random multiple
 * of 0.1; the state is one reachable from a random previous state.
 */
export function randomNetwork(seed: number, n: number): BenchNetwork {
  const rand = mulberry32(seed * 7919 + n);
  const cm: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const inputs: number[][] = [];
  for (let j = 0; j < n; j++) {
    const chosen = new Set<number>([(j + n - 1) % n]);
    const extra = Math.floor(rand() * 3);
    for (let c = 0; c < extra; c++) chosen.add(Math.floor(rand() * n));
    const sorted = [...chosen].sort((a, b) => a - b);
    inputs.push(sorted);
    for (const i of sorted) cm[i]![j] = 1;
  }
  const deterministic = rand() < 0.5;
  const tables = inputs.map((inp) =>
    Array.from({ length: 1 << inp.length }, () =>
      deterministic ? (rand() < 0.5 ? 0 : 1) : Math.round(rand() * 10) / 10,
    ),
  );
  const S = 1 << n;
  const tpm: number[][] = [];
  for (let s = 0; s < S; s++) {
    tpm.push(
      inputs.map((inp, j) => {
        let idx = 0;
        inp.forEach((i, b) => {
          if ((s >> i) & 1) idx |= 1 << b;
        });
        return tables[j]![idx]!;
      }),
    );
  }
  const prev = Math.floor(rand() * S);
  const state = tpm[prev]!.map((p) => (p > 0.5 || (p === 0.5 && rand() < 0.5) ? 1 : 0));
  return { name: `random-${n}-s${seed}`, tpm, cm, state };
}

/** PyPhi's slow 5-node test networks (test_big_phi.py `big_subsys_all`, `rule152_s`). */
export function classicNetworks(): BenchNetwork[] {
  const file = new URL('../../test/fixtures/iit/pyphi-examples.json', import.meta.url);
  const all: (BenchNetwork & { pyphi?: unknown })[] = JSON.parse(readFileSync(file, 'utf8'));
  return all
    .filter((e) => e.name === 'big_subsys_all' || e.name === 'rule152_s')
    .map(({ name, tpm, cm, state, nodes }) => ({ name, tpm, cm, state, ...(nodes ? { nodes } : {}) }));
}

export function benchNetworks(sizes: number[], perSize: number, classic = true): BenchNetwork[] {
  const out = [basicNetwork()];
  for (const n of sizes) for (let s = 1; s <= perSize; s++) out.push(randomNetwork(s, n));
  if (classic) out.push(...classicNetworks());
  return out;
}

/** Times `computeSia` on each network (one thread) and returns one row per network. */
export async function runPhiBench(options: PhiBenchOptions = {}): Promise<PhiBenchRow[]> {
  const sizes = options.sizes ?? [3, 4, 5, 6, 7];
  const networks = benchNetworks(sizes, options.perSize ?? 2, options.classic ?? true);
  const rows: PhiBenchRow[] = [];
  for (const net of networks) {
    let last: SiaResult | null = null;
    const bench = new Bench({ time: options.timeMs ?? 2000, iterations: 1, warmup: false });
    bench.add(net.name, () => {
      last = computeSia(net);
    });
    await bench.run();
    const task = bench.tasks[0]!;
    const result = task.result as
      | { latency?: { mean: number; samples?: unknown[] }; mean?: number; samples?: unknown[] }
      | undefined;
    const meanMs = result?.latency?.mean ?? result?.mean ?? Number.NaN;
    const samples = (result?.latency?.samples ?? result?.samples ?? []).length;
    const sia = last as SiaResult | null;
    const row: PhiBenchRow = {
      name: net.name,
      nodes: net.state.length,
      phi: sia?.phi ?? Number.NaN,
      concepts: sia?.concepts.length ?? 0,
      meanMs,
      samples,
    };
    const ref = options.pyphi?.find((p) => p.name === net.name);
    if (ref?.seconds !== undefined) {
      row.pyphiMs = ref.seconds * 1000;
      row.speedup = row.pyphiMs / meanMs;
      if (ref.phi !== undefined) row.matchesPyphi = Math.abs(ref.phi - row.phi) <= 1e-6;
    }
    rows.push(row);
  }
  return rows;
}

export function formatTable(rows: PhiBenchRow[]): string {
  const lines = [
    '| network | nodes | Phi | concepts | ours (ms) | PyPhi (ms) | speed-up | same Phi |',
    '|---|---:|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.nodes} | ${r.phi} | ${r.concepts} | ${r.meanMs.toFixed(2)} | ${
        r.pyphiMs === undefined ? '-' : r.pyphiMs.toFixed(1)
      } | ${r.speedup === undefined ? '-' : `${r.speedup.toFixed(1)}x`} | ${
        r.matchesPyphi === undefined ? '-' : r.matchesPyphi ? 'yes' : 'NO'
      } |`,
    );
  }
  return lines.join('\n');
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * A fully connected network whose every node is a random multiple of 0.1 of ON for every state: every
 * mechanism is a concept and no cut has Phi = 0, the slowest kind of network of its size.
 */
export function denseNetwork(seed: number, n: number): BenchNetwork {
  const rand = mulberry32(seed * 31 + n);
  const S = 1 << n;
  const tpm = Array.from({ length: S }, () => Array.from({ length: n }, () => Math.round(rand() * 10) / 10));
  const prev = Math.floor(rand() * S);
  const state = tpm[prev]!.map((p) => (p >= 0.5 ? 1 : 0));
  const cm = Array.from({ length: n }, () => new Array<number>(n).fill(1));
  return { name: `dense-${n}-s${seed}`, tpm, cm, state };
}

export interface PoolBenchRow {
  name: string;
  nodes: number;
  phi: number | null;
  concepts: number | null;
  /** Median ms on this thread (`computeSia`); null when not run. */
  singleMs: number | null;
  /** Median ms through the pool as one task. */
  oneTaskMs: number | null;
  /** Median ms through the pool with all threads. */
  poolMs: number | null;
  tasks: number | null;
  /** singleMs / poolMs. */
  speedup: number | null;
  /** Finished within the deadline with all threads, or the error code. */
  outcome: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeRepeated(repeat: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export interface PoolBenchOptions {
  sizes?: number[];
  perSize?: number;
  dense?: number[];
  threads?: number;
  deadlineMs?: number;
  repeat?: number;
}

/**
 * Single-threaded vs through the pool. Measurements alternate per network (single, one task, all
 * threads) so that load from other processes hits each alike; the pool's threads are warmed first.
 */
export async function runPoolBench(options: PoolBenchOptions = {}): Promise<PoolBenchRow[]> {
  const threads = options.threads ?? Math.max(1, availableParallelism());
  const deadlineMs = options.deadlineMs ?? 60_000;
  const repeat = options.repeat ?? 3;
  const pool = new TaskPool(
    { maxThreads: threads, maxQueue: 1024, taskDeadlineMs: deadlineMs, idleTimeoutMs: 600_000 },
    systemClock,
  );
  const rows: PoolBenchRow[] = [];
  try {
    const warm = basicNetwork();
    for (let i = 0; i < 20 * threads; i++) {
      await Promise.all(
        Array.from({ length: threads }, () => computePhi(pool, warm, { deadlineMs, split: 'always' })),
      );
    }
    const dense = options.dense ?? [];
    // Dense networks of up to 5 nodes finish in seconds: timed like the others.
    const timed = [
      ...benchNetworks(options.sizes ?? [3, 4, 5, 6, 7], options.perSize ?? 2, true),
      ...dense.filter((n) => n <= 5).map((n) => denseNetwork(1, n)),
    ];
    for (const net of timed) {
      let sia: SiaResult | null = null;
      const k = net.nodes?.length ?? net.state.length;
      // Fewer repeats for the slow ones: their run-to-run spread is small next to their length.
      const reps = k >= 6 ? Math.min(repeat, 2) : repeat;
      const singleMs = await timeRepeated(reps, () => {
        sia = computeSia(net);
      });
      const oneTaskMs = await timeRepeated(reps, () =>
        computePhi(pool, net, { deadlineMs, workers: 1, split: 'never' }),
      );
      let tasks = 0;
      const poolMs = await timeRepeated(reps, async () => {
        tasks = (await computePhi(pool, net, { deadlineMs, workers: threads })).tasks;
      });
      const s = sia as SiaResult | null;
      rows.push({
        name: net.name,
        nodes: k,
        phi: s?.phi ?? null,
        concepts: s?.concepts.length ?? null,
        singleMs,
        oneTaskMs,
        poolMs,
        tasks,
        speedup: singleMs / poolMs,
        outcome: poolMs <= deadlineMs ? 'ok' : 'late',
      });
    }
    for (const n of dense.filter((d) => d > 5)) {
      const net = denseNetwork(1, n);
      const t0 = performance.now();
      try {
        const r = await computePhi(pool, net, { deadlineMs, workers: threads });
        rows.push({
          name: net.name,
          nodes: n,
          phi: r.phi,
          concepts: r.concepts.length,
          singleMs: null,
          oneTaskMs: null,
          poolMs: performance.now() - t0,
          tasks: r.tasks,
          speedup: null,
          outcome: 'ok',
        });
      } catch (err) {
        rows.push({
          name: net.name,
          nodes: n,
          phi: null,
          concepts: null,
          singleMs: null,
          oneTaskMs: null,
          poolMs: performance.now() - t0,
          tasks: null,
          speedup: null,
          outcome: toJameyError(err).code,
        });
      }
    }
  } finally {
    await pool.destroy();
  }
  return rows;
}

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

export function formatPoolTable(rows: PoolBenchRow[], threads: number, deadlineMs: number): string {
  const lines = [
    `| network | nodes | Phi | concepts | this thread (ms) | pool, 1 task (ms) | pool, ${threads} threads (ms) | tasks | speed-up | within ${deadlineMs / 1000} s |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.nodes} | ${r.phi ?? '-'} | ${r.concepts ?? '-'} | ${ms(r.singleMs)} | ${ms(r.oneTaskMs)} | ${ms(
        r.poolMs,
      )} | ${r.tasks ?? '-'} | ${r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`} | ${
        r.outcome === 'ok' ? 'yes' : `no (${r.outcome})`
      } |`,
    );
  }
  return lines.join('\n');
}

export interface LiveErrorRow {
  nodes: number;
  samples: number;
  /** Mean and largest |cut-one - exact|. */
  meanAbsError: number;
  maxAbsError: number;
  /** Mean of |cut-one - exact| / exact over samples with exact > 0. */
  meanRelError: number;
  /** Samples where cut-one found the exact value. */
  exactMatches: number;
  meanExactPhi: number;
  exactMs: number;
  cutOneMs: number;
}

/**
 * Simulates `ticks` of activity of a random k-actor system (each actor's next activity a noisy
 * function of the current joint state), estimates the TPM as the live Phi does (Laplace, alpha = 1)
 * and computes exact and cut-one Phi of the last state on the same estimate.
 */
export function liveErrorBench(sizes: number[], perSize: number, ticks: number): LiveErrorRow[] {
  const rows: LiveErrorRow[] = [];
  for (const k of sizes) {
    const errs: number[] = [];
    const rels: number[] = [];
    const exacts: number[] = [];
    let exactMs = 0;
    let cutOneMs = 0;
    for (let seed = 1; seed <= perSize; seed++) {
      const rand = mulberry32(seed * 104729 + k);
      const truth = randomNetwork(seed, k);
      const seq: number[][] = [truth.state];
      for (let t = 1; t < ticks; t++) {
        const prev = seq[t - 1]!;
        let idx = 0;
        prev.forEach((v, j) => {
          if (v) idx |= 1 << j;
        });
        // The network's own rule with 10 % spontaneous flips, like actors woken by outside events.
        seq.push(truth.tpm[idx]!.map((p) => ((rand() < p ? 1 : 0) ^ (rand() < 0.1 ? 1 : 0)) as number));
      }
      const est = estimateTpm(seq, k, 1);
      const input = { tpm: est.tpm, state: seq[seq.length - 1]! };
      let t0 = performance.now();
      const exact = computeSia(input).phi;
      exactMs += performance.now() - t0;
      t0 = performance.now();
      const approx = computeSia(input, { cutOneApproximation: true }).phi;
      cutOneMs += performance.now() - t0;
      errs.push(Math.abs(approx - exact));
      if (exact > 0) rels.push(Math.abs(approx - exact) / exact);
      exacts.push(exact);
    }
    const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
    rows.push({
      nodes: k,
      samples: perSize,
      meanAbsError: mean(errs),
      maxAbsError: Math.max(...errs),
      meanRelError: mean(rels),
      exactMatches: errs.filter((e) => e <= 1e-6).length,
      meanExactPhi: mean(exacts),
      exactMs: exactMs / perSize,
      cutOneMs: cutOneMs / perSize,
    });
  }
  return rows;
}

export function formatLiveTable(rows: LiveErrorRow[]): string {
  const lines = [
    '| nodes | samples | mean exact Phi | mean abs error | max abs error | mean rel error | cut-one = exact | exact (ms) | cut-one (ms) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.nodes} | ${r.samples} | ${r.meanExactPhi.toFixed(4)} | ${r.meanAbsError.toFixed(4)} | ${r.maxAbsError.toFixed(
        4,
      )} | ${(100 * r.meanRelError).toFixed(1)} % | ${r.exactMatches}/${r.samples} | ${ms(r.exactMs)} | ${ms(r.cutOneMs)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizes = (argValue(args, '--sizes') ?? '3,4,5,6,7').split(',').map(Number);
  const perSize = Number(argValue(args, '--per-size') ?? 2);
  if (args.includes('--pool')) {
    const threads = Number(argValue(args, '--threads') ?? Math.max(1, availableParallelism()));
    const deadlineMs = Number(argValue(args, '--deadline-ms') ?? 60_000);
    const dense = argValue(args, '--dense')?.split(',').map(Number) ?? [];
    const rows = await runPoolBench({
      sizes,
      perSize,
      dense,
      threads,
      deadlineMs,
      repeat: Number(argValue(args, '--repeat') ?? 3),
    });
    console.log(formatPoolTable(rows, threads, deadlineMs));
    const jsonOut = argValue(args, '--json');
    if (jsonOut !== undefined) writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
    return;
  }
  if (args.includes('--live')) {
    const rows = liveErrorBench(
      (argValue(args, '--sizes') ?? '3,4,5').split(',').map(Number),
      Number(argValue(args, '--per-size') ?? 4),
      Number(argValue(args, '--ticks') ?? 600),
    );
    console.log(formatLiveTable(rows));
    return;
  }
  const networksOut = argValue(args, '--networks-out');
  if (networksOut !== undefined) {
    writeFileSync(networksOut, JSON.stringify(benchNetworks(sizes, perSize)));
    console.log(`wrote ${networksOut}`);
    if (!args.includes('--run')) return;
  }
  const pyphiFile = argValue(args, '--pyphi');
  const pyphi = pyphiFile === undefined ? undefined : JSON.parse(await readFile(pyphiFile, 'utf8'));
  const rows = await runPhiBench({
    sizes,
    perSize,
    timeMs: Number(argValue(args, '--time-ms') ?? 2000),
    pyphi,
  });
  console.log(formatTable(rows));
  const jsonOut = argValue(args, '--json');
  if (jsonOut !== undefined) writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
