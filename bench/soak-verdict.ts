/**
 * The judgement of a soak run, kept apart from the run itself so that it can be tested on made-up
 * series: least-squares slopes of memory and file descriptors after the warm-up, a look at every
 * mailbox's depth, the answers' status codes, and a verdict with its reasons.
 */

/** One reading of the server, `tMin` minutes after the load started. */
export interface SoakSample {
  tMin: number;
  /** Resident set size. */
  rssMB: number;
  /** V8 heap in use after the latest full collection (the live heap, not the garbage sawtooth). */
  heapMB: number;
  /** Open file descriptors. */
  fds: number;
  /** Depth of the fullest mailbox at that moment. */
  mailboxMax: number;
  /** Memories held by the service (all layers), when known: stored data legitimately costs RSS. */
  memories?: number;
  /** Memory outside the V8 heap held by JavaScript objects (buffers, typed arrays), when known. */
  externalMB?: number;
}

/** Depths of one actor's mailbox, one per sample (same order as the samples). */
export interface MailboxSeries {
  capacity: number;
  depths: number[];
}

export interface SoakThresholds {
  /** Heap growth allowed after the warm-up. */
  heapMBPerMin: number;
  /** RSS growth allowed after the warm-up, besides what stored memories account for. */
  rssMBPerMin: number;
  /** RSS each added memory may cost (the vector index keeps about 630 bytes of each in memory). */
  rssBytesPerMemory: number;
  /** Descriptors the end of the run may hold beyond the most seen early after the warm-up. */
  fdAllowance: number;
  /** Depth by which a mailbox's typical (median) depth may rise from the first to the last quarter. */
  mailboxMargin: number;
  /** Share of a mailbox's capacity that counts as near full. */
  mailboxNearFull: number;
}

/**
 * Why these numbers: a leak of 100 bytes per request at 150 requests/s is 0.86 MB/min, so 1 MB/min
 * of heap catches anything that keeps a small object per request, while a heap read after full
 * collections stays well inside it when nothing is kept. RSS also moves with V8's committed heap,
 * the allocator's fragmentation and SQLite's page caches filling, hence twice the heap's figure.
 * 2 KiB per stored memory covers the vector index's 630 bytes at its worst just after doubling,
 * and the rest of a memory's share (measured at about 1.2 KiB with the memory system alone).
 * Descriptors: sockets come and go with the load (kept-alive connections, pool threads with their
 * read connections), so the end is compared with the most seen in the first quarter after the
 * warm-up, plus 8. Mailboxes: a depth read at an instant is mostly 0 with bursts; a backlog that
 * builds lifts the median, a burst does not. Half the capacity is near full: the load shedder
 * refuses work at 90 %.
 */
export const DEFAULT_THRESHOLDS: Readonly<SoakThresholds> = Object.freeze({
  heapMBPerMin: 1,
  rssMBPerMin: 2,
  rssBytesPerMemory: 2048,
  fdAllowance: 8,
  mailboxMargin: 10,
  mailboxNearFull: 0.5,
});

export interface SoakSlopes {
  rssMBPerMin: number;
  heapMBPerMin: number;
  fdsPerMin: number;
  /** Memories added per minute (0 when the samples do not say). */
  memoriesPerMin: number;
}

export interface MailboxReport {
  capacity: number;
  maxDepth: number;
  depthPerMin: number;
  firstQuarterMedian: number;
  lastQuarterMedian: number;
}

/** What the load generators counted, by kind of request. */
export interface LoadCounts {
  statuses: Record<string, number>;
  errors: number;
}

/** The heap after one full collection, `tMin` minutes after the load started. */
export interface HeapPoint {
  tMin: number;
  heapMB: number;
}

export interface SoakInput {
  samples: readonly SoakSample[];
  warmupMinutes: number;
  /**
   * The heap after each full collection: when there are at least 3 after the warm-up the heap
   * slope is fitted to them rather than to the samples' `heapMB` (which repeat the latest).
   */
  heap?: readonly HeapPoint[];
  mailboxes?: Readonly<Record<string, MailboxSeries>>;
  load?: Readonly<Record<string, LoadCounts>>;
}

export interface SoakJudgement {
  slopes: SoakSlopes;
  mailboxes: Record<string, MailboxReport>;
  verdict: { ok: boolean; reasons: string[] };
}

/**
 * Slope of the ordinary least-squares line through the points (Legendre 1805): cov(x, y) / var(x).
 * Fewer than two distinct x: 0.
 */
