import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/store.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const tmp = tempDir('jamey-config-check-');
after(() => tmp.cleanup());

const SECRET = 'sk-test-123';

/** Runs the CLI in the temp folder with only the environment given (plus PATH), as `npm start` would. */
function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: tmp.dir, env: { PATH: process.env['PATH'] ?? '', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

interface Effective {
  configFile: string | null;
  runtime: { port: number; host: string; dataDir: string; logLevel: string; mailbox: { capacity: number } };
  llm: {
    providers: {
      name: string;
      source: string;
      baseUrl?: string;
      apiKey?: { env: string; set: boolean };
      models: { id: string; contextTokens: number; maxOutputTokens: number }[];
    }[];
    chat: { retries: number; defaultMaxTokens: number };
  };
}

const goodFile = {
  providers: [
    {
      name: 'up',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeyEnv: 'UP_KEY',
      models: [{ id: 'up-small', contextTokens: 4096 }],
    },
  ],
  llm: { chat: { retries: 3 } },
};

test('a good file: effective values with the defaults filled in, exit 0', async () => {
  writeFileSync(join(tmp.dir, 'jamey.config.json'), JSON.stringify(goodFile));
  const r = await run(['config', 'check']);
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as Effective;
  assert.equal(e.configFile, join(tmp.dir, 'jamey.config.json'));
  assert.equal(e.runtime.port, 8080);
  assert.equal(e.runtime.host, '127.0.0.1');
  assert.equal(e.runtime.mailbox.capacity, 1000);
  assert.deepEqual(
    e.llm.providers.map((p) => [p.name, p.source, p.models.map((m) => m.id)]),
    [
      ['up', 'config file', ['up-small']],
      ['local', 'built in', ['jamey-local']],
    ],
  );
  // A model's omitted fields come back resolved: min(4096, contextTokens / 4).
  assert.equal(e.llm.providers[0]?.models[0]?.maxOutputTokens, 1024);
  assert.deepEqual(e.llm.providers[0]?.apiKey, { env: 'UP_KEY', set: false });
  assert.match(r.stderr, /warning: .*UP_KEY is not set/);
  assert.equal(e.llm.chat.retries, 3);
  assert.equal(e.llm.chat.defaultMaxTokens, 1024);
});

test('the environment overrides and adds to the file; --config names another file', async () => {
  const other = join(tmp.dir, 'other.json');
  writeFileSync(other, JSON.stringify({ llm: { local: { enabled: false } } }));
  const r = await run(['config', 'check', '--config', other], {
    JAMEY_PORT: '9191',
    JAMEY_LOG_LEVEL: 'warn',
    OLLAMA_HOST: '127.0.0.1:11434',
    JAMEY_OLLAMA_MODELS: 'qwen2.5:32768',
  });
  assert.equal(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as Effective;
  assert.equal(e.configFile, other);
  assert.equal(e.runtime.port, 9191);
  assert.equal(e.runtime.logLevel, 'warn');
  assert.deepEqual(
    e.llm.providers.map((p) => [p.name, p.source, p.baseUrl, p.models.map((m) => [m.id, m.contextTokens])]),
    [['ollama', 'environment', 'http://127.0.0.1:11434', [['qwen2.5', 32768]]]],
  );
});

test('a bad configuration lists every problem, counted on the first line, and exits 2', async () => {
  const bad = join(tmp.dir, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      extra: true,
      llm: { bogus: 1, tokenizer: 'latin1' },
      providers: [
        { name: 'a', kind: 'openai', baseUrl: 'not a url', models: [{ id: 'm', contextTokens: 1 }] },
        { name: 'b', kind: 'martian', baseUrl: 'http://127.0.0.1:9', models: [] },
      ],
    }),
  );
  const r = await run(['config', 'check'], { JAMEY_CONFIG: bad, JAMEY_PORT: '70000' });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines[0], 'jamey: config check: 8 problems');
  const problems = lines.slice(1).join('\n');
  for (const expected of [
    /unknown key "extra"/,
    /unknown key "llm\.bogus"/,
    /"port" .* got 70000 \(from JAMEY_PORT\)/,
    /llm\.providers\[0\]\.baseUrl/,
    /llm\.providers\[0\]\.models\[0\]\.contextTokens/,
    /llm\.providers\[1\]\.kind/,
    /llm\.providers\[1\]\.models/,
    /llm\.tokenizer/,
  ]) {
    assert.match(problems, expected);
  }
  assert.equal(lines.length, 9, r.stderr);

  const missing = await run(['config', 'check', '--config', 'nope.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^jamey: config check: 1 problem\n.*nope\.json \(--config\) does not exist/);
  const usage = await run(['config', 'frob']);
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr.trim().split('\n').length, 1);
});

test('secret values in the environment never reach the output', async () => {
  writeFileSync(join(tmp.dir, 'jamey.config.json'), JSON.stringify(goodFile));
  const env = {
    OPENAI_API_KEY: SECRET,
    UP_KEY: `${SECRET}-up`,
    ANTHROPIC_API_KEY: `${SECRET}-anthropic`,
    OPENAI_BASE_URL: `https://user:${SECRET}-pw@llm.example/v1`,
  };
  const r = await run(['config', 'check'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(SECRET), 'no secret value is printed');
  const e = JSON.parse(r.stdout) as Effective;
  const byName = new Map(e.llm.providers.map((p) => [p.name, p]));
  assert.deepEqual(byName.get('openai')?.apiKey, { env: 'OPENAI_API_KEY', set: true });
  assert.deepEqual(byName.get('up')?.apiKey, { env: 'UP_KEY', set: true });
  assert.deepEqual(byName.get('anthropic')?.apiKey, { env: 'ANTHROPIC_API_KEY', set: true });
  assert.equal(byName.get('openai')?.baseUrl, 'https://***:***@llm.example/v1');
  // A bad configuration's problem lines do not leak it either.
  const bad = await run(['config', 'check'], { ...env, JAMEY_PORT: '-1' });
  assert.equal(bad.code, 2);
  assert.ok(!`${bad.stdout}${bad.stderr}`.includes(SECRET), bad.stderr);
});
