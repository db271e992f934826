/**
 * The benchmark report's pure parts: the load ladder's saturation detector and shed verdict, the
 * ladder's stopping rule, and the markdown and SVG renderers on a small results object (written to
 * a temp folder with a soak results file beside it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  climb,
  type LoadCurve,
  type LoadStep,
  ladderRows,
  saturationIndex,
  shedVerdict,
} from '../bench/load/saturation.js';
import {
  type BenchResults,
  latencyChart,
  newestSoakFile,
  parseSoak,
  renderReport,
  type SoakResults,
  throughputChart,
  writeReport,
} from '../bench/report.js';
import { lineChart } from '../bench/svg.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jamey-bench-report-'));
  dirs.push(d);
  return d;
}

/** A step with `ok` 2xx answers/s and, optionally, other statuses and errors. */
function step(connections: number, ok: number, extra: Record<string, number> = {}, errors = 0): LoadStep {
  const others = Object.values(extra).reduce((a, b) => a + b, 0);
  return {
    connections,
    rps: ok + others,
    okRps: ok,
    p50: connections / 10,
    p99: connections / 2,
    max: connections,
    statuses: { '200': ok, ...extra },
    errors,
  };
}

/**
 * Checks that `svg` is well-formed as far as the charts need: every tag closes in order, attribute
 * values are quoted, and no bare `<`, `>` or `&` is left in the text. Returns the element names seen.
 */
function assertWellFormed(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let text = '';
  let last = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    text += svg.slice(last, m.index);
    last = m.index + m[0].length;
    const [, closing, name, , selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing === '/') assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    else {
      names.push(name);
      if (selfClosing !== '/') stack.push(name);
    }
  }
  text += svg.slice(last);
  assert.deepEqual(stack, [], 'every element is closed');
  assert.doesNotMatch(text, /[<>]/, 'no stray angle bracket outside the tags');
  assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos);)/, 'every & in text is an entity');
  return names;
}

describe('saturation detector', () => {
  it('finds no saturation while goodput keeps growing by more than 10 %', () => {
    assert.equal(saturationIndex([100, 400, 1200, 2000]), undefined);
    assert.equal(saturationIndex([100]), undefined);
    assert.equal(saturationIndex([]), undefined);
  });

  it('names the last step that grew, once a later one did not', () => {
    assert.equal(saturationIndex([100, 400, 420]), 1);
    assert.equal(saturationIndex([100, 400, 420, 380]), 1);
    // Growth of exactly 10 % is not growth.
    assert.equal(saturationIndex([100, 110]), 0);
  });

  it('takes a dip followed by a rise as noise, not saturation', () => {
    assert.equal(saturationIndex([100, 400, 420, 1600]), undefined);
    assert.equal(saturationIndex([100, 400, 420, 1600, 1650]), 3);
  });

  it('climbs until two steps past saturation, or to the end of the ladder', async () => {
    // Goodput grows with concurrency up to 16 connections, then stays flat.
    const flatFrom16 = async (c: number) => step(c, 100 * Math.min(c, 16));
    const steps = await climb(flatFrom16, { connections: [1, 4, 16, 64, 256, 1024] });
    assert.deepEqual(
      steps.map((s) => s.connections),
      [1, 4, 16, 64, 256],
    );
    const growing = await climb(async (c) => step(c, 100 * c), { connections: [1, 4, 16] });
    assert.deepEqual(
      growing.map((s) => s.connections),
      [1, 4, 16],
    );
    const onePast = await climb(flatFrom16, { connections: [1, 4, 16, 64, 256], pastSteps: 1 });
    assert.equal(onePast.at(-1)?.connections, 64);
  });
});

