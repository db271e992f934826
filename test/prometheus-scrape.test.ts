import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { request } from 'undici';
import { type Service, startService } from './fixtures/service.js';

function hasPrometheus(): boolean {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let service: Service | undefined;
let prometheus: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'jamey-prometheus-'));
after(async () => {
  prometheus?.kill('SIGTERM');
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a real Prometheus scrapes a running Jamey and a query returns a Jamey series', async (t) => {
  if (!hasPrometheus()) {
    t.skip('prometheus not installed');
    return;
  }
  service = await startService();
  const target = new URL(service.base).host;
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: jamey\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  let value: string | undefined;
  for (let i = 0; i < 60 && value === undefined; i++) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      const res = await request(`http://127.0.0.1:${port}/api/v1/query?query=jamey_runtime_ready`);
      const body = (await res.body.json()) as {
        data?: { result?: Array<{ value: [number, string]; metric: Record<string, string> }> };
      };
      const first = body.data?.result?.[0];
      if (first !== undefined) {
        value = first.value[1];
        assert.equal(first.metric['job'], 'jamey');
      }
    } catch {
      // Prometheus is still starting.
    }
  }
  assert.equal(value, '1', 'Prometheus scraped jamey_runtime_ready = 1');
});
