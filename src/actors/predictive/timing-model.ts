/**
 * Timing level: the inter-arrival time of an entity's requests under a log-normal distribution
 * whose parameters are the running mean and variance of ln(interval) (B. P. Welford's one-pass
 * method, Technometrics 1962, with count halving so the fit follows a changing rhythm). Log-normal
 * because request gaps span orders of magnitude and are right-skewed (human inter-event times are
 * heavy-tailed: A.-L. Barabási, "The origin of bursts and heavy tails in human dynamics", Nature
 * 2005), and it is the simplest such family with exact online estimates.
 *
 * Discretisation: intervals are observed at a relative resolution `resolution` (default 5%), i.e.
 * in bins of width h = ln(1 + resolution) on the log scale. The surprisal of an interval t is
 *
 *   bits = -log2( min(1, h · φ((ln t - μ) / σ) / σ) )
 *
 * (density of ln t times the bin width, capped at probability 1), with t floored at `minIntervalMs`.
 * Shrinkage keeps early estimates sane: σ² = (M2 + k σ0²) / (n - 1 + k) with a prior σ0 = 1 (a
 * factor e) of weight k = 2 observations, and σ ≥ `minSigma`, so a perfectly regular sender still
 * has finite surprise for a slightly late request. No interval (the first request) has no surprisal.
 */

import { RunningStats } from './welford.js';

export interface TimingModelOptions {
  /** Relative width of the timing bins. @default 0.05 */
  resolution?: number;
  /** Intervals shorter than this count as this (clock granularity). @default 1 */
  minIntervalMs?: number;
  /** Floor of σ of ln(interval). @default 0.05 */
  minSigma?: number;
  /** Effective memory in intervals (see RunningStats). @default 500 */
  maxCount?: number;
}

export interface TimingModelJson {
  options: Required<TimingModelOptions>;
  last: number | null;
  stats: ReturnType<RunningStats['toJSON']>;
}

const PRIOR_SIGMA2 = 1;
const PRIOR_WEIGHT = 2;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

export class TimingModel {
  readonly options: Required<TimingModelOptions>;
  private last: number | undefined;
  private stats: RunningStats;

  constructor(options: TimingModelOptions = {}) {
    this.options = {
      resolution: options.resolution ?? 0.05,
      minIntervalMs: options.minIntervalMs ?? 1,
      minSigma: options.minSigma ?? 0.05,
      maxCount: options.maxCount ?? 500,
    };
    const o = this.options;
    if (!(o.resolution > 0) || !(o.minIntervalMs > 0) || !(o.minSigma > 0)) {
      throw new RangeError('timing model options must be positive');
    }
    this.stats = new RunningStats(o.maxCount);
  }

  /** Time of the last observed request, or undefined before the first. */
  get lastMs(): number | undefined {
    return this.last;
  }

  /** Intervals learned. */
  get count(): number {
    return this.stats.count;
  }

  /** Median predicted interval in ms (e^μ), or undefined before the first interval. */
  get medianMs(): number | undefined {
    return this.stats.count === 0 ? undefined : Math.exp(this.stats.mean);
  }

  get sigma(): number {
    const s = this.stats;
    const v = (s.m2 + PRIOR_WEIGHT * PRIOR_SIGMA2) / Math.max(1, s.count - 1 + PRIOR_WEIGHT);
    return Math.max(this.options.minSigma, Math.sqrt(v));
  }

  /** Surprisal in bits of an interval, or undefined before the first interval was learned. */
  surprisal(intervalMs: number): number | undefined {
    if (this.stats.count === 0) return undefined;
    if (!(intervalMs >= 0)) throw new RangeError(`interval must be ≥ 0, got ${intervalMs}`);
    const x = Math.log(Math.max(this.options.minIntervalMs, intervalMs));
    const sigma = this.sigma;
    const z = (x - this.stats.mean) / sigma;
    const lnP = Math.log(Math.log1p(this.options.resolution)) - LN_SQRT_2PI - Math.log(sigma) - 0.5 * z * z;
    return lnP >= 0 ? 0 : -lnP / Math.LN2;
  }

  /**
   * A request at `timeMs`: the surprisal of the interval since the previous one (undefined for
   * the first request, or the first interval), then the interval is learned.
   */
  observe(timeMs: number): { intervalMs: number | undefined; bits: number | undefined } {
    if (!Number.isFinite(timeMs)) throw new RangeError(`time must be finite, got ${timeMs}`);
    const last = this.last;
    this.last = timeMs;
    if (last === undefined) return { intervalMs: undefined, bits: undefined };
    const interval = Math.max(0, timeMs - last);
    const bits = this.surprisal(interval);
    this.stats.push(Math.log(Math.max(this.options.minIntervalMs, interval)));
    return { intervalMs: interval, bits };
  }

  toJSON(): TimingModelJson {
    return { options: { ...this.options }, last: this.last ?? null, stats: this.stats.toJSON() };
  }

  serialize(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromJSON(json: TimingModelJson): TimingModel {
    const m = new TimingModel(json.options);
    m.stats = RunningStats.fromJSON(json.stats);
    if (json.last !== null) {
      if (!Number.isFinite(json.last)) throw new TypeError('invalid timing model state');
      m.last = json.last;
    }
    return m;
  }

  static deserialize(bytes: Uint8Array): TimingModel {
    return TimingModel.fromJSON(JSON.parse(new TextDecoder().decode(bytes)) as TimingModelJson);
  }
}