export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxy += dx * ((ys[i] as number) - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The first and last quarter of a series (each at least one element). */
function quarters<T>(values: readonly T[]): { first: T[]; last: T[] } {
  const q = Math.max(1, Math.floor(values.length / 4));
  return { first: values.slice(0, q), last: values.slice(values.length - q) };
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

/** Indices of the samples taken after the warm-up. */
function steadyIndices(samples: readonly SoakSample[], warmupMinutes: number): number[] {
  const out: number[] = [];
  samples.forEach((s, i) => {
    if (s.tMin >= warmupMinutes) out.push(i);
  });
  return out;
}

function slopeOf(
  samples: readonly SoakSample[],
  idx: readonly number[],
  f: (s: SoakSample) => number,
): number {
  return leastSquaresSlope(
    idx.map((i) => (samples[i] as SoakSample).tMin),
    idx.map((i) => f(samples[i] as SoakSample)),
  );
}

function heapSlope(input: SoakInput, idx: readonly number[]): number {
  const points = (input.heap ?? []).filter((p) => p.tMin >= input.warmupMinutes);
  if (points.length < 3) return slopeOf(input.samples, idx, (s) => s.heapMB);
  return leastSquaresSlope(
    points.map((p) => p.tMin),
    points.map((p) => p.heapMB),
  );
}

function judgeMemory(slopes: SoakSlopes, t: SoakThresholds, reasons: string[]): void {
  if (slopes.heapMBPerMin > t.heapMBPerMin) {
    reasons.push(
      `heap grows ${slopes.heapMBPerMin.toFixed(2)} MB/min after the warm-up (at most ${t.heapMBPerMin})`,
    );
  }
  const dataMBPerMin = (Math.max(0, slopes.memoriesPerMin) * t.rssBytesPerMemory) / 2 ** 20;
  const rssLimit = t.rssMBPerMin + dataMBPerMin;
  if (slopes.rssMBPerMin > rssLimit) {
    reasons.push(
      `RSS grows ${slopes.rssMBPerMin.toFixed(2)} MB/min after the warm-up (at most ${rssLimit.toFixed(2)}: ` +
        `${t.rssMBPerMin} + ${dataMBPerMin.toFixed(2)} for ${Math.round(slopes.memoriesPerMin)} memories/min stored)`,
    );
  }
}

function judgeFds(fds: readonly number[], t: SoakThresholds, reasons: string[]): void {
  if (fds.length < 2) return;
  const { first, last } = quarters(fds);
  const early = Math.max(...first);
  const end = Math.min(...last);
  if (end > early + t.fdAllowance) {
    reasons.push(
      `file descriptors leak: at least ${end} open through the last quarter, at most ${early} in the first ` +
        `quarter after the warm-up (allowance ${t.fdAllowance})`,
    );
  }
}

function judgeMailboxes(
  samples: readonly SoakSample[],
  idx: readonly number[],
  mailboxes: Readonly<Record<string, MailboxSeries>>,
  t: SoakThresholds,
  reasons: string[],
): Record<string, MailboxReport> {
  const out: Record<string, MailboxReport> = {};
  const times = idx.map((i) => (samples[i] as SoakSample).tMin);
  for (const [actor, series] of Object.entries(mailboxes)) {
    const depths = idx.map((i) => series.depths[i] ?? 0);
    if (depths.length === 0) continue;
    const { first, last } = quarters(depths);
    const report: MailboxReport = {
      capacity: series.capacity,
      maxDepth: Math.max(...depths),
      depthPerMin: round(leastSquaresSlope(times, depths)),
      firstQuarterMedian: median(first),
      lastQuarterMedian: median(last),
    };
    out[actor] = report;
    if (report.lastQuarterMedian > report.firstQuarterMedian + t.mailboxMargin) {
      reasons.push(
        `mailbox of ${actor} builds up: median depth ${report.firstQuarterMedian} in the first quarter after ` +
          `the warm-up, ${report.lastQuarterMedian} in the last`,
      );
    }
    if (series.capacity > 0 && report.maxDepth >= series.capacity * t.mailboxNearFull) {
      reasons.push(`mailbox of ${actor} came near full: ${report.maxDepth} of ${series.capacity}`);
    }
  }
  return out;
}

function judgeLoad(load: Readonly<Record<string, LoadCounts>>, reasons: string[]): void {
  for (const [kind, counts] of Object.entries(load)) {
    const failed = Object.entries(counts.statuses).filter(([status]) => !status.startsWith('2'));
    if (failed.length > 0) {
      const list = failed.map(([status, n]) => `${n} × ${status}`).join(', ');
      reasons.push(`${kind}: answers other than 2xx (${list})`);
    }
    if (counts.errors > 0) reasons.push(`${kind}: ${counts.errors} requests failed without an answer`);
  }
}

/** Slopes after the warm-up and the verdict; `ok` when no reason was found. */
export function judgeSoak(input: SoakInput, thresholds: SoakThresholds = DEFAULT_THRESHOLDS): SoakJudgement {
  const { samples } = input;
  const idx = steadyIndices(samples, input.warmupMinutes);
  const reasons: string[] = [];
  const slopes: SoakSlopes = {
    rssMBPerMin: round(slopeOf(samples, idx, (s) => s.rssMB)),
    heapMBPerMin: round(heapSlope(input, idx)),
    fdsPerMin: round(slopeOf(samples, idx, (s) => s.fds)),
    memoriesPerMin: round(
      slopeOf(samples, idx, (s) => s.memories ?? 0),
      1,
    ),
  };
  if (idx.length < 4) {
    reasons.push(`only ${idx.length} samples after the warm-up: too few to judge (a longer run is needed)`);
  } else {
    judgeMemory(slopes, thresholds, reasons);
    judgeFds(
      idx.map((i) => (samples[i] as SoakSample).fds),
      thresholds,
      reasons,
    );
  }
  const mailboxes = judgeMailboxes(samples, idx, input.mailboxes ?? {}, thresholds, reasons);
  judgeLoad(input.load ?? {}, reasons);
  return { slopes, mailboxes, verdict: { ok: reasons.length === 0, reasons } };
}
