/**
 * `jamey serve` as a sidecar on a Unix domain socket: owner-only socket file, the HTTP API over it,
 * a stale socket replaced, a live one left alone, and the file gone after a graceful shutdown.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/store.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = tempDir('jamey-socket-');
after(() => tmp.cleanup());

/** The environment without the machine's LLM provider conventions. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, JAMEY_LOG_LEVEL: 'silent', ...extra };
  for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'OLLAMA_HOST', 'JAMEY_PORT'])
    delete e[k];
  return e;
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A socket file left behind by a process that died without removing it. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(statSync(path).isSocket());
}

test('serves the API on a 0600 Unix socket, replacing a stale one, and removes it on SIGTERM', async () => {
  const dataDir = join(tmp.dir, 'data');
  const socket = join(tmp.dir, 'jamey.sock');
  await staleSocket(socket);
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmp.dir,
    env: env({ JAMEY_SOCKET: socket, JAMEY_DATA_DIR: dataDir }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const done = exited(child);
  const keyFile = join(dataDir, 'admin.key');
  await waitFor(() => existsSync(keyFile), 'the admin key');
  await waitFor(async () => {
    const health = await call(socket, 'GET', '/healthz').catch(() => undefined);
    return health?.status === 200;
  }, 'GET /healthz over the socket').catch(async (err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}: ${(await done).stderr}`);
  });

  assert.equal(statSync(socket).mode & 0o777, 0o600);

  const token = readFileSync(keyFile, 'utf8').trim();
  const chat = await call(
    socket,
    'POST',
    '/v1/chat/completions',
    { model: 'jamey-local', messages: [{ role: 'user', content: 'Hello over a socket' }] },
    token,
  );
  assert.equal(chat.status, 200);
  assert.equal(chat.json['object'], 'chat.completion');
  const unauthorised = await call(socket, 'POST', '/v1/chat/completions', {
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(unauthorised.status, 401);

  child.kill('SIGTERM');
  const { code, stderr } = await done;
  assert.equal(code, 0, stderr);
  assert.equal(existsSync(socket), false);
});

test('a socket another process serves on is left alone: exit 1 with one line', async () => {
  const socket = join(tmp.dir, 'busy.sock');
  const other = createServer((c) => c.end());
  await new Promise<void>((resolve) => other.listen(socket, resolve));
  try {
    const child = spawn(process.execPath, [MAIN, '--socket', socket], {
      cwd: tmp.dir,
      env: env({ JAMEY_DATA_DIR: join(tmp.dir, 'busy-data') }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const { code, stderr } = await exited(child);
    assert.equal(code, 1);
    assert.match(stderr, /^jamey: cannot listen on .*busy\.sock: another process is serving on/);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.ok(statSync(socket).isSocket());
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});

test('an unknown flag is wrong usage: one line, exit 2', async () => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--sockt', 'x'], {
    cwd: tmp.dir,
    env: env({ JAMEY_DATA_DIR: join(tmp.dir, 'usage-data') }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const { code, stderr } = await exited(child);
  assert.equal(code, 2);
  assert.match(stderr, /--sockt/);
  assert.match(stderr, /usage: jamey serve \[.*--socket PATH\]/);
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.equal(existsSync(join(tmp.dir, 'usage-data')), false);
});
