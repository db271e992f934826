/**
 * The service process under the two signals an operator (or the OOM killer) sends: SIGKILL in the
 * middle of concurrent HTTP writes, then a restart on the same data folder, keeps every memory whose
 * POST was answered 2xx and leaves a database that passes `PRAGMA integrity_check`; SIGTERM lets the
 * requests in flight finish with 200, turns new ones away with 503, closes the store cleanly and
 * exits 0.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  completionBody,
  lastUserText,
  type ScriptedUpstream,
  startScriptedUpstream,
} from './fixtures/scripted-upstream.js';
import { type ServiceProcess, spawnService } from './fixtures/service-process.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-faults-');
const started: ServiceProcess[] = [];
after(() => {
  // A test that failed half-way must not leave a service running.
  for (const svc of started)
    if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
  tmp.cleanup();
});

async function start(...args: Parameters<typeof spawnService>): Promise<ServiceProcess> {
  const svc = await spawnService(...args);
  started.push(svc);
  return svc;
}
const unlimited = { rps: 1e6, burst: 1e6 };
const BASE_CONFIG = {
  security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
  runtime: { pool: { maxThreads: 1 } },
};

interface Acked {
  id: string;
  content: string;
}

function headers(svc: ServiceProcess): Record<string, string> {
  return { authorization: `Bearer ${svc.adminKey}`, 'content-type': 'application/json' };
}

/** Random words, so that no two memories are (near-)duplicates that would be merged. */
function randomContent(): string {
  return Array.from({ length: 12 }, () => randomBytes(4).toString('hex')).join(' ');
}

/**
 * `clients` concurrent writers POST memories until the connection dies; each one answered 2xx goes
 * into `acked`. Once `killAfter` are acknowledged, the process is SIGKILLed after a random delay.
 */
