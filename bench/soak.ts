/**
 * Soak: the service under a steady mixed load for a long time (30 minutes by default), to show
 * that nothing accumulates — heap, resident memory, file descriptors, mailboxes — and that nothing
 * fails. `npm run soak -- --minutes 2` for a short run.
 *
 * Processes: the service as a child (`node dist/src/main.js`, real SQLite file in a temp folder,
 * 127.0.0.1 port 0) so that its memory is its own; a fake OpenAI-compatible upstream
 * (bench/load/upstream.ts) configured as a provider; one open-loop load generator
 * (bench/load/generator.ts) per kind of request, each at its share of `--rate`. All load comes from
 * one address, so the per-address ceilings are raised (as bench/chat.ts does).
 *
 * The service runs with `--trace-gc`: its heap is read after each full collection it makes
 * (bench/load/gc-trace.ts). Every few seconds this process scrapes /metrics for resident memory,
 * open descriptors, every mailbox's depth and the memories held. After the warm-up it fits
 * least-squares slopes and judges them (bench/soak-verdict.ts); the JSON goes to `--out` (default
 * bench/results/soak-<date>.json), a summary to stderr; exit status 0 when the verdict is ok.
 * `--snapshots DIR` also writes heap snapshots of the service after the warm-up and at the end
 * (each pauses it for seconds: for finding a leak, not for a verdict).
 *
 * usage: node dist/bench/soak.js [--minutes 30] [--warmup MIN] [--rate 150] [--out FILE]
 *                                [--interval SEC] [--snapshots DIR]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BASIC_NETWORK } from '../test/fixtures/iit/basic-network.js';
import { startUpstream, upstreamProvider } from './chat.js';
import { machine } from './lib.js';
import { drive } from './load/drive.js';
import { GcTrace } from './load/gc-trace.js';
import type { LoadOptions, LoadResult } from './load/generator.js';
import { INSPECTOR_URL, Inspector } from './load/inspector.js';
import { corpus } from './memory.js';
import {
  DEFAULT_THRESHOLDS,
  type HeapPoint,
  judgeSoak,
  type MailboxSeries,
  type SoakJudgement,
  type SoakSample,
} from './soak-verdict.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const MB = 2 ** 20;
const ENTITIES = 16;

interface SoakArgs {
  minutes: number;
  warmupMinutes: number;
  rate: number;
  out: string;
  intervalSeconds: number;
  snapshots: string | undefined;
}

const USAGE =
  'usage: soak [--minutes 30] [--warmup MIN] [--rate 150] [--out FILE] [--interval SEC] [--snapshots DIR]';

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

function soakArgs(argv: string[]): SoakArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
      interval: { type: 'string' },
      snapshots: { type: 'string' },
    },
  });
  const minutes = positive('minutes', values.minutes, 30);
  const warmupMinutes = positive('warmup', values.warmup, Number((minutes * 0.2).toFixed(3)));
  if (warmupMinutes >= minutes) throw new Error('--warmup must be shorter than --minutes');
  // Every second in a 2-minute run, every 5 s from 10 minutes on.
  const interval = positive('interval', values.interval, Math.min(5, Math.max(1, minutes / 2)));
  const day = new Date().toISOString().slice(0, 10);
  return {
    minutes,
    warmupMinutes,
    rate: positive('rate', values.rate, 150),
    out: resolve(values.out ?? join(RESULTS, `soak-${day}.json`)),
    intervalSeconds: interval,
    snapshots: values.snapshots,
  };
}

// ---- child processes ------------------------------------------------------------------------------

/** The environment without anything that would add a real LLM provider or reconfigure the service. */
function serviceEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(JAMEY_|OPENAI_|ANTHROPIC_|OLLAMA_)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Resolves with the first match of `pattern` among the lines; rejects if the child exits first. */
function awaitLine(child: ChildProcess, lines: Interface, pattern: RegExp): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`child exited with ${code} before "${pattern}"`));
    const onLine = (line: string) => {
      const m = pattern.exec(line);
      if (m === null) return;
      child.off('exit', onExit);
      lines.off('line', onLine);
      resolve(m[1] ?? m[0]);
    };
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

interface ServiceProcess {
  child: ChildProcess;
  base: string;
  adminKey: string;
  /** The service's full collections, from its `--trace-gc` output. */
  gc: GcTrace;
  /** Its inspector, when heap snapshots were asked for. */
  inspector: Inspector | undefined;
  /** Warnings and errors the service logged (counted; the first errors are also echoed). */
  logged: { warn: number; error: number };
}

