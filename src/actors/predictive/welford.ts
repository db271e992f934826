/**
 * Running mean and variance by Welford's method (B. P. Welford, "Note on a method for calculating
 * corrected sums of squares and products", Technometrics 1962), numerically stable in one pass.
 * The weight is capped: past `maxCount` observations the sums are halved, so the statistics keep
 * following a drifting source with an effective memory of maxCount/2..maxCount observations
 * instead of freezing (the same count halving as adaptive compression models use).
 */
export class RunningStats {
  count = 0;
  mean = 0;
  /** Sum of squared deviations from the mean. */
  m2 = 0;
  readonly maxCount: number;

  constructor(maxCount = 1000) {
    if (!(maxCount >= 2)) throw new RangeError(`maxCount must be at least 2, got ${maxCount}`);
    this.maxCount = maxCount;
  }

  push(x: number): void {
    if (this.count >= this.maxCount) {
      this.count /= 2;
      this.m2 /= 2;
    }
    this.count++;
    const d = x - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
  }

  /** Sample variance (0 with fewer than two observations). */
  get variance(): number {
    return this.count < 2 ? 0 : this.m2 / (this.count - 1);
  }

  toJSON(): { count: number; mean: number; m2: number; maxCount: number } {
    return { count: this.count, mean: this.mean, m2: this.m2, maxCount: this.maxCount };
  }

  static fromJSON(v: { count: number; mean: number; m2: number; maxCount: number }): RunningStats {
    const s = new RunningStats(v.maxCount);
    if (![v.count, v.mean, v.m2].every(Number.isFinite) || v.count < 0 || v.m2 < 0) {
      throw new TypeError('invalid running statistics');
    }
    s.count = v.count;
    s.mean = v.mean;
    s.m2 = v.m2;
    return s;
  }
}
