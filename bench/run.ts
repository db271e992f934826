/**
 * `npm run bench`: runs the benchmark suites and prints a markdown table. A full run (no `--only`)
 * also writes the results (rows, load curves, machine, Node version, date, command) to
 * `bench/results/<YYYY-MM-DD>.json` and renders `bench/REPORT.md` with its charts (report.ts).
 * `--json FILE` and `--report FILE` choose where; with `--only` nothing is written unless asked, so a
 * partial run does not overwrite the committed report.
 * `--only actor,ask,pool,store,recall,cache,http,chat,load,phi,compress` picks suites;
 * `--time MS` sets the measuring time per task and round (per ladder step for `load`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheTiers } from './cache.js';
import { chat } from './chat.js';
import { DEFAULT_TEXTS, runCompressBench } from './compress.js';
import { frontEnd } from './http.js';
import { actorThroughput, askRoundTrips, poolOverhead } from './kernel.js';
import { machine, markdown, type Row } from './lib.js';
import { loadLadder } from './load/ladder.js';
import type { LoadCurve } from './load/saturation.js';
import { recallLatency, storeWrites } from './memory.js';
import { runPhiBench } from './phi.js';
import { type BenchResults, REPORT_FILE, RESULTS_DIR, writeReport } from './report.js';

/** A suite's rows, and for the load suite the ladders behind them (for the charts). */
type SuiteOutput = Row[] | { rows: Row[]; curves: LoadCurve[] };

const SUITES: Record<string, (time?: number) => Promise<SuiteOutput>> = {
  actor: actorThroughput,
  ask: askRoundTrips,
  pool: poolOverhead,
  store: storeWrites,
  recall: recallLatency,
  cache: cacheTiers,
  http: frontEnd,
  chat,
  load: loadLadder,
  phi: phiSuite,
  compress: compressSuite,
};

/**
 * The predictive text model as a compressor on the Debian texts when installed (none: no rows):
 * bits per char against PPMd order 6 in the same run, the compressor's speed (learning included,
 * reported) and the scoring speed in one pool worker against a snapshot, against its goal.
 * `node dist/bench/compress.js` gives the full table (gzip, bzip2, xz, PPMd) and takes other files.
 */
async function compressSuite(): Promise<Row[]> {
  const files = DEFAULT_TEXTS.filter((f) => existsSync(f));
  if (files.length === 0) return [];
  const result = await runCompressBench(files, { sizeBytes: 32 << 20, verify: false });
  const rows: Row[] = [];
  for (const [file, learn] of Object.entries(result.learnMBps)) {
    const mine = result.rows.find((r) => r.file === file && r.compressor === 'model coded');
    const ppmd = result.rows.find((r) => r.file === file && r.compressor.startsWith('7z'));
    if (mine !== undefined) {
      const row: Row = {
        suite: 'compress',
        name: `${file}: bits per char`,
        value: mine.bpc,
        unit: 'bpc',
        goal: '< PPMd o6',
        met: true,
      };
      if (ppmd !== undefined) {
        row.baseline = ppmd.bpc;
        row.baselineName = 'PPMd o6 (7z)';
        row.ratio = mine.bpc / ppmd.bpc;
        row.met = mine.bpc < ppmd.bpc;
      }
      rows.push(row);
    }
    rows.push({
      suite: 'compress',
      name: `${file}: compressor speed (scoreAndLearn, learning included, one thread)`,
      value: learn,
      unit: 'MB/s',
      goal: '(reported)',
      met: true,
    });
    const worker = result.workerMBps[file];
    if (worker !== undefined) {
      rows.push({
        suite: 'compress',
        name: `${file}: scoring in one worker against a snapshot, 1-4 KiB messages`,
        value: worker,
        unit: 'MB/s',
        goal: '≥ 2 MB/s',
        met: worker >= 2,
      });
    }
  }
  return rows;
}

/**
 * Big Φ, one thread, for the basic network, PyPhi's two heavy 5-node test networks and seeded random
 * networks of 3 to 7 nodes. With `--pyphi FILE` (the output of bench/pyphi/time_pyphi.py run in the
 * same session, see docs/phi.md) each row gets PyPhi's time and the speed-up.
 */
