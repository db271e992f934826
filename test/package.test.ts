/**
 * The published package works on its own: `npm pack` holds what a user needs (and no sources or
 * tests), and an app that installs the tarball can start the runtime, run the CLI and type-check
 * against the typings. Installed offline: the tarball is extracted and the runtime dependencies are
 * linked from this repository's node_modules (so the native better-sqlite3 build is reused).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/store.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hasNpm = spawnSync('npm', ['--version'], { stdio: 'ignore' }).error === undefined;
const skip = hasNpm ? false : 'npm is not on PATH, so the package cannot be packed';

const tmp = tempDir('jamey-package-');
after(() => tmp.cleanup());
const app = join(tmp.dir, 'app');
const installed = join(app, 'node_modules', 'jamey');
let files: string[] = [];

/** A child's environment without the caller's provider keys, so nothing reaches the network. */
const childEnv = { PATH: process.env['PATH'] ?? '', HOME: tmp.dir };

before(() => {
  if (!hasNpm) return;
  // The pack ships dist/ as built; scripts are skipped so packing never rebuilds or runs anything.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [result] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  assert.ok(result, 'npm pack reports the tarball');
  files = result.files.map((f) => f.path);
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(tmp.dir, result.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  // What a TypeScript consumer adds itself: Node's own typings. (The public typings name
  // better-sqlite3's types, so @types/better-sqlite3 is a dependency of the package.)
  const consumerTypes = ['@types/node'];
  for (const dep of new Set([...Object.keys(manifest.dependencies ?? {}), ...consumerTypes])) {
    const target = join(app, 'node_modules', dep);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), target, 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
});

test('the tarball holds the build, typings, CLI and asset, and no sources or tests', { skip }, () => {
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli.js', 'package.json'])
    assert.ok(files.includes(f), `${f} is packed`);
  assert.ok(
    files.some((f) => /^assets\/word-vectors\/.+\.bin$/.test(f)),
    'the word-vector asset is packed',
  );
  const stray = files.filter(
    (f) => /^(test|bench|src)\//.test(f) || f.startsWith('dist/test/') || f.startsWith('dist/bench/'),
  );
  assert.deepEqual(stray, [], 'no tests, benchmarks or sources');
  // dist/ is never cleaned by tsc: output of a deleted source would otherwise ship unnoticed.
  const orphans = files
    .filter((f) => f.startsWith('dist/src/') && f.endsWith('.js'))
    .filter((f) => !existsSync(join(root, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))));
  assert.deepEqual(orphans, [], 'every packed module has its source');
  assert.deepEqual(
    files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    [],
    'no TypeScript sources',
  );
});

test('an app that installs the package starts Jamey, remembers and chats offline', { skip }, () => {
  const script = `
import { createJamey } from 'jamey';
const jamey = createJamey(
  { dataDir: ${JSON.stringify(join(tmp.dir, 'data'))}, logLevel: 'silent', port: 0, pool: { maxThreads: 1 } },
  { llm: { env: {} } },
);
await jamey.start();
try {
  await jamey.memory.store('semantic', 'Alex keeps bees on the roof of the library.', { entityId: 'alex' });
  const out = await jamey.chat.complete(
    { model: 'jamey-local', user: 'alex', messages: [{ role: 'user', content: 'Where does Alex keep bees?' }] },
    { keyId: null, tenant: 'app', entityId: 'alex', conversationId: null },
  );
  process.stdout.write(JSON.parse(out.json).choices[0].message.content);
} finally {
  await jamey.close();
}
`;
  writeFileSync(join(app, 'run.mjs'), script);
  const r = spawnSync(process.execPath, ['run.mjs'], {
    cwd: app,
    env: childEnv,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /bees on the roof of the library/, r.stdout);
});

test("the package's CLI runs from the install", { skip }, () => {
  const r = spawnSync(process.execPath, [join('node_modules', 'jamey', 'dist', 'src', 'cli.js'), '--help'], {
    cwd: app,
    env: childEnv,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: jamey serve/);
  assert.match(r.stdout, /jamey config check/);
});

test("the package's typings resolve for a TypeScript consumer", { skip }, () => {
  writeFileSync(
    join(app, 'check.ts'),
    `import { createJamey, type JameyOptions } from 'jamey';
const options: JameyOptions = { exclude: ['predictive'], llm: { env: {} } };
const jamey = createJamey({ port: 0, logLevel: 'silent' }, options);
const port: number = jamey.runtime.options.port;
// @ts-expect-error a port is a number: the typings are real, not any
createJamey({ port: '8080' });
export { port };
`,
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is installed in the repository');
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--strict',
      '--skipLibCheck',
      'false',
      '--types',
      'node',
      'check.ts',
    ],
    { cwd: app, env: childEnv, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
