import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config-file.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-config-');
after(() => tmp.cleanup());

test('jamey.config.json supplies providers and LLM options; no file is no configuration', () => {
  assert.deepEqual(loadConfigFile({}, tmp.dir), {});
  const providers = [
    {
      name: 'up',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      models: [{ id: 'm', contextTokens: 4096 }],
    },
  ];
  writeFileSync(
    join(tmp.dir, 'jamey.config.json'),
    JSON.stringify({ providers, llm: { chat: { retries: 3 } } }),
  );
  const o = loadConfigFile({}, tmp.dir);
  assert.deepEqual(o.llm?.providers, providers);
  assert.equal(o.llm?.chat?.retries, 3);
});

test('bad files are refused with every problem named', () => {
  const file = join(tmp.dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ providers: {}, llm: { bogus: 1 }, extra: true }));
  assert.throws(
    () => loadConfigFile({ JAMEY_CONFIG: file }, tmp.dir),
    (err: { code?: string; details?: string[] }) =>
      err.code === 'JAMEY_ERR_INVALID_OPTION' &&
      err.details?.length === 3 &&
      err.details.some((d) => d.includes('"extra"')) &&
      err.details.some((d) => d.includes('llm.bogus')),
  );
  assert.throws(
    () => loadConfigFile({ JAMEY_CONFIG: join(tmp.dir, 'nope.json') }, tmp.dir),
    /does not exist/,
  );
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfigFile({ JAMEY_CONFIG: file }, tmp.dir), /not valid JSON/);
});

test('the service refuses a bad provider config with one line and exit status 2', async () => {
  const file = join(tmp.dir, 'providers.json');
  writeFileSync(file, JSON.stringify({ providers: [{ name: 'x', kind: 'openai', models: [] }] }));
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [main],
      { env: { ...process.env, JAMEY_CONFIG: file, JAMEY_DATA_DIR: join(tmp.dir, 'data'), JAMEY_PORT: '0' } },
      (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /llm\.providers\[0\]\.baseUrl/);
  assert.match(lines[0] ?? '', /llm\.providers\[0\]\.models/);
});

test('a misspelt LLM option is refused, not ignored', async () => {
  const { createJamey } = await import('../src/jamey.js');
  assert.throws(
    () =>
      createJamey(
        { dataDir: join(tmp.dir, 'typo'), logLevel: 'silent' },
        { llm: { env: {}, chat: { retrys: 2 } as never, router: { fallbak: false } as never } },
      ),
    (err: { code?: string; details?: string[] }) =>
      err.code === 'JAMEY_ERR_INVALID_OPTION' &&
      err.details?.includes('unknown option "llm.chat.retrys"') === true &&
      err.details.includes('unknown option "llm.router.fallbak"'),
  );
});

test('the service configuration: defaults ← file ← environment ← flags', async () => {
  const { loadServiceConfig } = await import('../src/config-file.js');
  const dir = join(tmp.dir, 'layers');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'jamey.config.json'),
    JSON.stringify({
      runtime: { port: 9001, host: '127.0.0.2', logLevel: 'warn' },
      memory: { workingCapacity: 50 },
    }),
  );
  const fileOnly = loadServiceConfig({}, dir);
  assert.deepEqual(fileOnly.runtime, { port: 9001, host: '127.0.0.2', logLevel: 'warn' });
  assert.equal(fileOnly.jamey.memory?.workingCapacity, 50);
  const withEnv = loadServiceConfig({ JAMEY_PORT: '9002' }, dir);
  assert.equal(withEnv.runtime.port, 9002, 'the environment wins over the file');
  assert.equal(withEnv.runtime.host, '127.0.0.2');
  const withFlags = loadServiceConfig({ JAMEY_PORT: '9002' }, dir, { port: 9003 });
  assert.equal(withFlags.runtime.port, 9003, 'flags win over the environment');
  writeFileSync(join(dir, 'jamey.config.json'), JSON.stringify({ runtime: 5, memory: [] }));
  assert.throws(() => loadServiceConfig({}, dir), /"memory" must be an object; "runtime" must be an object/);
});

test('the store can be tuned; an unknown store option is refused', async () => {
  const { createJamey } = await import('../src/jamey.js');
  assert.throws(
    () =>
      createJamey(
        { dataDir: join(tmp.dir, 'tune'), logLevel: 'silent' },
        { store: { checkpointEvery: 5 } as never },
      ),
    (err: { code?: string; details?: string[] }) =>
      err.code === 'JAMEY_ERR_INVALID_OPTION' &&
      err.details?.includes('unknown option "store.checkpointEvery"') === true,
  );
  const jamey = createJamey(
    { dataDir: join(tmp.dir, 'tuned'), logLevel: 'silent', pool: { maxThreads: 1 } },
    { llm: { env: {} }, store: { checkpointEveryWrites: 20_000, maxBatch: 128 } },
  );
  await jamey.start();
  await jamey.memory.store('semantic', 'Tuned stores still store.', {});
  await jamey.close();
});