describe('shed verdict', () => {
  it('is met when past saturation the service sheds with 503/429 and keeps its goodput', () => {
    const v = shedVerdict([
      step(1, 100),
      step(4, 400),
      step(16, 410, { '503': 900 }),
      step(64, 380, { '503': 4000, '429': 10 }),
    ]);
    assert.equal(v.met, true, v.reasons.join('; '));
    assert.equal(v.saturationConnections, 4);
    assert.equal(v.peak?.connections, 16);
    assert.equal(v.worst?.connections, 64);
    assert.ok(Math.abs((v.share as number) - 380 / 410) < 1e-9);
  });

  it('is not met when goodput collapses below half the peak', () => {
    const v = shedVerdict([step(1, 100), step(4, 400), step(16, 390), step(64, 150)]);
    assert.equal(v.met, false);
    assert.match(v.reasons.join(';'), /goodput fell to 38 % of the peak at 64 connections/);
  });

  it('is not met on a status outside 2xx/429/503, or on connection errors', () => {
    const five = shedVerdict([step(1, 100), step(4, 400), step(16, 400, { '500': 3, '504': 1 })]);
    assert.equal(five.met, false);
    assert.deepEqual(five.badStatuses, { '500': 3, '504': 1 });
    const reset = shedVerdict([step(1, 100), step(4, 400), step(16, 400, {}, 7)]);
    assert.equal(reset.met, false);
    assert.equal(reset.errors, 7);
    // A 5xx before saturation is not the overload verdict's business.
    assert.equal(shedVerdict([step(1, 100, { '500': 1 }), step(4, 400), step(16, 400)]).met, true);
  });

  it('is not met when the ladder never saturated (nothing is known about overload)', () => {
    const v = shedVerdict([step(1, 100), step(4, 400), step(16, 1600)]);
    assert.equal(v.met, false);
    assert.equal(v.saturated, false);
    assert.match(v.reasons[0] as string, /did not saturate up to 16 connections/);
  });

  it("gives an endpoint's rows: peak, latency at the peak, and the shed goal", () => {
    const curve: LoadCurve = {
      endpoint: 'memory write',
      method: 'POST',
      path: '/v1/memories',
      steps: [step(1, 100), step(4, 400), step(16, 150, { '503': 10 })],
    };
    const rows = ladderRows('load', curve);
    assert.equal(rows.length, 3);
    assert.equal(rows[0]?.value, 400);
    assert.match(rows[0]?.unit ?? '', /at 4 connections/);
    assert.equal(rows[1]?.value, 2, 'p99 at the peak');
    const shed = rows[2];
    assert.equal(shed?.met, false);
    assert.equal(shed?.baseline, 400);
    assert.equal(shed?.ratio, 150 / 400);
    assert.match(shed?.unit ?? '', /503 × 10/);
  });
});

const curves: LoadCurve[] = [
  {
    endpoint: 'cached GET',
    method: 'GET',
    path: '/v1/memories?limit=10',
    steps: [step(1, 5000), step(4, 20000), step(16, 21000), step(64, 20500)],
  },
  {
    endpoint: 'chat <local> & co',
    method: 'POST',
    path: '/v1/chat/completions',
    steps: [step(1, 150), step(4, 200), step(16, 60, { '503': 40 })],
  },
];

const results: BenchResults = {
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGB: 8,
    os: 'linux 6.1',
    node: 'v20.20.2',
    date: '2026-11-25T10:00:00.000Z',
  },
  command: 'npm run bench',
  rows: [
    {
      suite: 'actor',
      name: 'tell → handler, messages/s',
      value: 5e7,
      unit: 'msg/s',
      baseline: 9e7,
      baselineName: 'raw loop',
      ratio: 5 / 9,
      goal: '≥ 0.30 of raw',
      met: true,
    },
    {
      suite: 'pool',
      name: 'trivial task round trips/s | 32 in flight',
      value: 57_900,
      unit: 'tasks/s',
      baseline: 65_400,
      baselineName: 'bare piscina.run',
      ratio: 0.885,
      goal: 'ratio > 0.90',
      met: false,
    },
    ...curves.flatMap((c) => ladderRows('load', c)),
  ],
  curves,
};

/** The lines of the markdown section under `heading` (up to the next heading of the same level). */
function section(md: string, heading: string): string {
  const start = md.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `has "${heading}"`);
  const rest = md.slice(start + heading.length + 2);
  const end = rest.search(/\n## /);
  return end < 0 ? rest : rest.slice(0, end);
}