/**
 * Bounds the service keeps by policy are set so that the load reaches them within the first half of
 * the warm-up (never above their defaults): the short-term lifetime and the consolidation period
 * that deletes expired memories, and the capacities of the response (L1) and embedding (L2) caches.
 * After the warm-up what the service must hold then no longer grows, so what still grows is kept by
 * mistake. A 30-minute run keeps the defaults but for the short-term lifetime (3 min instead of 5).
 */
export interface SoakPolicy {
  shortTermTtlMs: number;
  consolidationIntervalMs: number;
  l1Capacity: number;
  l2Capacity: number;
}

function policy(warmupMinutes: number, rate: number, mix: readonly Kind[]): SoakPolicy {
  const half = (warmupMinutes * 60) / 2;
  const share = (f: (k: Kind) => boolean) => mix.filter(f).reduce((a, k) => a + k.share, 0);
  const shortTermTtlMs = Math.round(Math.min(300_000, half * 1000));
  return {
    shortTermTtlMs,
    consolidationIntervalMs: Math.round(Math.min(30_000, shortTermTtlMs / 2)),
    l1Capacity: Math.round(Math.min(10_000, Math.max(100, rate * share((k) => k.cached === true) * half))),
    l2Capacity: Math.round(Math.min(10_000, Math.max(100, rate * share((k) => k.embeds === true) * half))),
  };
}

/** The service's configuration: the upstream as a provider, one address's ceilings raised, the policy. */
function serviceConfig(upstreamUrl: string, p: SoakPolicy): object {
  const unlimited = { rps: 1e6, burst: 1e6 };
  return {
    providers: [upstreamProvider(upstreamUrl, 16)],
    security: { preAuthIpLimit: unlimited, ddos: { maxConnectionsPerIp: 1024 } },
    llm: { chat: { episodes: 'none' } },
    memory: { shortTermTtlMs: p.shortTermTtlMs, consolidationIntervalMs: p.consolidationIntervalMs },
    cache: { l1: { capacity: p.l1Capacity }, l2: { capacity: p.l2Capacity } },
  };
}

/** Errors of the service echoed on this process's stderr at most (the rest are counted). */
const ECHOED_ERRORS = 5;

async function startService(
  dir: string,
  upstreamUrl: string,
  p: SoakPolicy,
  withInspector: boolean,
): Promise<ServiceProcess> {
  const config = join(dir, 'jamey.config.json');
  const dataDir = join(dir, 'data');
  writeFileSync(config, JSON.stringify(serviceConfig(upstreamUrl, p)));
  const flags = withInspector ? ['--trace-gc', '--inspect=127.0.0.1:0'] : ['--trace-gc'];
  const child = spawn(
    process.execPath,
    [...flags, MAIN, '--config', config, '--host', '127.0.0.1', '--port', '0'],
    {
      cwd: dir,
      env: { ...serviceEnv(), JAMEY_DATA_DIR: dataDir, JAMEY_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const gc = new GcTrace();
  // stdout carries the GC trace (and the admin key, which is not echoed).
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) =>
    gc.line(line, performance.now()),
  );
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const logged = { warn: 0, error: 0 };
  lines.on('line', (line) => {
    if (line.includes('"level":"warn"')) logged.warn++;
    if (line.includes('"level":"error"') && ++logged.error <= ECHOED_ERRORS) {
      process.stderr.write(`service: ${line}\n`);
    }
  });
  const listening = awaitLine(child, lines, /"msg":"listening".*"url":"(http:\/\/[^"]+)"/);
  const inspector = withInspector
    ? await Inspector.connect(await awaitLine(child, lines, INSPECTOR_URL))
    : undefined;
  const base = await listening;
  const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  return { child, base, adminKey, gc, inspector, logged };
}

