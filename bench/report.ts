/**
 * The benchmark report: bench/REPORT.md and its SVG charts, rendered from a results file (the JSON
 * that `npm run bench` writes), so that the report can be re-rendered without re-running:
 *
 *   node dist/bench/report.js bench/results/2026-11-25.json [--report FILE] [--soak FILE]
 *
 * The report has the machine, Node version, date and command of the run; a table per suite (Jamey's
 * figure, the same-run baseline, the ratio, the goal, met); every row that missed its goal again
 * under "Goals not met"; the load ladder's throughput and latency against concurrency as charts and
 * a table; and, when a soak run's results are there (the newest `soak-YYYY-MM-DD.json` beside the
 * results file, or `--soak FILE`), its slopes, verdict and a chart of RSS and heap over time.
 * Charts go to `results/` beside the report and are linked from it.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Machine, Row } from './lib.js';
import { type LoadCurve, statusSummary } from './load/saturation.js';
import type { SoakSample } from './soak-verdict.js';
import { type ChartSeries, lineChart, PALETTE } from './svg.js';

/** What `npm run bench` writes: the machine, the command, the rows, and the load ladder's steps. */
export interface BenchResults {
  machine: Machine;
  /** How the run was started (absent in results written before it was recorded). */
  command?: string;
  rows: Row[];
  /** The load suite's ladders, one per endpoint. */
  curves?: LoadCurve[];
}

/** What the soak run (bench/soak.ts) writes to `bench/results/soak-YYYY-MM-DD.json`. */
export interface SoakResults {
  machine?: Partial<Machine>;
  minutes: number;
  warmupMinutes: number;
  samples: SoakSample[];
  slopes: { rssMBPerMin: number; heapMBPerMin: number; fdsPerMin: number };
  verdict: { ok: boolean; reasons: string[] };
}

/** The repository's bench folder (this module runs from dist/bench/). */
export const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const REPORT_FILE = join(BENCH_DIR, 'REPORT.md');

export const CHART_FILES = {
  throughput: 'load-throughput.svg',
  latency: 'load-latency.svg',
  soak: 'soak.svg',
} as const;

/** Links from the report to what sits beside it, relative to the report's folder. */
export interface ReportLinks {
  throughputChart?: string;
  latencyChart?: string;
  soakChart?: string;
  results?: FileRef;
  soakResults?: FileRef;
}

/** A file the report names: linked when it lies beside the report or below it. */
export interface FileRef {
  name: string;
  href?: string;
}

// ---- numbers and cells ------------------------------------------------------------------------

/** A figure for a table: 3 significant digits or so, k/M above 10 000. */
export function formatValue(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 0.01 || a === 0) return n.toFixed(2);
  return n.toPrecision(2);
}

/** A slope: two significant digits (0.012 MB/min), zero as 0. */
function formatSlope(n: number): string {
  if (n === 0) return '0';
  return Math.abs(n) >= 10 ? formatValue(n) : n.toPrecision(2);
}

function formatRatio(r: number): string {
  return Math.abs(r) >= 100 ? r.toFixed(0) : r.toPrecision(3);
}

/** Text safe inside a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const tick = (met: boolean) => (met ? '✓' : '✗');

function fileRef(ref: FileRef): string {
  return ref.href === undefined ? `\`${ref.name}\`` : `[${ref.name}](${ref.href})`;
}

// ---- sections ---------------------------------------------------------------------------------

function header(results: BenchResults, links: ReportLinks): string[] {
  const m = results.machine;
  const machine = [
    `${m.cpu} × ${m.cores} cores`,
    m.memoryGB === undefined ? 'RAM not recorded' : `${m.memoryGB} GiB RAM`,
    ...(m.os === undefined ? [] : [m.os]),
  ].join(', ');
  const met = results.rows.filter((r) => r.met).length;
  return [
    '# Benchmark report',
    '',
    `- Date: ${m.date}`,
    `- Machine: ${machine}`,
    `- Node: ${m.node}`,
    `- Command: \`${results.command ?? 'not recorded'}\``,
    ...(links.results === undefined ? [] : [`- Results: ${fileRef(links.results)}`]),
    '',
    `${met} of ${results.rows.length} rows meet their goal. Every figure is measured against a baseline in ` +
      'the same run where there is one; [docs/benchmarks.md](../docs/benchmarks.md) says what each suite ' +
      'measures, against what, and how the load ladder works.',
  ];
}

/** The rows grouped by suite, in the order the suites ran. */
export function bySuite(rows: readonly Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const list = out.get(r.suite);
    if (list === undefined) out.set(r.suite, [r]);
    else list.push(r);
  }
  return out;
}