async function writeUntilKilled(
  svc: ServiceProcess,
  acked: Acked[],
  clients: number,
  killAfter: number,
): Promise<{ statuses: number[] }> {
  const statuses: number[] = [];
  let armed = false;
  let ackedHere = 0;
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; ; i++) {
      const content = `writer ${w} note ${i}: ${randomContent()}`;
      let res: Response;
      try {
        res = await fetch(`${svc.base}/v1/memories`, {
          method: 'POST',
          headers: headers(svc),
          body: JSON.stringify({ layer: i % 2 === 0 ? 'episodic' : 'semantic', content, entityId: `w${w}` }),
        });
        const body = (await res.json()) as { id?: string };
        statuses.push(res.status);
        if (res.status >= 200 && res.status < 300 && typeof body.id === 'string') {
          acked.push({ id: body.id, content });
          if (++ackedHere >= killAfter && !armed) {
            armed = true;
            setTimeout(() => svc.child.kill('SIGKILL'), Math.floor(Math.random() * 200));
          }
        }
      } catch {
        return; // the process is gone: this write was never acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, w) => writer(w)));
  return { statuses };
}

/** Reads every acknowledged memory back over HTTP, a few at a time. */
async function assertAllThere(svc: ServiceProcess, acked: readonly Acked[]): Promise<void> {
  const missing: string[] = [];
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < acked.length) {
      const m = acked[next++] as Acked;
      const res = await fetch(`${svc.base}/v1/memories/${m.id}`, { headers: headers(svc) });
      const body = (await res.json()) as { content?: string };
      if (res.status !== 200 || body.content !== m.content) missing.push(`${m.id}: ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  assert.deepEqual(missing, [], 'every acknowledged memory is there after the restart');
}

function assertIntact(file: string): void {
  const db = new Database(file);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = db.prepare('SELECT count(*) FROM memories').pluck().get() as number;
    const indexed = db.prepare('SELECT count(*) FROM memories_fts').pluck().get() as number;
    assert.equal(indexed, rows, 'the full-text index agrees with the table');
  } finally {
    db.close();
  }
}

test('SIGKILL under concurrent HTTP writes: after a restart every acknowledged memory is there', async () => {
  const dataDir = join(tmp.dir, 'killed');
  const file = join(dataDir, 'jamey.db');
  const acked: Acked[] = [];
  for (let round = 0; round < 3; round++) {
    const svc = await start(dataDir, BASE_CONFIG);
    await assertAllThere(svc, acked);
    const before = acked.length;
    const { statuses } = await writeUntilKilled(svc, acked, 6, 30);
    assert.equal((await svc.exited).signal, 'SIGKILL');
    assert.ok(acked.length - before >= 30, `round ${round}: ${acked.length - before} writes acknowledged`);
    assert.deepEqual(
      statuses.filter((s) => s !== 201),
      [],
      'no write was refused before the kill',
    );
    assertIntact(file);
  }
  const svc = await start(dataDir, BASE_CONFIG);
  try {
    await assertAllThere(svc, acked);
  } finally {
    svc.child.kill('SIGTERM');
  }
  assert.equal((await svc.exited).code, 0);
  assertIntact(file);
});

/** A POST on a connection of its own (no kept-alive socket), or the error that refused it. */
function freshPost(
  base: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(JSON.stringify(body));
  });
}

/** Rejects when `p` has not settled within `ms`: a bound on shutdown, not a speed measurement. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

test('SIGTERM drains: requests in flight finish with 200, new ones get 503, the store closes cleanly', async () => {
  const up: ScriptedUpstream = await startScriptedUpstream();
  const dataDir = join(tmp.dir, 'drained');
  try {
    // A slow but well-formed model: every answer comes 500 ms after its request.
    up.script((r) =>
      r.stream
        ? {
            delayMs: 500,
            events: [
              JSON.stringify({ choices: [{ index: 0, delta: { content: lastUserText(r.body) } }] }),
              JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
              '[DONE]',
            ],
          }
        : { delayMs: 500, body: completionBody(lastUserText(r.body)) },
    );
    const svc = await start(
      dataDir,
      {
        ...BASE_CONFIG,
        providers: [
          {
            name: 'slow',
            kind: 'openai',
            baseUrl: `${up.url}/v1`,
            apiKeyEnv: 'SLOW_KEY',
            models: [{ id: 'slow-model', contextTokens: 16_000, pricePerMTokIn: 0, pricePerMTokOut: 0 }],
          },
        ],
      },
      { SLOW_KEY: 'sk-slow' },
    );
    const N = 6;
    const inFlight = Array.from({ length: N }, async (_, i) => {
      const question = `in flight question ${i}`;
      const res = await fetch(`${svc.base}/v1/chat/completions`, {
        method: 'POST',
        headers: headers(svc),
        body: JSON.stringify({
          model: 'slow-model',
          stream: i % 3 === 2,
          messages: [{ role: 'user', content: question }],
        }),
      });
      return { question, status: res.status, text: await res.text() };
    });
    // Every request has reached the model (and so is in flight in the service) before the signal.
    const t0 = Date.now();
    while (up.received < N) {
      if (Date.now() - t0 > 20_000) throw new Error(`only ${up.received} of ${N} requests reached the model`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(up.answered, 0, 'no answer has left the model yet');
    svc.child.kill('SIGTERM');
    await svc.waitForLog('shutting down');

    const late = await freshPost(svc.base, '/v1/chat/completions', svc.adminKey, {
      model: 'slow-model',
      messages: [{ role: 'user', content: 'too late' }],
    });
    if ('status' in late) {
      assert.equal(late.status, 503, late.text);
      assert.equal(JSON.parse(late.text).error.code, 'JAMEY_ERR_SHUTTING_DOWN');
    } else {
      assert.match(late.error, /ECONNREFUSED|ECONNRESET/);
    }

    for (const r of await Promise.all(inFlight)) {
      assert.equal(r.status, 200, r.text);
      assert.ok(r.text.includes(r.question), `the answer to "${r.question}": ${r.text}`);
    }
    const { code } = await within(svc.exited, 20_000, 'the exit after SIGTERM');
    assert.equal(code, 0, svc.logs());
    assert.equal(up.received, N, 'the request turned away never reached the model');

    const file = join(dataDir, 'jamey.db');
    assert.equal(
      existsSync(`${file}-wal`),
      false,
      'the last connection out checkpointed and removed the WAL',
    );
    assertIntact(file);
  } finally {
    await up.close();
  }
});

test('SIGTERM with a request that never finishes: the drain stops at http.drainTimeoutMs and the process exits 0', async () => {
  const up: ScriptedUpstream = await startScriptedUpstream();
  const dataDir = join(tmp.dir, 'stuck');
  try {
    up.script(() => ({ hang: true }));
    const svc = await start(
      dataDir,
      {
        ...BASE_CONFIG,
        runtime: { ...BASE_CONFIG.runtime, http: { drainTimeoutMs: 300 }, shutdownTimeoutMs: 1_000 },
        providers: [
          {
            name: 'stuck',
            kind: 'openai',
            baseUrl: `${up.url}/v1`,
            apiKeyEnv: 'STUCK_KEY',
            // Far longer than the drain: only the drain's own bound can end this request.
            timeoutMs: 600_000,
            models: [{ id: 'stuck-model', contextTokens: 16_000, pricePerMTokIn: 0, pricePerMTokOut: 0 }],
          },
        ],
      },
      { STUCK_KEY: 'sk-stuck' },
    );
    const stuck = fetch(`${svc.base}/v1/chat/completions`, {
      method: 'POST',
      headers: headers(svc),
      body: JSON.stringify({ model: 'stuck-model', messages: [{ role: 'user', content: 'never answered' }] }),
    }).then(
      (res) => `HTTP ${res.status}`,
      (err: Error) => `failed: ${err.message}`,
    );
    const t0 = Date.now();
    while (up.received < 1) {
      if (Date.now() - t0 > 20_000) throw new Error('the request never reached the model');
      await new Promise((r) => setTimeout(r, 10));
    }
    svc.child.kill('SIGTERM');
    const { code } = await within(svc.exited, 30_000, 'the exit after SIGTERM');
    assert.equal(code, 0, `a clean exit, not the hard shutdown timeout: ${svc.logs()}`);
    assert.match(await within(stuck, 5_000, 'the end of the stuck request'), /failed|HTTP 5\d\d/);
    assertIntact(join(dataDir, 'jamey.db'));
  } finally {
    await up.close();
  }
});
