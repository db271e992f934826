/**
 * Front-end throughput: a cached GET through the whole front end (authentication, rate limit,
 * security headers, L1 response-cache hit) against a bare `node:http` hello-world, both served by
 * this process and driven over loopback by the load generator in a second process, in alternating
 * rounds. Goal: ≥ 60 % of the bare throughput, p99 under 5 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJamey } from '../src/jamey.js';
import { median, type Row } from './lib.js';
import { drive } from './load/drive.js';
import type { LoadResult } from './load/generator.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function frontEnd(time?: number): Promise<Row[]> {
  const durationMs = time ?? 3000;
  const connections = 32;
  const dir = mkdtempSync(join(tmpdir(), 'jamey-bench-http-'));
  const bare = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end('{"data":[],"nextCursor":null}');
  });
  const bareUrl = await listen(bare);
  // All load comes from one address here, so the per-address ceiling (meant for many clients) is
  // raised; the per-key limiter still runs on every request.
  const jamey = createJamey(
    { dataDir: dir, logLevel: 'silent' },
    { security: { preAuthIpLimit: { rps: 1_000_000, burst: 1_000_000 } } },
  );
  await jamey.start();
  const created = await jamey.keys.createKey({
    name: 'bench',
    scopes: ['memory:read'],
    rateLimit: { rps: 1_000_000, burst: 1_000_000 },
  });
  await jamey.memory.store('semantic', 'The bench memory.', { entityId: 'bench' });
  const server = jamey.server();
  const url = `${await listen(server)}/v1/memories?limit=10`;
  const headers = { authorization: `Bearer ${created.token}` };
  const rounds: Array<{ bare: LoadResult; jamey: LoadResult }> = [];
  try {
    for (let r = 0; r < 3; r++) {
      const b = await drive({ url: bareUrl, connections, durationMs });
      const j = await drive({ url, headers, connections, durationMs });
      rounds.push({ bare: b, jamey: j });
    }
  } finally {
    await server.shutdown();
    await jamey.close();
    bare.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = rounds.every((r) => (r.jamey.statuses['200'] ?? 0) === r.jamey.requests && r.jamey.errors === 0);
  const value = median(rounds.map((r) => r.jamey.rps));
  const baseline = median(rounds.map((r) => r.bare.rps));
  const ratio = median(rounds.map((r) => r.jamey.rps / r.bare.rps));
  const p99 = median(rounds.map((r) => r.jamey.p99));
  return [
    {
      suite: 'http',
      name: `cached GET /v1/memories (auth + rate limit + L1 hit), ${connections} connections`,
      value,
      unit: 'req/s',
      baseline,
      baselineName: 'bare node:http hello-world',
      ratio,
      goal: '≥ 0.60 of bare',
      met: ratio >= 0.6 && ok,
    },
    {
      suite: 'http',
      name: 'cached GET p99 latency (ms)',
      value: p99,
      unit: `ms (bare p99 ${median(rounds.map((r) => r.bare.p99)).toFixed(2)} ms)`,
      goal: '< 5 ms',
      met: p99 < 5,
    },
  ];
}
