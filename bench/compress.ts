/**
 * The predictive text model as a compressor: bits per character (per byte of the file) on
 * book-length English text against gzip -9, bzip2 -9, xz -9e and 7-Zip's PPMd order 6 on the same
 * file in the same run, the compressor's speed (`scoreAndLearn`, learning included, one thread) and
 * the scoring speed as the runtime scores: in one pool worker against a snapshot.
 *
 *   npm run build
 *   node dist/bench/compress.js [FILE ...] [--size-mb 32] [--verify] [--json out.json]
 *
 * FILE may be plain text or gzip/dictzip (.gz, .dz). Without one, the English texts that Debian
 * packages ship are used when installed: jargon-text (The Jargon File) and dict-devil (Ambrose
 * Bierce, The Devil's Dictionary). A missing external tool is skipped with a note (p7zip-full
 * provides 7z).
 *
 * "model bits" is the ideal code length (the summed surprisal of `scoreAndLearn`, adaptive: each
 * byte scored, then learned); "model coded" is the real arithmetic-coded size, and `--verify`
 * decodes it again and checks the round trip. 7z's figure is the size of its archive (a few dozen
 * bytes of container header included).
 *
 * "scoring in one worker against a snapshot" is how the actor scores: the model that learned the
 * file publishes a `snapshot()` (SharedArrayBuffer); the whole file, cut into messages of 1-4 KiB
 * at paragraph (else line, else word) breaks, goes in batches of 64 messages as `scoreBatch` tasks
 * to a real worker pool (Piscina) of one thread running the compiled predict task module, one task
 * at a time. MB/s is the file's bytes over the host's wall time from the first task's submission
 * to the last result, so round trips and the copying of texts and results count against it. One
 * warm-up round (thread start, JIT), then three measured rounds; the median is reported. With
 * `--verify` the worker's bits are checked against the same messages scored on the main thread.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Bench } from 'tinybench';
import { decodeBytes, encodeBytes } from '../src/actors/predictive/arithmetic-coder.js';
import { PREDICT_TASK_FILE } from '../src/actors/predictive/index.js';
import type { ScoredText } from '../src/actors/predictive/predict-task.js';
import { TextModel } from '../src/actors/predictive/text-model.js';
import { systemClock } from '../src/runtime/clock.js';
import { TaskPool } from '../src/runtime/pool.js';
import { machine } from './lib.js';

/** Debian package paths of book-length English texts (overridable on the command line). */
export const DEFAULT_TEXTS = ['/usr/share/doc/jargon-text/jargon.txt.gz', '/usr/share/dictd/devil.dict.dz'];

export interface CompressRow {
  file: string;
  bytes: number;
  compressor: string;
  compressedBytes: number;
  bpc: number;
  seconds: number;
  note?: string;
}

export interface CompressResult {
  rows: CompressRow[];
  /** The compressor's speed: scoreAndLearn throughput (learning included), MB/s (10^6 bytes), one thread, per file. */
  learnMBps: Record<string, number>;
  /** score() throughput on the main thread on a frozen model, the first 200 paragraphs, MB/s. */
  scoreMBps: Record<string, number>;
  /** Scoring in one worker against a snapshot: the whole file as 1-4 KiB messages, median of 3 rounds, MB/s. */
  workerMBps: Record<string, number>;
  /** Each measured round of the worker scoring, MB/s. */
  workerRounds: Record<string, number[]>;
  /** Messages the file was cut into for the worker scoring. */
  workerMessages: Record<string, number>;
}

/** Smallest and largest message of the worker scoring, in chars (bytes for ASCII). */
const MESSAGE_MIN = 1024;
const MESSAGE_MAX = 4096;
/** Messages per `scoreBatch` task (the actor sends every score of a turn, at most 256, as one task). */
const MESSAGES_PER_TASK = 64;
const WORKER_ROUNDS = 3;

/**
 * `text` cut into consecutive messages of MESSAGE_MIN..MESSAGE_MAX chars (the last may be
 * shorter): each ends at the last paragraph break in that range, else the last line break, else
 * the last space, else at MESSAGE_MAX. Joined, they give `text` back.
 */
export function toMessages(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    if (text.length - start <= MESSAGE_MAX) {
      out.push(text.slice(start));
      break;
    }
    const window = text.slice(start + MESSAGE_MIN, start + MESSAGE_MAX);
    let cut = window.lastIndexOf('\n\n');
    if (cut >= 0) cut += 2;
    else {
      cut = window.lastIndexOf('\n');
      if (cut < 0) cut = window.lastIndexOf(' ');
      cut = cut < 0 ? window.length : cut + 1;
    }
    out.push(text.slice(start, start + MESSAGE_MIN + cut));
    start += MESSAGE_MIN + cut;
  }
  return out;
}