function suiteTable(rows: readonly Row[]): string[] {
  const lines = [
    '| measure | Jamey | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const baseline =
      r.baseline === undefined
        ? '—'
        : `${formatValue(r.baseline)} ${r.unit.split(' ')[0]}${r.baselineName === undefined ? '' : ` (${r.baselineName})`}`;
    lines.push(
      `| ${cell(r.name)} | ${cell(`${formatValue(r.value)} ${r.unit}`.trim())} | ${cell(baseline)} | ${
        r.ratio === undefined ? '—' : formatRatio(r.ratio)
      } | ${cell(r.goal)} | ${tick(r.met)} |`,
    );
  }
  return lines;
}

function suiteSections(rows: readonly Row[]): string[] {
  const out: string[] = ['', '## Results by suite'];
  for (const [suite, list] of bySuite(rows)) out.push('', `### ${suite}`, '', ...suiteTable(list));
  return out;
}

/** Every row that missed its goal, with what was measured. */
export function goalsNotMet(rows: readonly Row[]): string[] {
  const missed = rows.filter((r) => !r.met);
  const out = ['', '## Goals not met', ''];
  if (missed.length === 0) return [...out, 'None: every row meets its goal.'];
  for (const r of missed) {
    const ratio = r.ratio === undefined ? '' : `, ratio ${formatRatio(r.ratio)}`;
    out.push(`- **${r.suite}** · ${r.name}: ${formatValue(r.value)} ${r.unit}${ratio} (goal: ${r.goal})`);
  }
  return out;
}

function loadSection(curves: readonly LoadCurve[], links: ReportLinks): string[] {
  const out = [
    '',
    '## Load: throughput and latency against concurrency',
    '',
    'Closed loop from a second process over loopback, one step per concurrency until 2xx throughput ' +
      'stops growing by more than 10 %, then two steps past it. Throughput counts 2xx answers only.',
  ];
  if (links.throughputChart !== undefined) {
    out.push('', `![2xx throughput against concurrency](${links.throughputChart})`);
  }
  if (links.latencyChart !== undefined) {
    out.push('', `![p50 and p99 latency against concurrency](${links.latencyChart})`);
  }
  out.push(
    '',
    '| endpoint | connections | req/s | 2xx/s | p50 ms | p99 ms | statuses | errors |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const c of curves) {
    c.steps.forEach((s, i) => {
      out.push(
        `| ${i === 0 ? cell(`${c.endpoint} (${c.method} ${c.path.split('?')[0]})`) : ''} | ${s.connections} | ${formatValue(
          s.rps,
        )} | ${formatValue(s.okRps)} | ${formatValue(s.p50)} | ${formatValue(s.p99)} | ${cell(
          statusSummary(s.statuses),
        )} | ${s.errors} |`,
      );
    });
  }
  return out;
}

function soakSection(soak: SoakResults | Error, links: ReportLinks): string[] {
  const out = ['', '## Soak', ''];
  const source = links.soakResults === undefined ? 'the soak results' : fileRef(links.soakResults);
  if (soak instanceof Error) return [...out, `${source} could not be read: ${soak.message}`];
  const s = soak.slopes;
  out.push(
    `${soak.minutes} minutes under load (${source}); slopes after the ${soak.warmupMinutes}-minute warm-up. ` +
      `Verdict: ${soak.verdict.ok ? '✓ no growth that points to a leak' : '✗ not met'}.`,
    '',
    '| measure | slope |',
    '|---|---|',
    `| RSS | ${formatSlope(s.rssMBPerMin)} MB/min |`,
    `| heap used | ${formatSlope(s.heapMBPerMin)} MB/min |`,
    `| open file descriptors | ${formatSlope(s.fdsPerMin)} /min |`,
  );
  const last = soak.samples.at(-1);
  if (last !== undefined) {
    const mailbox = Math.max(...soak.samples.map((x) => x.mailboxMax));
    out.push(
      '',
      `At the end: RSS ${formatValue(last.rssMB)} MB, heap ${formatValue(last.heapMB)} MB, ${last.fds} file descriptors; ` +
        `fullest mailbox seen: ${mailbox}.`,
    );
  }
  if (soak.verdict.reasons.length > 0) {
    out.push('', ...soak.verdict.reasons.map((r) => `- ${r}`));
  }
  if (links.soakChart !== undefined) out.push('', `![RSS and heap over time](${links.soakChart})`);
  return out;
}

