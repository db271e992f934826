/** Shared bench plumbing: run tinybench tasks and report rows with the same-run baseline ratio. */
import { cpus, platform, release, totalmem } from 'node:os';
import { Bench } from 'tinybench';

export interface Row {
  suite: string;
  name: string;
  /** Jamey's figure. */
  value: number;
  unit: string;
  /** The same-run baseline's figure, when there is one. */
  baseline?: number;
  baselineName?: string;
  /** value / baseline. */
  ratio?: number;
  goal: string;
  met: boolean;
}

/** Runs `fn` repeatedly under tinybench and returns mean operations per second. */
export async function opsPerSecond(
  tasks: Record<string, () => unknown>,
  options: { time?: number; warmupTime?: number } = {},
): Promise<Record<string, number>> {
  const bench = new Bench({ time: options.time ?? 1500, warmupTime: options.warmupTime ?? 300 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn as () => Promise<void>);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`bench task ${task.name} did not complete: ${r.state}`);
    out[task.name] = r.throughput.mean;
  }
  return out;
}

/**
 * Runs the tasks in several alternating rounds and returns each task's median throughput and the
 * median per-round ratio of `subject` to `baseline`, so that load changes on a shared machine hit
 * both sides alike.
 */
export async function compareRounds(
  tasks: Record<string, () => unknown>,
  subject: string,
  baseline: string,
  options: { rounds?: number; time?: number } = {},
): Promise<{ ops: Record<string, number>; ratio: number }> {
  const rounds = options.rounds ?? 5;
  const perTask: Record<string, number[]> = {};
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side runs first.
    const names = Object.keys(tasks);
    if (r % 2 === 1) names.reverse();
    const ordered: Record<string, () => unknown> = {};
    for (const n of names) ordered[n] = tasks[n] as () => unknown;
    const ops = await opsPerSecond(ordered, { time: options.time ?? 500, warmupTime: 100 });
    for (const [n, v] of Object.entries(ops)) {
      perTask[n] ??= [];
      perTask[n].push(v);
    }
    ratios.push((ops[subject] ?? 0) / (ops[baseline] ?? 1));
  }
  const ops: Record<string, number> = {};
  for (const [n, vs] of Object.entries(perTask)) ops[n] = median(vs);
  return { ops, ratio: median(ratios) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The machine a run measured: CPU model and cores, RAM, OS, Node version, and when. */
export interface Machine {
  cpu: string;
  cores: number;
  /** Total RAM in GiB (absent in results written before it was recorded). */
  memoryGB?: number;
  /** e.g. "linux 6.8.0" (absent in results written before it was recorded). */
  os?: string;
  node: string;
  date: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(2);
}

export function markdown(rows: Row[]): string {
  const lines = [
    '| suite | measure | Jamey | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.suite} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${
        r.baseline === undefined
          ? '—'
          : `${fmt(r.baseline)} ${r.unit.split(' ')[0]} (${r.baselineName ?? ''})`
      } | ${r.ratio === undefined ? '—' : r.ratio.toFixed(3)} | ${r.goal} | ${r.met ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}
