/**
 * A closed-loop HTTP load generator, run as its own process so that it does not share the event
 * loop (or the core) with the server under test. `connections` clients each keep one request in
 * flight over a keep-alive connection (undici Pool) for `durationMs`; latencies go into a
 * perf_hooks histogram. Prints one JSON line: requests/s, p50/p99/max latency in ms, status counts.
 *
 * With `rate` set it is open-loop instead: requests start at that many per second whatever the
 * answers do (up to `connections` in flight; a request that finds none free is counted in
 * `dropped`), and each latency is measured from the moment the request was due, so a stall shows
 * in the percentiles instead of slowing the offered load (no coordinated omission; Tene,
 * "How NOT to measure latency").
 *
 * usage: node generator.js '<json options>' | @<file with the json options>
 *   { url, method?, headers?, body?, connections?, durationMs?, warmupMs?, rate? }
 */
import { readFileSync } from 'node:fs';
import { createHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Bodies used in turn, one per request (instead of `body`): varied requests. */
  bodies?: string[];
  connections?: number;
  durationMs?: number;
  warmupMs?: number;
  /** Requests per second, open-loop; omitted for closed-loop. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  /** Open-loop only: requests not sent because every connection was busy. */
  dropped?: number;
}

let bodiesSent = 0;
/** The next request's body: `bodies` in turn, else `body`. */
function bodyOf(o: LoadOptions): { body?: string } {
  if (o.bodies !== undefined && o.bodies.length > 0)
    return { body: o.bodies[bodiesSent++ % o.bodies.length] as string };
  return o.body === undefined ? {} : { body: o.body };
}

/** One request as the options describe it; resolves to its status once the body is read. */
async function send(pool: Pool, path: string, o: LoadOptions): Promise<number> {
  const res = await pool.request({ path, method: o.method ?? 'GET', headers: o.headers ?? {}, ...bodyOf(o) });
  await res.body.dump();
  return res.statusCode;
}

/** What one measured phase saw: latencies, statuses, errors. */
class Recorder {
  readonly histogram = createHistogram();
  readonly statuses: Record<string, number> = {};
  requests = 0;
  errors = 0;

  ok(status: number, latencyNs: number): void {
    this.histogram.record(Math.max(1, Math.round(latencyNs)));
    this.requests++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  result(elapsedMs: number, dropped?: number): LoadResult {
    return {
      requests: this.requests,
      rps: (this.requests / elapsedMs) * 1000,
      p50: this.histogram.percentile(50) / 1e6,
      p99: this.histogram.percentile(99) / 1e6,
      max: this.histogram.max / 1e6,
      statuses: this.statuses,
      errors: this.errors,
      ...(dropped === undefined ? {} : { dropped }),
    };
  }
}

async function runOpen(o: LoadOptions & { rate: number }): Promise<LoadResult> {
  const url = new URL(o.url);
  const connections = o.connections ?? 256;
  const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const seen = new Recorder();
  const path = url.pathname + url.search;
  let dropped = 0;
  let inFlight = 0;
  const warmupMs = o.warmupMs ?? 500;
  const durationMs = o.durationMs ?? 3000;
  const pending: Promise<void>[] = [];
  const one = async (due: number, measured: boolean): Promise<void> => {
    inFlight++;
    try {
      const status = await send(pool, path, o);
      if (measured) seen.ok(status, (performance.now() - due) * 1e6);
    } catch {
      if (measured) seen.errors++;
    } finally {
      inFlight--;
    }
  };
  const start = performance.now();
  const interval = 1000 / o.rate;
  let sent = 0;
  for (;;) {
    const now = performance.now();
    if (now - start >= warmupMs + durationMs) break;
    // Every request that has fallen due by now, each stamped with its own due time.
    while (start + sent * interval <= now) {
      const due = start + sent * interval;
      const measured = due - start >= warmupMs;
      sent++;
      if (inFlight >= connections) {
        if (measured) dropped++;
        continue;
      }
      const p = one(due, measured);
      if (pending.length < 100_000) pending.push(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  await pool.close();
  return seen.result(durationMs, dropped);
}

async function run(o: LoadOptions): Promise<LoadResult> {
  if (o.rate !== undefined) return runOpen(o as LoadOptions & { rate: number });
  const url = new URL(o.url);
  const connections = o.connections ?? 32;
  const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const seen = new Recorder();
  let measuring = false;
  let stop = false;
  const path = url.pathname + url.search;
  const client = async (): Promise<void> => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        const status = await send(pool, path, o);
        if (measuring) seen.ok(status, Number(process.hrtime.bigint() - t0));
      } catch {
        if (measuring) seen.errors++;
      }
    }
  };
  const clients = Array.from({ length: connections }, () => client());
  await new Promise((r) => setTimeout(r, o.warmupMs ?? 500));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs ?? 3000));
  measuring = false;
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(clients);
  await pool.close();
  return seen.result(elapsed);
}

const arg = process.argv[2];
if (arg !== undefined) {
  // "@file" names a JSON file (for options too large for an argument); otherwise the JSON itself.
  run(JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadOptions)
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`generator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
