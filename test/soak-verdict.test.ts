/**
 * The soak's judgement (bench/soak-verdict.ts) on made-up series: a flat run passes, a leaking heap,
 * RSS beyond what stored memories explain, a descriptor leak, a building mailbox and 5xx answers
 * are each flagged with a reason that says what grew. And its reading of V8's `--trace-gc` lines
 * (bench/load/gc-trace.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { GcTrace } from '../bench/load/gc-trace.js';
import { judgeSoak, leastSquaresSlope, type SoakSample } from '../bench/soak-verdict.js';

/** A deterministic wobble in [-1, 1], so that the flat series is not perfectly flat. */
const wobble = (i: number): number => Math.sin(i * 1.7) * Math.cos(i * 0.3);

/** Samples every 0.1 min for `minutes`; each field may be overridden as a function of t and i. */
function series(
  minutes: number,
  f: Partial<{ [K in keyof SoakSample]: (t: number, i: number) => number }> = {},
): SoakSample[] {
  const out: SoakSample[] = [];
  for (let i = 0; i * 0.1 <= minutes + 1e-9; i++) {
    const t = Number((i * 0.1).toFixed(1));
    out.push({
      tMin: t,
      rssMB: f.rssMB?.(t, i) ?? 180 + 3 * wobble(i),
      heapMB: f.heapMB?.(t, i) ?? 60 + 0.5 * wobble(i),
      // Sockets come and go with the load.
      fds: f.fds?.(t, i) ?? 40 + Math.round(4 * wobble(i)),
      mailboxMax: f.mailboxMax?.(t, i) ?? 0,
      memories: f.memories?.(t, i) ?? 5000,
    });
  }
  return out;
}

test('least squares: the slope of a line, and of a line with symmetric noise', () => {
  assert.equal(leastSquaresSlope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.equal(leastSquaresSlope([0, 1, 2, 3], [5, 6, 4, 5]), -0.2);
  assert.equal(leastSquaresSlope([1], [1]), 0);
  assert.equal(leastSquaresSlope([2, 2, 2], [1, 2, 3]), 0);
  fc.assert(
    fc.property(
      fc.double({ min: -100, max: 100, noNaN: true }),
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      (a, b) => {
        const xs = [0, 1, 2, 3, 4, 5, 6, 7];
        const s = leastSquaresSlope(
          xs,
          xs.map((x) => a * x + b),
        );
        assert.ok(Math.abs(s - a) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b)), `${s} vs ${a}`);
      },
    ),
  );
});

test('a flat run with noise, a warm-up climb and mailbox bursts is ok', () => {
  const samples = series(10, {
    // Climbs during the 2-minute warm-up (JIT, caches, pools), then flat.
    heapMB: (t, i) => (t < 2 ? 20 + 20 * t : 60) + 0.5 * wobble(i),
    rssMB: (t, i) => (t < 2 ? 100 + 40 * t : 180) + 3 * wobble(i),
    mailboxMax: (_t, i) => (i % 17 === 0 ? 25 : 0),
  });
  const depths = samples.map((s) => s.mailboxMax);
  const judged = judgeSoak({
    samples,
    warmupMinutes: 2,
    mailboxes: { memory: { capacity: 1000, depths } },
    load: { write: { statuses: { '200': 500, '201': 900 }, errors: 0 } },
  });
  assert.deepEqual(judged.verdict, { ok: true, reasons: [] });
  assert.ok(Math.abs(judged.slopes.heapMBPerMin) < 0.2, JSON.stringify(judged.slopes));
  assert.ok(Math.abs(judged.slopes.rssMBPerMin) < 0.5, JSON.stringify(judged.slopes));
  assert.equal(judged.mailboxes['memory']?.maxDepth, 25);
});

test('a heap that keeps growing after the warm-up is flagged with its slope', () => {
  const judged = judgeSoak({
    samples: series(10, { heapMB: (t, i) => 60 + 3 * t + 0.5 * wobble(i), rssMB: (t) => 180 + 3 * t }),
    warmupMinutes: 2,
  });
  assert.equal(judged.verdict.ok, false);
  assert.ok(Math.abs(judged.slopes.heapMBPerMin - 3) < 0.1, JSON.stringify(judged.slopes));
  assert.ok(
    judged.verdict.reasons.some((r) => /^heap grows 3\.\d\d MB\/min/.test(r)),
    judged.verdict.reasons[0],
  );
  assert.ok(judged.verdict.reasons.some((r) => /^RSS grows/.test(r)));
});

