/**
 * Combination of the levels' prediction errors into one surprise score per input, after the
 * predictive-coding account of cortical responses (K. Friston, "A theory of cortical responses",
 * Phil. Trans. R. Soc. B 2005) in which each level's prediction error is weighted by its precision
 * (inverse variance), and H. Feldman & K. Friston, "Attention, uncertainty, and free-energy",
 * Front. Hum. Neurosci. 2010, on precision as the gain of prediction errors.
 *
 * Each level i keeps running statistics (Welford, with count halving) of its own error e_i
 * (text: bits per byte; content: cosine distance; timing: bits). Its precision-weighted error is
 * the z-score
 *
 *   z_i = (e_i - μ_i) · sqrt(π_i),   π_i = 1 / max(σ_i², σ_min²),
 *
 * so a level whose errors are habitually noisy counts for less. The levels present for an input
 * are combined as a weighted Stouffer sum (S. A. Stouffer et al., The American Soldier, 1949)
 *
 *   surprise = Σ w_i z_i / sqrt(Σ w_i²)
 *
 * which stays on the scale of one standard score whatever the number of levels (for independent
 * standard-normal z_i it is standard normal), and `energy` = ½ Σ z_i² (the precision-weighted
 * squared error of a Gaussian free-energy bound) is reported beside it. A level is left out of
 * the input's score when it has no error (no embedding, first request) or fewer than `minCount`
 * past errors to normalise by; its statistics are updated after scoring (score, then learn).
 */

import { RunningStats } from './welford.js';

export type Level = 'text' | 'content' | 'timing';
export const LEVELS: readonly Level[] = ['text', 'content', 'timing'];

export interface SurpriseOptions {
  /** Weight of each level in the sum. @default 1 each */
  weights?: Partial<Record<Level, number>>;
  /** Past errors a level needs before it is scored. @default 5 */
  minCount?: number;
  /** Floor of each level's standard deviation, in its own unit. @default 1e-3 */
  minSigma?: number;
  /** Effective memory of the running statistics. @default 1000 */
  maxCount?: number;
}

export type LevelErrors = Partial<Record<Level, number | undefined>>;

export interface SurpriseScore {
  /** Weighted Stouffer sum of the present levels' z-scores; 0 when no level is present. */
  surprise: number;
  /** ½ Σ z². */
  energy: number;
  /** The z-score of each level that took part. */
  z: Partial<Record<Level, number>>;
  /** Levels that took part. */
  levels: Level[];
}

export interface SurpriseJson {
  options: Required<Omit<SurpriseOptions, 'weights'>> & { weights: Record<Level, number> };
  stats: Record<Level, ReturnType<RunningStats['toJSON']>>;
}

export class SurpriseCombiner {
  readonly weights: Record<Level, number>;
  readonly minCount: number;
  readonly minSigma: number;
  readonly maxCount: number;
  private readonly stats: Record<Level, RunningStats>;

  constructor(options: SurpriseOptions = {}) {
    this.weights = {
      text: options.weights?.text ?? 1,
      content: options.weights?.content ?? 1,
      timing: options.weights?.timing ?? 1,
    };
    for (const l of LEVELS) {
      if (!(this.weights[l] >= 0)) throw new RangeError(`weight of ${l} must be ≥ 0`);
    }
    this.minCount = options.minCount ?? 5;
    this.minSigma = options.minSigma ?? 1e-3;
    this.maxCount = options.maxCount ?? 1000;
    if (!(this.minSigma > 0)) throw new RangeError('minSigma must be positive');
    this.stats = {
      text: new RunningStats(this.maxCount),
      content: new RunningStats(this.maxCount),
      timing: new RunningStats(this.maxCount),
    };
  }

  /** Running mean and standard deviation of a level's errors. */
  levelStats(level: Level): { count: number; mean: number; sigma: number } {
    const s = this.stats[level];
    return { count: s.count, mean: s.mean, sigma: Math.sqrt(s.variance) };
  }

  /** The combined score of one input's errors, without learning them. */
  score(errors: LevelErrors): SurpriseScore {
    const z: Partial<Record<Level, number>> = {};
    const levels: Level[] = [];
    let num = 0;
    let den = 0;
    let energy = 0;
    for (const l of LEVELS) {
      const e = errors[l];
      const s = this.stats[l];
      const w = this.weights[l];
      if (e === undefined || !Number.isFinite(e) || s.count < this.minCount || w === 0) continue;
      const sigma = Math.max(this.minSigma, Math.sqrt(s.variance));
      const zi = (e - s.mean) / sigma;
      z[l] = zi;
      levels.push(l);
      num += w * zi;
      den += w * w;
      energy += 0.5 * zi * zi;
    }
    return { surprise: den === 0 ? 0 : num / Math.sqrt(den), energy, z, levels };
  }

  /** Scores one input's errors, then adds them to each level's statistics. */
  observe(errors: LevelErrors): SurpriseScore {
    const r = this.score(errors);
    for (const l of LEVELS) {
      const e = errors[l];
      if (e !== undefined && Number.isFinite(e)) this.stats[l].push(e);
    }
    return r;
  }

  toJSON(): SurpriseJson {
    return {
      options: {
        weights: { ...this.weights },
        minCount: this.minCount,
        minSigma: this.minSigma,
        maxCount: this.maxCount,
      },
      stats: {
        text: this.stats.text.toJSON(),
        content: this.stats.content.toJSON(),
        timing: this.stats.timing.toJSON(),
      },
    };
  }

  static fromJSON(json: SurpriseJson): SurpriseCombiner {
    const c = new SurpriseCombiner(json.options);
    for (const l of LEVELS) c.stats[l] = RunningStats.fromJSON(json.stats[l]);
    return c;
  }
}
