/**
 * The load ladder's rules, apart from any I/O so that they can be tested alone: a closed-loop
 * concurrency ladder (1, 4, 16, … connections) climbs until throughput stops growing, then runs a
 * few steps past that point; past saturation a service should shed the surplus (503/429, at once)
 * and keep serving near its peak, never collapse (throughput falling away, 5xx, dropped
 * connections).
 *
 * Throughput here is goodput: 2xx answers per second. A service that answered everything with 503
 * past saturation would keep its raw request rate and still have collapsed for its users.
 */
import type { Row } from '../lib.js';
import type { LoadResult } from './generator.js';

/** One step of the ladder: the generator's figures at one concurrency. */
export interface LoadStep {
  connections: number;
  /** Answers per second, whatever their status. */
  rps: number;
  /** 2xx answers per second. */
  okRps: number;
  /** Latency of all answers, ms. */
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  /** Requests that got no answer (connection refused or reset, timeouts). */
  errors: number;
}

/** One endpoint's ladder, as kept in the results file for the charts. */
export interface LoadCurve {
  /** Short name of the endpoint, e.g. "cached GET". */
  endpoint: string;
  method: string;
  path: string;
  steps: LoadStep[];
}

/** Growth below which the next step counts as no longer growing: 10 %. */
export const DEFAULT_GROWTH = 0.1;

/** Past-saturation goodput below this share of the peak is a collapse. */
export const COLLAPSE_SHARE = 0.5;

/** A step's figures from the generator's result. */
export function stepOf(connections: number, r: LoadResult): LoadStep {
  let ok = 0;
  for (const [status, n] of Object.entries(r.statuses)) if (status.startsWith('2')) ok += n;
  return {
    connections,
    rps: r.rps,
    okRps: r.requests === 0 ? 0 : (r.rps * ok) / r.requests,
    p50: r.p50,
    p99: r.p99,
    max: r.max,
    statuses: r.statuses,
    errors: r.errors,
  };
}

/**
 * Index of the saturating step: the last step whose goodput grew by more than `growth` over every
 * step before it, provided some step came after it (which then did not grow). Undefined while the
 * last step still grows: a dip followed by a rise again is noise, not saturation.
 */
export function saturationIndex(okRps: readonly number[], growth = DEFAULT_GROWTH): number | undefined {
  if (okRps.length === 0) return undefined;
  let best = okRps[0] as number;
  let lastGrowth = 0;
  for (let i = 1; i < okRps.length; i++) {
    const v = okRps[i] as number;
    if (v > best * (1 + growth)) lastGrowth = i;
    best = Math.max(best, v);
  }
  return lastGrowth < okRps.length - 1 ? lastGrowth : undefined;
}

/** The step with the highest goodput (the first of equals). */
export function peakStep(steps: readonly LoadStep[]): LoadStep | undefined {
  let peak: LoadStep | undefined;
  for (const s of steps) if (peak === undefined || s.okRps > peak.okRps) peak = s;
  return peak;
}

/** Statuses a service under overload may answer with: success, or a refusal that says "later". */
export function isSheddingStatus(status: string): boolean {
  return status.startsWith('2') || status === '429' || status === '503';
}

export interface ShedVerdict {
  /** True when the service saturated, and past it kept ≥ half its peak goodput with only 2xx/429/503 and no connection errors. */
  met: boolean;
  saturated: boolean;
  /** Concurrency of the saturating step. */
  saturationConnections?: number;
  peak?: LoadStep;
  /** The past-saturation step with the lowest goodput. */
  worst?: LoadStep;
  /** worst.okRps / peak.okRps. */
  share?: number;
  /** Statuses outside 2xx/429/503 seen past saturation, with their counts. */
  badStatuses: Record<string, number>;
  /** Connection errors past saturation. */
  errors: number;
  /** Why `met` is false, in words (empty when met). */
  reasons: string[];
}

/**
 * Whether the service shed load past saturation instead of collapsing: every step after the
 * saturating one keeps at least `COLLAPSE_SHARE` of the peak goodput, answers only 2xx, 429 or 503,
 * and loses no connection. A ladder that never saturated proves nothing about overload: not met.
 */