/** The report as markdown. `soak` is the soak run's results, or why they could not be read. */
export function renderReport(
  results: BenchResults,
  links: ReportLinks = {},
  soak?: SoakResults | Error,
): string {
  const lines = [...header(results, links), ...goalsNotMet(results.rows), ...suiteSections(results.rows)];
  if (results.curves !== undefined && results.curves.length > 0)
    lines.push(...loadSection(results.curves, links));
  if (soak !== undefined) lines.push(...soakSection(soak, links));
  return `${lines.join('\n')}\n`;
}

// ---- charts -----------------------------------------------------------------------------------

/** 2xx throughput against concurrency, a line per endpoint. */
export function throughputChart(curves: readonly LoadCurve[]): string {
  return lineChart({
    title: 'Throughput against concurrency (2xx answers/s)',
    xLabel: 'concurrent connections',
    yLabel: '2xx answers per second',
    xLog: true,
    // The endpoints lie decades apart (a cached GET against a chat): a log scale shows each one's shape.
    yLog: true,
    series: curves.map((c) => ({
      name: c.endpoint,
      points: c.steps.map((s) => [s.connections, s.okRps] as const),
    })),
  });
}

/** p50 (solid) and p99 (dashed) latency against concurrency, a colour per endpoint, log scales. */
export function latencyChart(curves: readonly LoadCurve[]): string {
  const series: ChartSeries[] = [];
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    series.push(
      { name: c.endpoint, color, points: c.steps.map((s) => [s.connections, s.p50] as const) },
      {
        name: `${c.endpoint} p99`,
        color,
        dashed: true,
        unlisted: true,
        points: c.steps.map((s) => [s.connections, s.p99] as const),
      },
    );
  });
  return lineChart({
    title: 'Latency against concurrency (p50 solid, p99 dashed)',
    xLabel: 'concurrent connections',
    yLabel: 'latency, ms',
    xLog: true,
    yLog: true,
    series,
    notes: [
      { label: 'p50', dashed: false },
      { label: 'p99', dashed: true },
    ],
  });
}

/** RSS and heap used over the soak run's minutes. */
export function soakChart(soak: SoakResults): string {
  return lineChart({
    title: `Soak: memory over ${soak.minutes} minutes`,
    xLabel: 'minutes',
    yLabel: 'MB',
    series: [
      { name: 'RSS', points: soak.samples.map((s) => [s.tMin, s.rssMB] as const) },
      { name: 'heap used', points: soak.samples.map((s) => [s.tMin, s.heapMB] as const) },
    ],
  });
}

// ---- files ------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a soak results object's shape; the error names the first field that is wrong. */
export function parseSoak(data: unknown): SoakResults {
  const fail = (field: string, want: string): never => {
    throw new Error(`${field} must be ${want}`);
  };
  const num = (o: Record<string, unknown>, k: string, at: string) => {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) fail(`${at}${k}`, 'a number');
  };
  if (!isRecord(data)) return fail('the file', 'a JSON object');
  num(data, 'minutes', '');
  num(data, 'warmupMinutes', '');
  if (!Array.isArray(data.samples)) fail('samples', 'an array');
  for (const [i, s] of (data.samples as unknown[]).entries()) {
    if (!isRecord(s)) return fail(`samples[${i}]`, 'an object');
    for (const k of ['tMin', 'rssMB', 'heapMB', 'fds', 'mailboxMax']) num(s, k, `samples[${i}].`);
  }
  if (!isRecord(data.slopes)) fail('slopes', 'an object');
  for (const k of ['rssMBPerMin', 'heapMBPerMin', 'fdsPerMin'])
    num(data.slopes as Record<string, unknown>, k, 'slopes.');
  const v = data.verdict;
  if (!isRecord(v)) return fail('verdict', 'an object');
  if (typeof v.ok !== 'boolean') fail('verdict.ok', 'true or false');
  if (!Array.isArray(v.reasons) || v.reasons.some((r) => typeof r !== 'string'))
    fail('verdict.reasons', 'an array of strings');
  return data as unknown as SoakResults;
}

