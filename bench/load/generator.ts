/**
 * A closed-loop HTTP load generator, run as its own process so that it does not share the event
 * loop (or the core) with the server under test. `connections` clients each keep one request in
 * flight over a keep-alive connection (undici Pool) for `durationMs`; latencies go into a
 * perf_hooks histogram. Prints one JSON line: requests/s, p50/p99/max latency in ms, status counts.
 *
 * usage: node generator.js '<json options>'
 *   { url, method?, headers?, body?, connections?, durationMs?, warmupMs? }
 */
import { createHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  durationMs?: number;
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
}

async function run(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const connections = o.connections ?? 32;
  const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const histogram = createHistogram();
  const statuses: Record<string, number> = {};
  let errors = 0;
  let requests = 0;
  let measuring = false;
  let stop = false;
  const path = url.pathname + url.search;
  const client = async (): Promise<void> => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          path,
          method: o.method ?? 'GET',
          headers: o.headers ?? {},
          ...(o.body === undefined ? {} : { body: o.body }),
        });
        await res.body.dump();
        if (measuring) {
          histogram.record(Number(process.hrtime.bigint() - t0) || 1);
          requests++;
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        }
      } catch {
        if (measuring) errors++;
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
  return {
    requests,
    rps: (requests / elapsed) * 1000,
    p50: histogram.percentile(50) / 1e6,
    p99: histogram.percentile(99) / 1e6,
    max: histogram.max / 1e6,
    statuses,
    errors,
  };
}

const arg = process.argv[2];
if (arg !== undefined) {
  run(JSON.parse(arg) as LoadOptions)
    .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`generator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