export function shedVerdict(steps: readonly LoadStep[], growth = DEFAULT_GROWTH): ShedVerdict {
  const at = saturationIndex(
    steps.map((s) => s.okRps),
    growth,
  );
  const peak = peakStep(steps);
  const verdict: ShedVerdict = {
    met: false,
    saturated: at !== undefined,
    badStatuses: {},
    errors: 0,
    reasons: [],
  };
  if (peak !== undefined) verdict.peak = peak;
  if (at === undefined || peak === undefined) {
    verdict.reasons.push(`did not saturate up to ${steps.at(-1)?.connections ?? 0} connections`);
    return verdict;
  }
  verdict.saturationConnections = (steps[at] as LoadStep).connections;
  const past = steps.slice(at + 1);
  for (const s of past) {
    if (verdict.worst === undefined || s.okRps < verdict.worst.okRps) verdict.worst = s;
    verdict.errors += s.errors;
    for (const [status, n] of Object.entries(s.statuses)) {
      if (!isSheddingStatus(status)) verdict.badStatuses[status] = (verdict.badStatuses[status] ?? 0) + n;
    }
  }
  const worst = verdict.worst as LoadStep;
  verdict.share = peak.okRps === 0 ? 0 : worst.okRps / peak.okRps;
  if (verdict.share < COLLAPSE_SHARE) {
    verdict.reasons.push(
      `goodput fell to ${(verdict.share * 100).toFixed(0)} % of the peak at ${worst.connections} connections`,
    );
  }
  const bad = Object.entries(verdict.badStatuses);
  if (bad.length > 0) verdict.reasons.push(`answered ${bad.map(([s, n]) => `${n} × ${s}`).join(', ')}`);
  if (verdict.errors > 0) verdict.reasons.push(`${verdict.errors} connection errors`);
  verdict.met = verdict.reasons.length === 0;
  return verdict;
}

export interface LadderOptions {
  /** Concurrencies to try, ascending. @default [1, 4, 16, 64, 256, 1024] */
  connections?: readonly number[];
  /** @default DEFAULT_GROWTH */
  growth?: number;
  /** Steps to run past the saturating one (each the next rung). @default 2 */
  pastSteps?: number;
}

export const DEFAULT_LADDER: readonly number[] = [1, 4, 16, 64, 256, 1024];

/**
 * Climbs the ladder: runs `step` at each concurrency in turn until `pastSteps` steps have run past
 * the saturating one, or the ladder ends.
 */
export async function climb(
  step: (connections: number) => Promise<LoadStep>,
  options: LadderOptions = {},
): Promise<LoadStep[]> {
  const rungs = options.connections ?? DEFAULT_LADDER;
  const pastSteps = options.pastSteps ?? 2;
  const steps: LoadStep[] = [];
  for (const c of rungs) {
    steps.push(await step(c));
    const at = saturationIndex(
      steps.map((s) => s.okRps),
      options.growth,
    );
    if (at !== undefined && steps.length - 1 - at >= pastSteps) break;
  }
  return steps;
}

/** "200 × 1234, 503 × 56": a step's statuses in order. */
export function statusSummary(statuses: Readonly<Record<string, number>>): string {
  return Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} × ${n}`)
    .join(', ');
}

/**
 * The rows of one endpoint's ladder: peak goodput, p50/p99 at the peak (both reported), and whether
 * it shed rather than collapsed past saturation (the goal).
 */
export function ladderRows(suite: string, curve: LoadCurve): Row[] {
  const v = shedVerdict(curve.steps);
  const peak = v.peak;
  if (peak === undefined) return [];
  const name = `${curve.endpoint} (${curve.method} ${curve.path.split('?')[0]})`;
  const rows: Row[] = [
    {
      suite,
      name: `${name}: peak throughput`,
      value: peak.okRps,
      unit: `req/s 2xx at ${peak.connections} connections`,
      goal: '(reported)',
      met: true,
    },
    {
      suite,
      name: `${name}: p50 / p99 at the peak`,
      value: peak.p99,
      unit: `ms p99 (p50 ${peak.p50.toFixed(2)} ms)`,
      goal: '(reported)',
      met: true,
    },
  ];
  const shed: Row = {
    suite,
    name: `${name}: past saturation: sheds, never collapses`,
    value: (v.worst ?? (curve.steps.at(-1) as LoadStep)).okRps,
    unit: '',
    goal: '≥ 0.5 × peak; only 2xx/429/503; no connection errors',
    met: v.met,
  };
  if (v.worst !== undefined) {
    shed.unit = `req/s 2xx at ${v.worst.connections} connections (saturated at ${v.saturationConnections}; ${statusSummary(v.worst.statuses)})`;
    shed.baseline = peak.okRps;
    shed.baselineName = `peak, ${peak.connections} connections`;
    shed.ratio = v.share as number;
  } else {
    shed.unit = 'req/s 2xx';
  }
  if (v.reasons.length > 0) shed.unit += ` — ${v.reasons.join('; ')}`;
  rows.push(shed);
  return rows;
}