test('RSS growth is allowed as far as stored memories explain it, and no further', () => {
  // 1500 memories a minute at 2 KiB each allow 2.93 MB/min besides the 2 MB/min.
  const memories = (t: number) => 5000 + 1500 * t;
  const explained = judgeSoak({
    samples: series(10, { rssMB: (t) => 180 + 4.5 * t, memories }),
    warmupMinutes: 2,
  });
  assert.deepEqual(explained.verdict, { ok: true, reasons: [] });
  assert.equal(explained.slopes.memoriesPerMin, 1500);
  const unexplained = judgeSoak({
    samples: series(10, { rssMB: (t) => 180 + 6 * t, memories }),
    warmupMinutes: 2,
  });
  assert.equal(unexplained.verdict.ok, false);
  assert.match(unexplained.verdict.reasons[0] ?? '', /RSS grows 6\.00 MB\/min .*at most 4\.93/);
});

test('a descriptor leak is flagged, sockets that come and go are not', () => {
  // One descriptor more every 6 s: about 10 a minute.
  const leak = judgeSoak({ samples: series(10, { fds: (_t, i) => 40 + i }), warmupMinutes: 2 });
  assert.equal(leak.verdict.ok, false);
  assert.ok(
    leak.verdict.reasons.some((r) => r.startsWith('file descriptors leak')),
    leak.verdict.reasons[0],
  );
  assert.equal(leak.slopes.fdsPerMin, 10);
  // Bursts of 20 extra sockets in every quarter are the load, not a leak.
  const bursts = judgeSoak({
    samples: series(10, { fds: (_t, i) => (i % 7 === 0 ? 60 : 40) }),
    warmupMinutes: 2,
  });
  assert.deepEqual(bursts.verdict, { ok: true, reasons: [] });
});

test('a mailbox whose backlog builds, or that comes near full, is flagged by name', () => {
  const samples = series(10);
  const building = samples.map((s) => Math.round(s.tMin * 40));
  const judged = judgeSoak({
    samples,
    warmupMinutes: 2,
    mailboxes: {
      store: { capacity: 1000, depths: building },
      cache: { capacity: 100, depths: samples.map((s) => (s.tMin === 5 ? 60 : 0)) },
      memory: { capacity: 1000, depths: samples.map(() => 0) },
    },
  });
  assert.equal(judged.verdict.ok, false);
  assert.ok(judged.verdict.reasons.some((r) => r.startsWith('mailbox of store builds up')));
  assert.ok(judged.verdict.reasons.some((r) => r === 'mailbox of cache came near full: 60 of 100'));
  assert.ok(!judged.verdict.reasons.some((r) => r.includes('memory')));
  assert.ok((judged.mailboxes['store']?.depthPerMin ?? 0) > 35);
});

test('5xx answers and failed requests are flagged by kind of request', () => {
  const judged = judgeSoak({
    samples: series(10),
    warmupMinutes: 2,
    load: {
      chat: { statuses: { '200': 990, '503': 10 }, errors: 0 },
      phi: { statuses: { '200': 100 }, errors: 2 },
      predict: { statuses: { '200': 100 }, errors: 0 },
    },
  });
  assert.deepEqual(judged.verdict.reasons, [
    'chat: answers other than 2xx (10 × 503)',
    'phi: 2 requests failed without an answer',
  ]);
});

test('a run too short to judge says so instead of passing', () => {
  const judged = judgeSoak({ samples: series(1), warmupMinutes: 0.8 });
  assert.equal(judged.verdict.ok, false);
  assert.match(judged.verdict.reasons[0] ?? '', /too few to judge/);
});

test("the GC trace yields the main isolate's heap after each full collection, nothing else", () => {
  const gc = new GcTrace();
  const lines = [
    '[10999:0xdaf5fc0]       42 ms: Scavenge 4.4 (4.5) -> 3.8 (5.5) MB, 1.02 / 0.01 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ',
    '[10999:0xdaf5fc0]     1213 ms: Mark-Compact 68.4 (89.6) -> 46.2 (81.8) MB, 11.22 / 0.06 ms  (+ 7.5 ms in 78 steps since start of marking, biggest step 1.3 ms) (average mu = 0.9) finalize incremental marking via stack guard; ',
    // A worker thread's isolate.
    '[10999:0x7fc520000f00]     8160 ms: Mark-Compact (reduce) 9.4 (11.0) -> 6.5 (10.0) MB, 7.96 / 0.03 ms  (average mu = 1.000) finalize incremental marking via task; ',
    '{"time":"2026-01-01T00:00:00.000Z","level":"info","msg":"listening"}',
    'Admin API key (shown once; also in /somewhere/admin.key, mode 0600):',
    '[10999:0xdaf5fc0]   178399 ms: Mark-Compact (reduce) 84.3 (117.4) -> 79.3 (94.1) MB, 32.64 / 0.25 ms  (average mu = 0.99) finalize incremental marking via task; ',
  ];
  const seen = lines.map((l, i) => gc.line(l, i * 1000));
  assert.deepEqual(
    seen.filter((c) => c !== undefined),
    [
      { at: 1000, afterMB: 46.2 },
      { at: 5000, afterMB: 79.3 },
    ],
  );
  assert.equal(gc.liveMB, 79.3);
  assert.equal(new GcTrace().liveMB, undefined);
});