describe('report renderer', () => {
  it('lists every row that missed its goal under "Goals not met", and only those', () => {
    const md = renderReport(results);
    const missed = section(md, '## Goals not met');
    assert.match(
      missed,
      /\*\*pool\*\* · trivial task round trips\/s \| 32 in flight: 57\.9 k tasks\/s, ratio 0\.885/,
    );
    assert.doesNotMatch(missed, /actor/);
    assert.match(missed, /chat <local> & co .*past saturation/, 'the failed shed row is listed');
    assert.doesNotMatch(missed, /cached GET/);
  });

  it('has the machine, Node and command, and a table per suite with a ✓/✗ column', () => {
    const md = renderReport(results);
    assert.match(md, /Machine: Test CPU × 2 cores, 8 GiB RAM, linux 6\.1/);
    assert.match(md, /Node: v20\.20\.2/);
    assert.match(md, /Command: `npm run bench`/);
    for (const suite of ['actor', 'pool', 'load']) {
      assert.match(
        section(md, '## Results by suite'),
        new RegExp(`### ${suite}\\n\\n\\| measure \\| Jamey \\|`),
      );
    }
    // A "|" inside a name is escaped so the table keeps its columns.
    assert.match(
      md,
      /round trips\/s \\\| 32 in flight \| 57\.9 k tasks\/s \| 65\.4 k tasks\/s \(bare piscina\.run\) \| 0\.885 \| ratio > 0\.90 \| ✗ \|/,
    );
    assert.match(md, /\| tell → handler, messages\/s \| 50\.00 M msg\/s .* \| ✓ \|/);
    assert.match(
      md,
      /\| 64 \| 20\.5 k \| 20\.5 k \| 6\.40 \| 32\.0 \| 200 × 20500 \| 0 \|/,
      'the ladder steps',
    );
  });

  it('draws well-formed SVG charts: a polyline per series, axes, ticks, and a legend', () => {
    const t = throughputChart(curves);
    const names = assertWellFormed(t);
    assert.equal(names.filter((n) => n === 'polyline').length, 2);
    assert.match(t, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(t, />chat &lt;local&gt; &amp; co</, 'names are escaped');
    assert.match(t, />concurrent connections \(log scale\)</);
    for (const c of [1, 4, 16, 64]) assert.match(t, new RegExp(`text-anchor="middle" fill="#444">${c}<`));
    const l = latencyChart(curves);
    assert.equal(assertWellFormed(l).filter((n) => n === 'polyline').length, 4, 'p50 and p99 per endpoint');
    assert.match(l, /stroke-dasharray/);
    const linear = lineChart({
      title: 'flat',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'one point', points: [[3, 7]] }],
    });
    assert.equal(assertWellFormed(linear).filter((n) => n === 'polyline').length, 1);
  });
});

const soak: SoakResults = {
  machine: { cpu: 'Test CPU', cores: 2 },
  minutes: 30,
  warmupMinutes: 5,
  samples: [0, 10, 20, 30].map((t) => ({ tMin: t, rssMB: 120 + t / 10, heapMB: 40, fds: 30, mailboxMax: 4 })),
  slopes: { rssMBPerMin: 0.1, heapMBPerMin: 0, fdsPerMin: 0 },
  verdict: { ok: false, reasons: ['RSS grows 0.10 MB/min'] },
};

describe('report files', () => {
  it('writes the report, the load charts and the newest soak results beside the results file', () => {
    const dir = tempDir();
    const resultsDir = join(dir, 'results');
    const resultsFile = join(resultsDir, '2026-11-25.json');
    mkdirSync(resultsDir);
    writeFileSync(resultsFile, JSON.stringify(results));
    writeFileSync(join(resultsDir, 'soak-2026-11-01.json'), JSON.stringify({ ...soak, minutes: 10 }));
    writeFileSync(join(resultsDir, 'soak-2026-11-24.json'), JSON.stringify(soak));
    assert.equal(newestSoakFile(resultsDir), join(resultsDir, 'soak-2026-11-24.json'));
    const written = writeReport(results, { reportFile: join(dir, 'REPORT.md'), resultsFile });
    for (const f of ['load-throughput.svg', 'load-latency.svg', 'soak.svg']) {
      assert.ok(written.includes(join(resultsDir, f)), f);
      assertWellFormed(readFileSync(join(resultsDir, f), 'utf8'));
    }
    const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');
    assert.match(md, /Results: \[2026-11-25\.json\]\(results\/2026-11-25\.json\)/);
    assert.match(md, /!\[2xx throughput against concurrency\]\(results\/load-throughput\.svg\)/);
    const soakMd = section(md, '## Soak');
    assert.match(soakMd, /30 minutes under load \(\[soak-2026-11-24\.json\]/);
    assert.match(soakMd, /✗ not met/);
    assert.match(soakMd, /\| RSS \| 0\.10 MB\/min \|/);
    assert.match(soakMd, /- RSS grows 0\.10 MB\/min/);
    assert.match(soakMd, /!\[RSS and heap over time\]\(results\/soak\.svg\)/);
  });

  it('says so in the report when the soak results do not have the expected shape', () => {
    assert.throws(
      () => parseSoak({ ...soak, slopes: { rssMBPerMin: 1, heapMBPerMin: 0 } }),
      /slopes\.fdsPerMin/,
    );
    assert.throws(() => parseSoak({ ...soak, samples: [{ tMin: 0 }] }), /samples\[0\]\.rssMB/);
    assert.deepEqual(parseSoak(JSON.parse(JSON.stringify(soak))), soak);
    const dir = tempDir();
    const bad = join(dir, 'soak-2026-11-25.json');
    writeFileSync(bad, JSON.stringify({ minutes: 3 }));
    writeReport({ ...results, curves: [] }, { reportFile: join(dir, 'REPORT.md'), soakFile: bad });
    const md = readFileSync(join(dir, 'REPORT.md'), 'utf8');
    assert.match(section(md, '## Soak'), /could not be read: warmupMinutes must be a number/);
    assert.equal(existsSync(join(dir, 'results', 'soak.svg')), false);
  });
});
