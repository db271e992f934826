/**
 * Counters and histograms for the request path, with prom-client's exposition but not its per-call
 * cost.
 *
 * prom-client's `observe` and `inc` check every label name and hash the label object on each call,
 * and a histogram finds its bucket through an object keyed by the bound's string form. On a chat
 * request that is a dozen calls at some microseconds each, on the event loop. Here a label set is
 * resolved once to a child that keeps its figures in plain numbers (a histogram's in a Float64Array),
 * so that a hot call is a bucket search and two additions.
 *
 * Both classes register themselves with the registries given, as prom-client metrics do, and render
 * through the registry's own formatter: `getForPromString()` returns the values in the shape and order
 * that prom-client's `Histogram` and `Counter` produce, so that the scrape text is the same
 * (test/fast-metrics.test.ts compares the two). What is not supported: exemplars, `remove`, timers,
 * counters without labels (use prom-client's).
 */
import type { Registry } from 'prom-client';

interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One value line as prom-client's registry formats it. */
interface ValueLine {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  metricName?: string;
  exemplar?: null;
}

abstract class FastMetric<L extends string, C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  /** Children by their label values joined with NUL, in first-use order (the exposition order). */
  protected readonly children = new Map<string, { labels: Record<string, string | number>; child: C }>();

  constructor(config: MetricConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const r of config.registers) r.registerMetric(this as never);
  }

  protected abstract create(): C;

  /** The child for a label set: resolve it once and keep it where the labels are fixed. */
  labels(labels: Labels<L>): C {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n] ?? ''}\u0000`;
    const found = this.children.get(key);
    if (found !== undefined) return found.child;
    for (const n of Object.keys(labels)) {
      if (!this.labelNames.includes(n as L))
        throw new Error(`metric ${this.name}: unknown label "${n}" (labels: ${this.labelNames.join(', ')})`);
    }
    const own: Record<string, string | number> = {};
    for (const n of this.labelNames) if (labels[n] !== undefined) own[n] = labels[n] as string | number;
    const child = this.create();
    this.children.set(key, { labels: own, child });
    return child;
  }

  reset(): void {
    this.children.clear();
  }

  abstract getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    values: ValueLine[];
    aggregator: string;
  }>;

  /** As prom-client's `get()`: the series labels merged into each value's labels. */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
}

export interface CounterChild {
  inc(by?: number): void;
}

class CounterCell implements CounterChild {
  value = 0;
  inc(by = 1): void {
    if (!(by >= 0)) throw new Error(`a counter only goes up, got ${by}`);
    this.value += by;
  }
}

export class FastCounter<L extends string> extends FastMetric<L, CounterCell> {
  readonly type = 'counter';

  protected create(): CounterCell {
    return new CounterCell();
  }

  inc(labels: Labels<L>, by = 1): void {
    this.labels(labels).inc(by);
  }

  async getForPromString() {
    const values: ValueLine[] = [];
    for (const { labels, child } of this.children.values()) values.push({ value: child.value, labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface HistogramChild {
  observe(value: number): void;
}

class HistogramCell implements HistogramChild {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram<L extends string> extends FastMetric<L, HistogramCell> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(config: MetricConfig<L> & { buckets: readonly number[] }) {
    super(config);
    this.buckets = [...config.buckets].sort((a, b) => a - b);
    // As prom-client: a histogram without labels shows its (empty) series from the start.
    if (this.labelNames.length === 0) this.labels({});
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.buckets);
  }

  observe(labels: Labels<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  /** prom-client's order per series: each bound's cumulative count, `+Inf`, the sum, the count. */
  async getForPromString() {
    const values: ValueLine[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += child.counts[i] as number;
        values.push({
          value: acc,
          labels: { le: this.buckets[i] as number },
          sharedLabels: labels,
          metricName: bucketName,
          exemplar: null,
        });
      }
      values.push(
        {
          value: child.count,
          labels: { le: '+Inf' },
          sharedLabels: labels,
          metricName: bucketName,
          exemplar: null,
        },
        { value: child.sum, labels: {}, sharedLabels: labels, metricName: `${this.name}_sum` },
        { value: child.count, labels: {}, sharedLabels: labels, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
