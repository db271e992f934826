/**
 * Checks of the deployment files in deploy/: Prometheus scrape config and alert rules, Alertmanager
 * routing, Grafana provisioning and dashboards, systemd unit. Every metric they query must be one
 * Jamey (or Node.js, or Prometheus itself) exports: test/fixtures/deploy/metrics.txt.
 * No YAML library is used: the YAML files get a minimal structural check here, and promtool/amtool
 * check them fully when they are on PATH (the subtests are skipped otherwise).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deploy = join(root, 'deploy');
const read = (rel: string): string => readFileSync(join(deploy, rel), 'utf8');

const allowed = new Set(
  readFileSync(join(root, 'test/fixtures/deploy/metrics.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names an expression selects (functions, keywords, labels, strings and ranges removed). */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of s.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const name = m[1] as string;
    if (m[2] !== undefined || PROMQL_WORDS.has(name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

/** True if `name` is allowed, directly or as a histogram's _bucket/_count/_sum series. */
function isAllowed(name: string): boolean {
  if (allowed.has(name)) return true;
  const base = name.replace(/_(?:bucket|count|sum)$/, '');
  return base !== name && allowed.has(base);
}

function assertKnownMetrics(where: string, expr: string): void {
  const names = metricNames(expr);
  assert.ok(names.length > 0, `${where}: no metric found in ${expr}`);
  for (const n of names) assert.ok(isAllowed(n), `${where}: unknown metric ${n} in ${expr}`);
}

/**
 * Minimal YAML structure check (no YAML library): no tabs, even indentation, and every line a
 * comment, a `key: value`, a `key:`, a `- item`, or a line of a block scalar (`key: >-` / `|`).
 */
function checkYaml(rel: string): void {
  const lines = read(rel).split('\n');
  let blockIndent = -1;
  lines.forEach((line, i) => {
    const where = `${rel}:${i + 1}`;
    assert.ok(!line.includes('\t'), `${where}: tab`);
    assert.ok(!/\s$/.test(line), `${where}: trailing space`);
    if (line.trim() === '') return;
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (indent > blockIndent) return;
      blockIndent = -1;
    }
    if (line.trimStart().startsWith('#')) return;
    assert.equal(indent % 2, 0, `${where}: odd indentation`);
    const m = /^ *(?:- )*(?:([A-Za-z_][\w.-]*|"[^"]*"):(?: (.*))?|- .+)$/.exec(line);
    assert.ok(m, `${where}: not a YAML key, item or comment: ${line}`);
    const value = m[2]?.trim() ?? '';
    if (/^[>|][-+]?$/.test(value)) blockIndent = indent;
    if (value.startsWith('"')) assert.match(value, /^"(?:[^"\\]|\\.)*"$/, `${where}: unbalanced quotes`);
  });
}

/** Scalar value of `key:` in a YAML block, inline or folded (`>-`), as one line. */
function yamlValue(block: string, key: string): string | undefined {
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^( *)(?:- )?${key}: ?(.*)$`).exec(lines[i] as string);
    if (!m) continue;
    const indent = (m[1] as string).length;
    const v = (m[2] as string).trim();
    if (!/^[>|][-+]?$/.test(v)) return v.replace(/^"(.*)"$/, '$1');
    const body: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j] as string;
      if (l.trim() !== '' && l.length - l.trimStart().length <= indent) break;
      body.push(l.trim());
    }
    return body.join(' ').trim();
  }
  return undefined;
}

interface Rule {
  alert: string;
  block: string;
}

function alertRules(): Rule[] {
  const text = read('prometheus/alerts.yml');
  const parts = text.split(/^(?= *- alert: )/m).slice(1);
  return parts.map((block) => ({ alert: yamlValue(block, 'alert') ?? '', block }));
}

test('the metric extractor finds metric names and nothing else', () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.99, sum by (le, route) (rate(jamey_http_request_duration_seconds_bucket{status=~"5.."}[$__rate_interval]))) > 0.5',
    ),
    ['jamey_http_request_duration_seconds_bucket'],
  );
  assert.deepEqual(
    metricNames(
      'system_memory_bytes{kind="used"} / ignoring(kind) system_memory_bytes{kind="total"} > 1e9 or up',
    ),
    ['system_memory_bytes', 'system_memory_bytes', 'up'],
  );
  assert.ok(isAllowed('jamey_store_batch_size_count'));
  assert.ok(!isAllowed('jamey_llm_failures_total'));
  assert.ok(!isAllowed('jamey_phi_total_count'));
});

test('every jamey_* and system_* metric the deploy files may use is a row of docs/metrics.md', () => {
  const doc = readFileSync(join(root, 'docs/metrics.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]));
  const own = [...allowed].filter((n) => /^(?:jamey|system)_/.test(n));
  assert.ok(own.length > 0);
  const missing = own.filter((n) => !documented.has(n));
  assert.deepEqual(missing, [], `not in docs/metrics.md: ${missing.join(', ')}`);
});

test('every runbook of alerts.yml points at a section of docs/operations.md', () => {
  const ops = readFileSync(join(root, 'docs/operations.md'), 'utf8');
  const anchors = new Set([...ops.matchAll(/^#{2,4} (\S+)$/gm)].map((m) => m[1]));
  for (const { alert, block } of alertRules()) {
    const anchor = /^docs\/operations\.md#([a-z0-9-]+)/.exec(yamlValue(block, 'runbook') ?? '')?.[1];
    assert.ok(anchor && anchors.has(anchor), `${alert}: runbook section ${anchor} in docs/operations.md`);
  }
});

test('every YAML file of deploy/ passes the minimal structure check', () => {
  for (const rel of [
    'prometheus/prometheus.yml',
    'prometheus/alerts.yml',
    'prometheus/alerts.test.yml',
    'alertmanager/alertmanager.yml',
    'grafana/provisioning/datasources/prometheus.yml',
    'grafana/provisioning/dashboards/jamey.yml',
  ])
    checkYaml(rel);
});

test('prometheus.yml scrapes Jamey every 15 s, loads alerts.yml and sends to Alertmanager', () => {
  const text = read('prometheus/prometheus.yml');
  assert.match(text, /^ {2}- job_name: jamey$/m);
  assert.match(text, /^ {4}metrics_path: \/metrics$/m);
  assert.match(text, /^ {4}scrape_interval: 15s$/m);
  assert.match(text, /^ {10}- 127\.0\.0\.1:8080$/m);
  assert.match(text, /^rule_files:\n {2}- alerts\.yml$/m);
  assert.match(text, /^ {12}- 127\.0\.0\.1:9093$/m);
});

const EXPECTED_ALERTS = {
  'jamey-resource-constraints': ['HighMemoryUsage', 'LowDiskSpace', 'HighCpuUsage'],
  'jamey-performance-degradation': [
    'HighRequestLatencyP99',
    'MailboxSaturation',
    'PoolQueueBacklog',
    'EventLoopLag',
    'RuntimeNotReady',
    'ActorRestarting',
    'LLMLatencyP99High',
  ],
  'jamey-error-rates': [
    'High5xxRatio',
    'CacheL3WriteFailures',
    'AuditWriteFailures',
    'DeadLetters',
    'LLMFailureRatioHigh',
    'LLMFailureRatioCritical',
    'LLMCircuitBreakerOpen',
    'WorkspaceSubscriberDrops',
  ],
  'jamey-security-incidents': ['AuthFailureSpike', 'RateLimitSpike', 'BansActive', 'LoadShedding'],
  'jamey-usage-anomalies': ['LLMSpendRateHigh', 'ConscienceBlockSpike'],
};

test('alerts.yml has the five rule groups with the expected alerts', () => {
  const text = read('prometheus/alerts.yml');
  const groups = text.split(/^(?= {2}- name: )/m).slice(1);
  const found: Record<string, string[]> = {};
  for (const g of groups) {
    const name = yamlValue(g.split('\n')[0] as string, 'name') ?? '';
    found[name] = [...g.matchAll(/^ *- alert: (\S+)$/gm)].map((m) => m[1] as string);
  }
  assert.deepEqual(found, EXPECTED_ALERTS);
  assert.doesNotMatch(text, /do not exist yet|arrive (?:later|with)/);
});

test('every alert rule has an expression on known metrics, a severity, a summary and a runbook', () => {
  const rules = alertRules();
  assert.equal(rules.length, Object.values(EXPECTED_ALERTS).flat().length);
  for (const { alert, block } of rules) {
    const expr = yamlValue(block, 'expr');
    assert.ok(expr, `${alert}: expr`);
    assertKnownMetrics(alert, expr);
    assert.match(yamlValue(block, 'severity') ?? '', /^(?:info|warning|critical)$/, `${alert}: severity`);
    assert.ok((yamlValue(block, 'summary') ?? '').length > 10, `${alert}: summary`);
    assert.match(
      yamlValue(block, 'runbook') ?? '',
      /^docs\/operations\.md#[a-z0-9-]+ — \S/,
      `${alert}: runbook`,
    );
    const forValue = yamlValue(block, 'for');
    if (forValue !== undefined) assert.match(forValue, /^\d+[smh]$/, `${alert}: for`);
  }
});

test('alerts.test.yml exercises the key alerts', () => {
  const text = read('prometheus/alerts.test.yml');
  const key = ['HighMemoryUsage', 'RuntimeNotReady', 'MailboxSaturation', 'AuthFailureSpike'];
  const llmAndCognition = [
    'LLMFailureRatioHigh',
    'LLMFailureRatioCritical',
    'LLMCircuitBreakerOpen',
    'LLMLatencyP99High',
    'LLMSpendRateHigh',
    'ConscienceBlockSpike',
    'WorkspaceSubscriberDrops',
  ];
  for (const alert of [...key, ...llmAndCognition])
    assert.match(text, new RegExp(`alertname: ${alert}\\n {8}exp_alerts:\\n {10}- exp_labels:`), alert);
  for (const alert of llmAndCognition)
    assert.match(text, new RegExp(`alertname: ${alert}\\n {8}exp_alerts: \\[\\]`), `${alert} not firing`);
});

test('alertmanager.yml routes critical to pager, warning to team, info to null, grouped by alertname', () => {
  const text = read('alertmanager/alertmanager.yml');
  assert.match(text, /^ {2}group_by: \[alertname\]$/m);
  const routes = new Map<string, string>();
  for (const m of text.matchAll(/- matchers:\n\s+- severity="(\w+)"\n\s+receiver: "?(\w+)"?/g))
    routes.set(m[1] as string, m[2] as string);
  assert.deepEqual(Object.fromEntries(routes), { critical: 'pager', warning: 'team', info: 'null' });
  const receivers = [...text.matchAll(/^ {2}- name: "?(\w+)"?$/gm)].map((m) => m[1]);
  assert.deepEqual(receivers, ['pager', 'team', 'null']);
  const urls = [...text.matchAll(/url: (\S+)/g)].map((m) => m[1] as string);
  assert.equal(urls.length, 2);
  for (const url of urls) assert.equal(new URL(url).hostname, '127.0.0.1');
  for (const m of text.matchAll(/repeat_interval: (\S+)/g)) assert.match(m[1] as string, /^\d+[mh]$/);
});

const DATASOURCE_UID = 'jamey-prometheus';

test('Grafana provisioning: the Prometheus datasource and the file provider of the dashboards', () => {
  const ds = read('grafana/provisioning/datasources/prometheus.yml');
  assert.match(ds, /^apiVersion: 1$/m);
  assert.equal(yamlValue(ds, 'type'), 'prometheus');
  assert.equal(yamlValue(ds, 'uid'), DATASOURCE_UID);
  assert.equal(new URL(yamlValue(ds, 'url') ?? '').hostname, '127.0.0.1');
  const dash = read('grafana/provisioning/dashboards/jamey.yml');
  assert.match(dash, /^apiVersion: 1$/m);
  assert.equal(yamlValue(dash, 'type'), 'file');
  assert.equal(yamlValue(dash, 'path'), '/var/lib/grafana/dashboards/jamey');
});

interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[];
  options?: { content?: string };
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
}

const DASHBOARDS = ['business', 'consciousness', 'errors', 'performance', 'resources', 'system-overview'];

function dashboards(): Map<string, Dashboard> {
  const dir = join(deploy, 'grafana/dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  return new Map(
    files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard]),
  );
}

function exprsOf(d: Dashboard): string[] {
  return (d.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
}

test('every dashboard is valid JSON with a uid, a title and panels querying known metrics', () => {
  const all = dashboards();
  assert.deepEqual([...all.keys()].sort(), DASHBOARDS);
  const uids = new Set<string>();
  for (const [name, d] of all) {
    assert.match(d.uid ?? '', /^[\w-]{1,40}$/, `${name}: uid`);
    assert.ok(!uids.has(d.uid as string), `${name}: uid unique`);
    uids.add(d.uid as string);
    assert.ok((d.title ?? '').length > 0, `${name}: title`);
    assert.ok((d.schemaVersion ?? 0) >= 36, `${name}: schemaVersion`);
    const panels = d.panels ?? [];
    assert.ok(panels.length > 0, `${name}: panels`);
    const ids = new Set<number>();
    for (const p of panels) {
      const where = `${name}/${p.title}`;
      assert.ok(typeof p.id === 'number' && !ids.has(p.id), `${where}: unique id`);
      ids.add(p.id as number);
      assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24 && p.gridPos.h > 0, `${where}: gridPos`);
      assert.ok(['timeseries', 'stat', 'text'].includes(p.type ?? ''), `${where}: type ${p.type}`);
      if (p.type === 'text') {
        assert.ok((p.options?.content ?? '').length > 0, `${where}: content`);
        continue;
      }
      assert.equal(p.datasource?.uid, DATASOURCE_UID, `${where}: datasource`);
      const targets = p.targets ?? [];
      assert.ok(targets.length > 0, `${where}: targets`);
      for (const t of targets) {
        assert.ok(t.refId, `${where}: refId`);
        assertKnownMetrics(where, t.expr ?? '');
      }
    }
  }
});

test('the errors, business and consciousness dashboards show LLM, cost, predictive, workspace and conscience metrics', () => {
  const all = dashboards();
  const expected: Record<string, string[]> = {
    errors: ['jamey_llm_requests_total{outcome="failed"}', 'jamey_llm_breaker_state'],
    business: [
      'jamey_memory_items',
      'jamey_cache_hits_total',
      'jamey_store_batch_size_count',
      'jamey_llm_tokens_total',
      'jamey_llm_cost_usd_total',
      'jamey_http_request_duration_seconds_count{route="/v1/chat/completions"}',
    ],
    consciousness: [
      'jamey_phi',
      'jamey_phi_compute_seconds_bucket',
      'jamey_predictive_surprise_bucket',
      'jamey_predictive_bits_per_char',
      'jamey_workspace_broadcasts_total',
      'jamey_workspace_candidates',
      'jamey_workspace_ignition_failures_total',
      'jamey_conscience_verdicts_total',
    ],
  };
  for (const [name, metrics] of Object.entries(expected)) {
    const exprs = exprsOf(all.get(name) as Dashboard).join('\n');
    for (const m of metrics) assert.ok(exprs.includes(m), `${name}: ${m}`);
  }
  for (const [name, d] of all)
    for (const p of d.panels ?? [])
      assert.doesNotMatch(
        p.options?.content ?? '',
        /do not exist yet|arrive (?:later|with)/,
        `${name}/${p.title}`,
      );
});

test('dashboard panels do not overlap', () => {
  for (const [name, d] of dashboards()) {
    const taken = new Map<string, string>();
    for (const p of d.panels ?? []) {
      const g = p.gridPos as { x: number; y: number; w: number; h: number };
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          assert.ok(!taken.has(cell), `${name}: ${p.title} overlaps ${taken.get(cell)} at ${cell}`);
          taken.set(cell, p.title ?? '');
        }
    }
  }
});

test('the systemd unit runs Jamey as its own user with a data dir, restarts and hardening', () => {
  const unit = readFileSync(join(deploy, 'systemd/jamey.service'), 'utf8');
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [i, raw] of unit.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    assert.ok(kv && current, `jamey.service:${i + 1}: ${line}`);
    const values = current.get(kv[1] as string) ?? [];
    values.push(kv[2] as string);
    current.set(kv[1] as string, values);
  }
  assert.deepEqual([...sections.keys()], ['Unit', 'Service', 'Install']);
  const service = sections.get('Service') as Map<string, string[]>;
  const one = (k: string) => service.get(k)?.at(-1);
  assert.match(one('ExecStart') ?? '', /^\/\S*node \/opt\/jamey\/dist\/src\/main\.js$/);
  assert.ok(service.get('Environment')?.includes('JAMEY_DATA_DIR=/var/lib/jamey'));
  const expected: Record<string, string> = {
    User: 'jamey',
    Restart: 'on-failure',
    KillSignal: 'SIGTERM',
    TimeoutStopSec: '30',
    NoNewPrivileges: 'true',
    ProtectSystem: 'strict',
    ReadWritePaths: '/var/lib/jamey',
  };
  for (const [k, v] of Object.entries(expected)) assert.equal(one(k), v, k);
  assert.equal(sections.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
});

/** Runs a tool from the repository root; undefined when it is not on PATH. */
function run(tool: string, args: string[]): { status: number | null; output: string } | undefined {
  const r = spawnSync(tool, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  return { status: r.status, output: `${r.stdout}${r.stderr}${r.error ?? ''}` };
}
const hasTool = (tool: string) => run(tool, ['--version']) !== undefined;

test('promtool accepts the config, the rules, the rule unit tests and every dashboard query', (t) => {
  if (!hasTool('promtool')) {
    t.skip('promtool not installed');
    return;
  }
  const checks: string[][] = [
    ['check', 'config', 'deploy/prometheus/prometheus.yml'],
    ['check', 'rules', 'deploy/prometheus/alerts.yml'],
    ['test', 'rules', 'deploy/prometheus/alerts.test.yml'],
  ];
  for (const args of checks) {
    const r = run('promtool', args);
    assert.equal(r?.status, 0, `promtool ${args.join(' ')}:\n${r?.output}`);
  }
  // Dashboard queries as recording rules, so promtool parses them ($__rate_interval as 1m).
  const exprs = [...dashboards().values()].flatMap(exprsOf);
  const rules = exprs
    .map(
      (e, i) =>
        `      - record: dashboard_query_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m'))}\n`,
    )
    .join('');
  const dir = mkdtempSync(join(tmpdir(), 'jamey-deploy-'));
  try {
    const file = join(dir, 'dashboards.rules.yml');
    writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules}`);
    const r = run('promtool', ['check', 'rules', file]);
    assert.equal(r?.status, 0, `promtool check rules (dashboard queries):\n${r?.output}`);
    assert.match(r?.output ?? '', new RegExp(`SUCCESS: ${exprs.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('amtool accepts the Alertmanager config', (t) => {
  if (!hasTool('amtool')) {
    t.skip('amtool not installed');
    return;
  }
  const r = run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml']);
  assert.equal(r?.status, 0, `amtool check-config:\n${r?.output}`);
});