async function phiSuite(time?: number): Promise<Row[]> {
  const pyphiFile = process.argv.includes('--pyphi')
    ? process.argv[process.argv.indexOf('--pyphi') + 1]
    : undefined;
  const pyphi =
    pyphiFile === undefined
      ? undefined
      : (JSON.parse(readFileSync(pyphiFile, 'utf8')) as { name: string; seconds?: number }[]);
  const rows = await runPhiBench({
    timeMs: time ?? 1000,
    perSize: 2,
    ...(pyphi === undefined ? {} : { pyphi }),
  });
  return rows.map((r) => {
    const row: Row = {
      suite: 'phi',
      name: `${r.name} (${r.nodes} nodes, Φ ${r.phi})`,
      value: r.meanMs,
      unit: 'ms',
      goal:
        r.pyphiMs === undefined
          ? '(reported)'
          : r.pyphiMs >= 100
            ? r.nodes === 5
              ? '≥ 50× PyPhi'
              : '≥ 20× PyPhi'
            : '(PyPhi < 0.1 s)',
      met: true,
    };
    if (r.pyphiMs !== undefined) {
      row.baseline = r.pyphiMs;
      row.baselineName = 'PyPhi 1.2.1';
      row.ratio = r.pyphiMs / r.meanMs;
      row.met = r.pyphiMs < 100 || row.ratio >= (r.nodes === 5 ? 50 : 20);
    }
    return row;
  });
}

/** How this run was started, for the report (npm sets npm_lifecycle_event for `npm run bench`). */
function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  const head = process.env['npm_lifecycle_event'] === 'bench' ? 'npm run bench' : 'node dist/bench/run.js';
  return args === '' ? head : `${head}${head.startsWith('npm') ? ' --' : ''} ${args}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      report: { type: 'string' },
      only: { type: 'string' },
      time: { type: 'string' },
      pyphi: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? []) {
    if (!(name in SUITES)) {
      process.stderr.write(`bench: unknown suite "${name}" (known: ${Object.keys(SUITES).join(', ')})\n`);
      process.exit(2);
    }
  }
  const time = values.time === undefined ? undefined : Number(values.time);
  if (time !== undefined && !(time > 0)) {
    process.stderr.write(`bench: --time must be a positive number of ms, got "${values.time}"\n`);
    process.exit(2);
  }
  const info = machine();
  const rows: Row[] = [];
  const curves: LoadCurve[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (only !== undefined && !only.includes(name)) continue;
    // Progress on stderr, so that stdout stays the report.
    process.stderr.write(`bench: ${name}…\n`);
    const t0 = performance.now();
    const out = await suite(time);
    const suiteRows = Array.isArray(out) ? out : out.rows;
    rows.push(...suiteRows);
    if (!Array.isArray(out)) curves.push(...out.curves);
    process.stderr.write(
      `bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${suiteRows.length} rows)\n`,
    );
  }
  process.stdout.write(
    `${info.date} · ${info.cpu} × ${info.cores} · Node ${info.node}\n\n${markdown(rows)}\n`,
  );
  const results: BenchResults = {
    machine: info,
    command: commandLine(),
    rows,
    ...(curves.length === 0 ? {} : { curves }),
  };
  // A full run records itself; a partial one only where asked.
  const full = only === undefined;
  const jsonFile = values.json ?? (full ? join(RESULTS_DIR, `${info.date.slice(0, 10)}.json`) : undefined);
  const reportFile = values.report ?? (full ? REPORT_FILE : undefined);
  if (jsonFile !== undefined) {
    mkdirSync(dirname(jsonFile), { recursive: true });
    writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${jsonFile}\n`);
  }
  if (reportFile !== undefined) {
    const written = writeReport(results, {
      reportFile,
      ...(jsonFile === undefined ? {} : { resultsFile: jsonFile }),
    });
    for (const f of written) process.stderr.write(`bench: wrote ${f}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