/** The newest `soak-YYYY-MM-DD.json` in `dir` (by the date in its name), if any. */
export function newestSoakFile(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const soaks = names.filter((n) => /^soak-\d{4}-\d{2}-\d{2}\.json$/.test(n)).sort();
  const last = soaks.at(-1);
  return last === undefined ? undefined : join(dir, last);
}

function readSoak(file: string): SoakResults | Error {
  try {
    return parseSoak(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export function readResults(file: string): BenchResults {
  const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!isRecord(data) || !isRecord(data.machine) || !Array.isArray(data.rows)) {
    throw new Error(`${file} is not a results file: it needs "machine" and "rows"`);
  }
  return data as unknown as BenchResults;
}

/** A link from `fromDir` to `file`, with forward slashes. */
function linkTo(fromDir: string, file: string): string {
  return relative(fromDir, file).split('\\').join('/');
}

/** A link to `file` when it lies in `fromDir` or below; a file elsewhere is named, not linked (no machine's paths in the report). */
function linkOrName(fromDir: string, file: string): FileRef {
  const href = linkTo(fromDir, file);
  return href.startsWith('../') ? { name: basename(file) } : { name: basename(file), href };
}

export interface WriteReportOptions {
  /** @default bench/REPORT.md */
  reportFile?: string;
  /** The results file the report comes from (linked, and where the soak results are looked for). */
  resultsFile?: string;
  /** The soak results to show. @default the newest soak-*.json beside the results file (else in bench/results) */
  soakFile?: string;
}

/** Writes the report and its charts (into `results/` beside it); returns the files written. */
export function writeReport(results: BenchResults, options: WriteReportOptions = {}): string[] {
  const reportFile = resolve(options.reportFile ?? REPORT_FILE);
  const reportDir = dirname(reportFile);
  const chartDir = join(reportDir, 'results');
  const written: string[] = [];
  const links: ReportLinks = {};
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    written.push(file);
  };
  if (options.resultsFile !== undefined) links.results = linkOrName(reportDir, resolve(options.resultsFile));
  const curves = results.curves ?? [];
  if (curves.length > 0) {
    const t = join(chartDir, CHART_FILES.throughput);
    const l = join(chartDir, CHART_FILES.latency);
    write(t, throughputChart(curves));
    write(l, latencyChart(curves));
    links.throughputChart = linkTo(reportDir, t);
    links.latencyChart = linkTo(reportDir, l);
  }
  const soakFile =
    options.soakFile ??
    newestSoakFile(options.resultsFile === undefined ? RESULTS_DIR : dirname(resolve(options.resultsFile)));
  let soak: SoakResults | Error | undefined;
  if (soakFile !== undefined) {
    soak = readSoak(soakFile);
    links.soakResults = linkOrName(reportDir, resolve(soakFile));
    if (!(soak instanceof Error)) {
      const s = join(chartDir, CHART_FILES.soak);
      write(s, soakChart(soak));
      links.soakChart = linkTo(reportDir, s);
    }
  }
  write(reportFile, renderReport(results, links, soak));
  return written;
}

// ---- command line -----------------------------------------------------------------------------

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { report: { type: 'string' }, soak: { type: 'string' } },
  });
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    process.stderr.write('usage: node dist/bench/report.js RESULTS.json [--report FILE] [--soak FILE]\n');
    process.exit(2);
  }
  const written = writeReport(readResults(file), {
    resultsFile: file,
    ...(values.report === undefined ? {} : { reportFile: values.report }),
    ...(values.soak === undefined ? {} : { soakFile: values.soak }),
  });
  for (const f of written) process.stderr.write(`report: wrote ${f}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`report: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
