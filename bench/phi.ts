/**
 * Single-threaded benchmark of exact big Phi (IIT 3.0) on PyPhi's basic network and seeded random
 * networks of 3 to 7 nodes.
 *
 *   npm run build
 *   node dist/bench/phi.js [--sizes 3,4,5,6,7] [--per-size 2] [--time-ms 2000] [--json out.json]
 *                          [--networks-out networks.json] [--pyphi pyphi-results.json]
 *
 * `--networks-out` writes the networks (state-by-node TPM, cm, state) for
 * `bench/pyphi/time_pyphi.py`, which times PyPhi 1.2 on the same inputs; `--pyphi` reads its
 * output and adds PyPhi's time, the speed-up and whether Phi agrees to the table.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Bench } from 'tinybench';
import { computeSia, type SiaResult } from '../src/actors/integrated-info/index.js';

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

/** Mulberry32: small, fast, seedable PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** PyPhi `examples.basic_network()` in state (1, 0, 0). */
export function basicNetwork(): BenchNetwork {
  return {
    name: 'basic-3',
    tpm: [
      [0, 0, 0],
      [0, 0, 1],
      [1, 0, 1],
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 0],
    ],
    cm: [
      [0, 0, 1],
      [1, 0, 1],
      [1, 1, 0],
    ],
    state: [1, 0, 0],
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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizes = (argValue(args, '--sizes') ?? '3,4,5,6,7').split(',').map(Number);
  const perSize = Number(argValue(args, '--per-size') ?? 2);
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
