import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import {
  parseDiskstats,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  ResourceMonitor,
} from '../src/actors/monitor/monitor.js';
import { type Service, startService } from './fixtures/service.js';

let service: Service;
before(async () => {
  service = await startService();
});
after(() => service.close());

const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');

test('docs/metrics.md lists exactly the jamey_* and system_* metrics the service registers, with type and labels', async () => {
  // Exercise a route so that the request histogram has a series with its labels.
  await (await request(`${service.base}/healthz`)).body.dump();
  const text = await (await request(`${service.base}/metrics`)).body.text();
  const types = new Map(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  const ours = [...types.keys()].filter((n) => n.startsWith('jamey_') || n.startsWith('system_')).sort();
  const rows = new Map(
    [...doc.matchAll(/^\| `([^`]+)` \| (\w+) \| ([^|]*) \|/gm)].map((m) => [
      m[1] as string,
      { type: m[2], labels: (m[3] as string).trim() },
    ]),
  );
  assert.deepEqual([...rows.keys()].sort(), ours, 'the catalogue and the registry name the same metrics');
  for (const name of ours) assert.equal(rows.get(name)?.type, types.get(name), `${name} type`);
  // Labels seen on samples must be the documented ones, and never unbounded kinds of values.
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\}/gm)) {
    const name = (m[1] as string).replace(/_(bucket|count|sum)$/, '');
    const row = rows.get(name);
    if (row === undefined) continue;
    const labels = [...(m[2] as string).matchAll(/(\w+)="/g)].map((l) => l[1]).filter((l) => l !== 'le');
    for (const l of labels) {
      assert.ok(row.labels.split(', ').includes(l as string), `${name} has undocumented label ${l}`);
      assert.ok(
        !/^(id|key|path|url|ip|user|token)$/.test(l as string),
        `${name} label ${l} would be unbounded`,
      );
    }
  }
  assert.match(
    text,
    /^jamey_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} \d+/m,
  );
  assert.match(text, /^system_memory_bytes\{kind="total"\} [1-9]/m);
  assert.match(text, /^system_disk_free_bytes [1-9]/m);
});

test('the monitor reads /proc the way the kernel writes it', () => {
  assert.deepEqual(
    parseMeminfo('MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n'),
    {
      total: 16_000_000 * 1024,
      available: 8_000_000 * 1024,
    },
  );
  assert.deepEqual(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n'), { busy: 150, total: 1000 });
  const net =
    'Inter-|   Receive\n face |bytes\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n';
  assert.deepEqual(parseNetDev(net), { receive: 1000, transmit: 2000 });
  const disks =
    '   8       0 sda 10 0 100 0 20 0 300 0 0 0 0\n   8       1 sda1 5 0 50 0 10 0 150 0 0 0 0\n   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0\n';
  assert.deepEqual(
    parseDiskstats(disks, (n) => n === 'sda'),
    { read: 100 * 512, write: 300 * 512 },
  );
});

test('a sample of this machine is plausible', async () => {
  const monitor = new ResourceMonitor('.');
  monitor.sample(0);
  await new Promise((r) => setTimeout(r, 50));
  const s = monitor.sample(50);
  assert.ok(s.memory.total > 0 && s.memory.used > 0 && s.memory.used <= s.memory.total);
  assert.ok(s.disk.total > 0 && s.disk.free <= s.disk.total);
  assert.ok(s.cpu >= 0 && s.cpu <= 1);
  assert.ok(s.eventLoopUtilization >= 0 && s.eventLoopUtilization <= 1);
});