/** Stops the service with SIGTERM (a graceful drain) and returns its exit code. */
function stopService(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function createKey(base: string, adminKey: string): Promise<string> {
  const res = await fetch(`${base}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'soak',
      scopes: ['chat', 'memory:read', 'memory:write'],
      rateLimit: { rps: 1e6, burst: 1e6 },
    }),
  });
  if (res.status !== 201) throw new Error(`creating the soak key: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

// ---- the load -------------------------------------------------------------------------------------

/** One kind of request in the mix: its share of the rate and what to send. */
interface Kind {
  name: string;
  share: number;
  path: string;
  method: 'GET' | 'POST';
  bodies?: (i: number) => object;
  /** Answers go through the response cache (L1). */
  cached?: boolean;
  /** Each request embeds a text (the embedding cache, L2). */
  embeds?: boolean;
}

/** Facts stored over and over: after their first write every write merges into the memory. */
const FACTS = 400;

/**
 * The mix. Texts are English-like sentences drawn by word frequency, for 16 entities. Memory
 * writes alternate between fresh short-term and working memories (they expire, or are evicted past
 * the working capacity of 100, so their number stays bounded) and semantic and long-term facts
 * from a fixed set (merged into the stored copy after the first write). Chat goes to the built-in
 * local model with the entity's memories recalled, and through the upstream; both store their turns.
 */
function kinds(): Kind[] {
  const sentence = corpus(29);
  const facts = Array.from({ length: FACTS }, corpus(31));
  const entity = (i: number) => `soak-user-${i % ENTITIES}`;
  const write = (i: number): object => {
    const fact = i >> 2;
    switch (i % 4) {
      case 0:
        return { layer: 'short-term', content: sentence(), entityId: entity(i), salience: 0.2 };
      case 1:
        return { layer: 'working', content: sentence(), entityId: entity(i), salience: 0.3 };
      default:
        return {
          layer: i % 4 === 2 ? 'semantic' : 'long-term',
          content: facts[fact % FACTS],
          entityId: entity(fact),
          salience: 0.6,
        };
    }
  };
  return [
    { name: 'memory write', share: 0.2, path: '/v1/memories', method: 'POST', bodies: write, embeds: true },
    {
      name: 'memory search',
      share: 0.15,
      path: '/v1/memories/search',
      method: 'POST',
      bodies: (i) => ({ query: sentence().slice(0, 60), entityId: entity(i), limit: 5 }),
      cached: true,
      embeds: true,
    },
    {
      name: 'chat, local model',
      share: 0.15,
      path: '/v1/chat/completions',
      method: 'POST',
      bodies: (i) => ({
        model: 'jamey-local',
        user: entity(i),
        messages: [{ role: 'user', content: `What do you remember about ${sentence().slice(0, 60)}?` }],
      }),
      embeds: true,
    },
    {
      name: 'chat, upstream',
      share: 0.2,
      path: '/v1/chat/completions',
      method: 'POST',
      bodies: () => ({ model: 'up', messages: [{ role: 'user', content: sentence() }] }),
      embeds: true,
    },
    {
      name: 'predict',
      share: 0.1,
      path: '/v1/predict',
      method: 'POST',
      bodies: (i) => ({ text: sentence(), entity: entity(i), learn: true }),
    },
    {
      name: 'phi',
      share: 0.05,
      path: '/v1/phi',
      method: 'POST',
      bodies: () => ({ tpm: BASIC_NETWORK.tpm, cm: BASIC_NETWORK.cm, state: BASIC_NETWORK.state }),
    },
    { name: 'cached GET', share: 0.15, path: '/v1/memories?limit=10', method: 'GET', cached: true },
  ];
}

/** Bodies per generator: enough that a long run repeats each only a few times. */
const BODIES = 4000;

function loadOptions(kind: Kind, base: string, token: string, rate: number, durationMs: number): LoadOptions {
  const o: LoadOptions = {
    url: `${base}${kind.path}`,
    method: kind.method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    rate: rate * kind.share,
    connections: 32,
    durationMs,
    warmupMs: 0,
  };
  if (kind.bodies !== undefined) {
    const make = kind.bodies;
    o.bodies = Array.from({ length: BODIES }, (_, i) => JSON.stringify(make(i)));
  }
  return o;
}

/**
 * Sends each kind of request once, in turn, before the load starts: what the service loads on first
 * use (the tokenizer, the embedder's vectors, the worker threads) would otherwise hold its event
 * loop while 150 requests a second arrive, and the load shedder would refuse some of them — a cold
 * start, not what a soak is about. A refusal here means the run is misconfigured: it stops.
 */
async function prime(mix: readonly Kind[], options: readonly LoadOptions[]): Promise<void> {
  for (const [i, o] of options.entries()) {
    const body = o.bodies?.[0];
    const res = await fetch(o.url, {
      method: o.method ?? 'GET',
      headers: o.headers ?? {},
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    if (res.status >= 300) {
      throw new Error(
        `${(mix[i] as Kind).name}: the first request answered ${res.status} ${text.slice(0, 300)}`,
      );
    }
  }
}

// ---- sampling -------------------------------------------------------------------------------------

/** The values of one metric from the Prometheus text, by the value of one label ('' for none). */
function metric(text: string, name: string, label?: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    let key = '';
    if (label !== undefined) {
      const l = new RegExp(`${label}="([^"]*)"`).exec(m[1] ?? '');
      if (l === null) continue;
      key = l[1] as string;
    }
    out.set(key, Number(m[2]));
  }
  return out;
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

class Sampler {
  readonly samples: SoakSample[] = [];
  readonly mailboxes: Record<string, MailboxSeries> = {};
  /** The last scrape, for the cache and totals at the end. */
  lastMetrics = '';

  constructor(
    private readonly service: ServiceProcess,
    private readonly t0: number,
  ) {}

  async sample(): Promise<SoakSample> {
    const tMin = (performance.now() - this.t0) / 60_000;
    const res = await fetch(`${this.service.base}/metrics`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    this.lastMetrics = text;
    const depths = metric(text, 'jamey_actor_mailbox_depth', 'actor');
    const capacities = metric(text, 'jamey_actor_mailbox_capacity', 'actor');
    const index = this.samples.length;
    for (const [actor, depth] of depths) {
      this.mailboxes[actor] ??= { capacity: capacities.get(actor) ?? 0, depths: [] };
      const series = this.mailboxes[actor];
      // An actor first seen late counts as empty before.
      while (series.depths.length < index) series.depths.push(0);
      series.depths.push(depth);
    }
    const mb = (name: string) => Number(((metric(text, name).get('') ?? 0) / MB).toFixed(2));
    const s: SoakSample = {
      tMin: Number(tMin.toFixed(3)),
      rssMB: mb('process_resident_memory_bytes'),
      // Until the first full collection, the heap in use now (garbage included).
      heapMB: this.service.gc.liveMB ?? mb('nodejs_heap_size_used_bytes'),
      fds: metric(text, 'process_open_fds').get('') ?? 0,
      mailboxMax: Math.max(0, ...depths.values()),
      memories: sum(metric(text, 'jamey_memory_items', 'layer')),
      externalMB: mb('nodejs_external_memory_bytes'),
    };
    this.samples.push(s);
    return s;
  }
}

// ---- the run --------------------------------------------------------------------------------------

interface KindResult extends LoadResult {
  rate: number;
}

function summary(args: SoakArgs, judged: SoakJudgement, load: Record<string, KindResult>): string {
  const s = judged.slopes;
  const requests = Object.values(load).reduce((a, r) => a + r.requests, 0);
  const lines = [
    `soak: ${args.minutes} min at ${args.rate} req/s offered (${requests} requests), warm-up ${args.warmupMinutes} min`,
    `  RSS ${s.rssMBPerMin} MB/min, heap ${s.heapMBPerMin} MB/min (after full collections), fds ${s.fdsPerMin}/min, ` +
      `memories +${s.memoriesPerMin}/min`,
  ];
  for (const [name, r] of Object.entries(load)) {
    lines.push(
      `  ${name.padEnd(18)} ${r.rps.toFixed(1)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
        `statuses ${JSON.stringify(r.statuses)}${r.errors > 0 ? `, ${r.errors} errors` : ''}`,
    );
  }
  lines.push(
    judged.verdict.ok ? 'verdict: ok' : `verdict: NOT ok\n  - ${judged.verdict.reasons.join('\n  - ')}`,
  );
  return lines.join('\n');
}

/** What the load and the sampling saw. */
interface Run {
  /** When the load started (`performance.now()`). */
  t0: number;
  sampler: Sampler;
  /** Per kind of request, by name. */
  load: Record<string, KindResult>;
  /** The heap after each full collection during the load. */
  heap: HeapPoint[];
  /** Failures of the service itself (it died, or did not stop cleanly). */
  failures: string[];
}

/** Runs the generators for the whole run and samples the service every interval meanwhile. */
async function runLoad(
  args: SoakArgs,
  service: ServiceProcess,
  mix: readonly Kind[],
  token: string,
  signal: AbortSignal,
): Promise<Run> {
  const durationMs = args.minutes * 60_000;
  const options = mix.map((k) => loadOptions(k, service.base, token, args.rate, durationMs));
  await prime(mix, options);
  const t0 = performance.now();
  const runs = options.map((o) => drive(o, { signal }));
  generatorRuns.push(...runs);
  const sampler = new Sampler(service, t0);
  const failures: string[] = [];
  let warmedUp = false;
  const intervalMs = args.intervalSeconds * 1000;
  for (let next = intervalMs; next <= durationMs; next += intervalMs) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + next - performance.now())));
    if (service.child.exitCode !== null) {
      failures.push(`the service exited with ${service.child.exitCode} during the run`);
      break;
    }
    await sampler.sample();
    if (!warmedUp && next >= args.warmupMinutes * 60_000) {
      warmedUp = true;
      await snapshot(service, args.snapshots, 'after-warmup');
    }
  }
  const results = await Promise.all(runs);
  if (service.child.exitCode === null) await snapshot(service, args.snapshots, 'end');
  const load: Record<string, KindResult> = {};
  mix.forEach((k, i) => {
    load[k.name] = { rate: args.rate * k.share, ...(results[i] as LoadResult) };
  });
  const heap = service.gc.major
    .filter((c) => c.at >= t0)
    .map((c) => ({ tMin: Number(((c.at - t0) / 60_000).toFixed(3)), heapMB: c.afterMB }));
  return { t0, sampler, load, heap, failures };
}

/** The results file: the shape the report generator reads, and what explains it. */
function report(args: SoakArgs, p: SoakPolicy, run: Run, service: ServiceProcess, judged: SoakJudgement) {
  const text = run.sampler.lastMetrics;
  const byLabel = (name: string, label: string) => Object.fromEntries(metric(text, name, label));
  return {
    machine: machine(),
    minutes: args.minutes,
    warmupMinutes: args.warmupMinutes,
    rate: args.rate,
    intervalSeconds: args.intervalSeconds,
    policy: p,
    samples: run.sampler.samples,
    slopes: judged.slopes,
    mailboxes: judged.mailboxes,
    statuses: Object.fromEntries(Object.entries(run.load).map(([k, r]) => [k, r.statuses])),
    load: run.load,
    heapAfterFullCollections: run.heap,
    memoriesByLayer: byLabel('jamey_memory_items', 'layer'),
    cache: {
      hits: byLabel('jamey_cache_hits_total', 'tier'),
      misses: byLabel('jamey_cache_misses_total', 'tier'),
      size: byLabel('jamey_cache_size', 'tier'),
    },
    refusals: byLabel('jamey_security_refusals_total', 'reason'),
    serviceLog: service.logged,
    thresholds: DEFAULT_THRESHOLDS,
    verdict: judged.verdict,
  };
}

/** Stops the load generators when this process is interrupted. */
const generators = new AbortController();
const generatorRuns: Promise<unknown>[] = [];

async function soak(args: SoakArgs): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'jamey-soak-'));
  const upstream = await startUpstream();
  let service: ServiceProcess | undefined;
  // No child may outlive this process, however it ends (an interrupted 30-minute run would leave
  // its generators sending to a closed port for the rest of the half hour).
  process.once('exit', () => {
    upstream.child.kill('SIGKILL');
    service?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const mix = kinds();
    const servicePolicy = policy(args.warmupMinutes, args.rate, mix);
    service = await startService(dir, upstream.url, servicePolicy, args.snapshots !== undefined);
    const token = await createKey(service.base, service.adminKey);
    const run = await runLoad(args, service, mix, token, generators.signal);
    const judged = judgeSoak({
      samples: run.sampler.samples,
      warmupMinutes: args.warmupMinutes,
      heap: run.heap,
      mailboxes: run.sampler.mailboxes,
      load: run.load,
    });
    service.inspector?.close();
    const exitCode = await stopService(service.child);
    if (exitCode !== 0) run.failures.push(`the service stopped with exit code ${exitCode} after SIGTERM`);
    if (service.logged.error > 0) run.failures.push(`the service logged ${service.logged.error} errors`);
    judged.verdict.reasons.push(...run.failures);
    judged.verdict.ok = judged.verdict.reasons.length === 0;
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(
      args.out,
      `${JSON.stringify(report(args, servicePolicy, run, service, judged), null, 2)}\n`,
    );
    process.stderr.write(`${summary(args, judged, run.load)}\n  → ${args.out}\n`);
    return judged.verdict.ok;
  } finally {
    if (service !== undefined && service.child.exitCode === null) await stopService(service.child);
    upstream.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** With `--snapshots DIR`: a heap snapshot of the service (it pauses the service for seconds). */
async function snapshot(service: ServiceProcess, dir: string | undefined, name: string): Promise<void> {
  if (dir === undefined || service.inspector === undefined) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${name}.heapsnapshot`);
  await service.inspector.heapSnapshot(file);
  process.stderr.write(`soak: heap snapshot ${file}\n`);
}

let args: SoakArgs;
try {
  args = soakArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
}
/** Interrupted: the generators are stopped (and their option files removed) before this process ends. */
function interrupted(): void {
  generators.abort();
  setTimeout(() => process.exit(130), 5000).unref();
  void Promise.allSettled(generatorRuns).then(() => process.exit(130));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, interrupted);
soak(args).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