/**
 * Scores `messages` against a snapshot of `model` in one pool worker, MESSAGES_PER_TASK a task,
 * one task at a time: one warm-up round, then WORKER_ROUNDS timed ones (MB/s each, host wall time).
 */
async function scoreInWorker(
  model: TextModel,
  messages: string[],
  verify: boolean,
): Promise<{ rounds: number[]; bits: number }> {
  const pool = new TaskPool(
    { maxThreads: 1, maxQueue: 4, taskDeadlineMs: 600_000, idleTimeoutMs: 600_000 },
    systemClock,
  );
  const task = { filename: PREDICT_TASK_FILE, name: 'scoreBatch', label: 'predict.scoreBatch' };
  try {
    const snapshot = model.snapshot();
    const batches: string[][] = [];
    for (let i = 0; i < messages.length; i += MESSAGES_PER_TASK) {
      batches.push(messages.slice(i, i + MESSAGES_PER_TASK));
    }
    const bytes = messages.reduce((s, m) => s + Buffer.byteLength(m), 0);
    const round = async (): Promise<{ mbps: number; bits: number }> => {
      let bits = 0;
      const t0 = performance.now();
      for (const texts of batches) {
        const scored = await pool.run<ScoredText[]>(task, { model: snapshot, texts });
        for (const r of scored) bits += r.bits;
      }
      return { mbps: bytes / 1e6 / ((performance.now() - t0) / 1000), bits };
    };
    const warm = await round();
    const rounds: number[] = [];
    for (let r = 0; r < WORKER_ROUNDS; r++) {
      const { mbps, bits } = await round();
      if (bits !== warm.bits) throw new Error('worker scores differ between rounds');
      rounds.push(mbps);
    }
    if (verify) {
      const frozen = new TextModel(snapshot, { readOnly: true });
      const local = messages.reduce((s, m) => s + frozen.score(m).bits, 0);
      if (local !== warm.bits)
        throw new Error(`worker bits ${warm.bits} differ from the main thread's ${local}`);
    }
    return { rounds, bits: warm.bits };
  } finally {
    await pool.destroy();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function loadText(path: string): Uint8Array {
  const raw = readFileSync(path);
  return /\.(gz|dz)$/.test(path) ? new Uint8Array(gunzipSync(raw)) : new Uint8Array(raw);
}

interface Tool {
  name: string;
  run(file: string, dir: string): number;
}

function pipeSize(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${r.stderr.toString().trim()}`);
  return r.stdout.length;
}

const TOOLS: Tool[] = [
  { name: 'gzip -9', run: (f) => pipeSize('gzip', ['-9', '-c', f]) },
  { name: 'bzip2 -9', run: (f) => pipeSize('bzip2', ['-9', '-c', f]) },
  { name: 'xz -9e', run: (f) => pipeSize('xz', ['-9e', '-c', f]) },
  {
    name: '7z PPMd o6',
    run: (f, dir) => {
      const archive = join(dir, 'out.7z');
      rmSync(archive, { force: true });
      pipeSize('7z', ['a', '-bd', '-y', '-m0=PPMd:o=6', archive, f]);
      return statSync(archive).size;
    },
  },
];

export async function runCompressBench(
  files: string[],
  options: { sizeBytes: number; verify: boolean; log?: (line: string) => void },
): Promise<CompressResult> {
  const log = options.log ?? (() => {});
  const rows: CompressRow[] = [];
  const learnMBps: Record<string, number> = {};
  const scoreMBps: Record<string, number> = {};
  const workerMBps: Record<string, number> = {};
  const workerRounds: Record<string, number[]> = {};
  const workerMessages: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'jamey-compress-'));
  try {
    for (const path of files) {
      const name = basename(path);
      const text = loadText(path);
      const plain = join(dir, name.replace(/\.(gz|dz)$/, ''));
      writeFileSync(plain, text);
      const row = (compressor: string, compressedBytes: number, seconds: number, note?: string): void => {
        const r: CompressRow = {
          file: name,
          bytes: text.length,
          compressor,
          compressedBytes,
          bpc: (compressedBytes * 8) / text.length,
          seconds,
        };
        if (note !== undefined) r.note = note;
        rows.push(r);
      };
      for (const tool of TOOLS) {
        const t0 = performance.now();
        try {
          const size = tool.run(plain, dir);
          row(tool.name, size, (performance.now() - t0) / 1000);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          log(`note: ${tool.name} skipped (${e.code === 'ENOENT' ? 'not installed' : e.message})`);
        }
      }

      const model = new TextModel({ sizeBytes: options.sizeBytes });
      let t0 = performance.now();
      const scored = model.scoreAndLearn(text);
      const learnSeconds = (performance.now() - t0) / 1000;
      learnMBps[name] = text.length / 1e6 / learnSeconds;
      row(
        `model bits (${(model.sizeBytes / 2 ** 20).toFixed(1)} MiB)`,
        scored.bits / 8,
        learnSeconds,
        'ideal code length',
      );

      t0 = performance.now();
      const code = encodeBytes(text, new TextModel({ sizeBytes: options.sizeBytes }));
      row('model coded', code.length, (performance.now() - t0) / 1000, 'arithmetic coder output');
      if (options.verify) {
        const back = decodeBytes(code, text.length, new TextModel({ sizeBytes: options.sizeBytes }));
        if (Buffer.compare(Buffer.from(back), Buffer.from(text)) !== 0) {
          throw new Error(`${name}: decoded text differs from the original`);
        }
        log(`${name}: decode(encode(text)) round trip verified`);
      }

      // Frozen scoring of paragraph-sized messages, as the actor scores requests.
      const messages = Buffer.from(text)
        .toString('utf8')
        .split(/\n\s*\n/)
        .filter((m) => m.length > 20)
        .slice(0, 200);
      const msgBytes = messages.reduce((s, m) => s + Buffer.byteLength(m), 0);
      const bench = new Bench({ time: 1000, warmupTime: 200 });
      bench.add('score', () => {
        for (const m of messages) model.score(m);
      });
      await bench.run();
      const hz = bench.tasks[0]?.result.state === 'completed' ? bench.tasks[0].result.throughput.mean : 0;
      scoreMBps[name] = (hz * msgBytes) / 1e6;

      // As the runtime scores: in one pool worker, against a snapshot of the model that learned the file.
      const all = toMessages(Buffer.from(text).toString('utf8'));
      const inWorker = await scoreInWorker(model, all, options.verify);
      workerRounds[name] = inWorker.rounds;
      workerMBps[name] = median(inWorker.rounds);
      workerMessages[name] = all.length;
      log(
        `${name}: scored in one worker against a snapshot, ${all.length} messages, ${
          inWorker.bits / text.length
        } bpc; rounds ${inWorker.rounds.map((r) => r.toFixed(2)).join(', ')} MB/s${
          options.verify ? ' (bits verified against the main thread)' : ''
        }`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, learnMBps, scoreMBps, workerMBps, workerRounds, workerMessages };
}

function table(result: CompressResult): string {
  const lines = ['| file | bytes | compressor | compressed | bpc | seconds |', '|---|---|---|---|---|---|'];
  for (const r of result.rows) {
    lines.push(
      `| ${r.file} | ${r.bytes} | ${r.compressor} | ${Math.round(r.compressedBytes)} | ${r.bpc.toFixed(4)} | ${r.seconds.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'size-mb': { type: 'string', default: '32' },
      verify: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const files = positionals.length > 0 ? positionals : DEFAULT_TEXTS.filter((p) => existsSync(p));
  const missing = files.filter((f) => !existsSync(f));
  if (files.length === 0 || missing.length > 0) {
    console.error(
      missing.length > 0
        ? `compress bench: no such file: ${missing.join(', ')}`
        : `compress bench: no text file found (install jargon-text or dict-devil, or pass FILE)`,
    );
    process.exit(1);
  }
  const sizeBytes = Math.round(Number(values['size-mb']) * 2 ** 20);
  const result = await runCompressBench(files, {
    sizeBytes,
    verify: values.verify,
    log: (l) => console.log(l),
  });
  console.log(table(result));
  for (const f of Object.keys(result.learnMBps)) {
    const rows = result.rows.filter((r) => r.file === f);
    const ppmd = rows.find((r) => r.compressor.startsWith('7z'));
    const ours = rows.find((r) => r.compressor === 'model coded');
    const learn = result.learnMBps[f] ?? 0;
    const worker = result.workerMBps[f] ?? 0;
    console.log(
      `${f}: compressor (scoreAndLearn, learning included, one thread) ${learn.toFixed(2)} MB/s; ` +
        `score on the main thread (frozen, 200 paragraphs) ${(result.scoreMBps[f] ?? 0).toFixed(2)} MB/s; ` +
        `scoring in one worker against a snapshot ${worker.toFixed(2)} MB/s (goal ≥ 2 MB/s: ${
          worker >= 2 ? 'met' : 'NOT met'
        })` +
        (ppmd && ours
          ? `; model ${ours.bpc.toFixed(4)} bpc vs PPMd o6 ${ppmd.bpc.toFixed(4)} bpc: ${
              ours.bpc < ppmd.bpc ? 'fewer bits' : 'MORE bits'
            }`
          : ''),
    );
  }
  if (values.json !== undefined)
    writeFileSync(values.json, JSON.stringify({ machine: machine(), ...result }, null, 2));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
