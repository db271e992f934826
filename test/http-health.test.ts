import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { Route } from '../src/http/route.js';
import { allRoutes } from '../src/http/routes/index.js';
import { buildServer, type JameyServer } from '../src/http/server.js';
import { createRuntime, type Runtime } from '../src/runtime/runtime.js';

async function listen(server: JameyServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function start(setup?: (r: Runtime) => void, supervision?: { maxRestarts: number }) {
  const runtime = createRuntime({ logLevel: 'silent', ...(supervision ? { supervision } : {}) });
  setup?.(runtime);
  await runtime.start();
  const server = buildServer(runtime);
  const base = await listen(server);
  cleanups.push(async () => {
    await server.shutdown();
    await runtime.close();
  });
  return { runtime, server, base };
}

test('/healthz, /readyz and /metrics answer over HTTP', async () => {
  const { base } = await start((r) =>
    r.spawn({ name: 'echo', start: () => ({ receive: (m: unknown) => m }) }),
  );
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', state: 'running' });
  assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

  const ready = await fetch(`${base}/readyz`, { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(ready.status, 200);
  assert.equal(ready.headers.get('x-request-id'), 'abc-123');
  const body = (await ready.json()) as { status: string; actors: Array<{ name: string; status: string }> };
  assert.equal(body.status, 'ready');
  assert.deepEqual(
    body.actors.map((a) => [a.name, a.status]),
    [['echo', 'running']],
  );

  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
  const text = await metrics.text();
  for (const name of [
    'jamey_actor_mailbox_depth{actor="echo"} 0',
    'jamey_actor_messages_processed_total{actor="echo"} 0',
    'jamey_actor_restarts_total{actor="echo"} 0',
    'jamey_runtime_ready 1',
    'jamey_pool_queue_size 0',
    'process_cpu_user_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(text.includes(name), `metrics include ${name}`);
  }
});

test('unknown routes and methods get coded JSON errors', async () => {
  const { base } = await start();
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: { code: 'JAMEY_ERR_NOT_FOUND', message: 'no route for GET /nope' },
  });
  const wrong = await fetch(`${base}/healthz`, { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET');
  assert.equal(
    ((await wrong.json()) as { error: { code: string } }).error.code,
    'JAMEY_ERR_METHOD_NOT_ALLOWED',
  );
});

test('an escalation at the root flips /readyz to 503 with the reason', async () => {
  const { base, runtime } = await start(
    (r) =>
      r.spawn<string, string>({
        name: 'fragile',
        start: () => ({
          receive: () => {
            throw new Error('kaput');
          },
        }),
      }),
    { maxRestarts: 0 },
  );
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  await assert.rejects(runtime.actor('fragile').ask('x'));
  await new Promise((r) => setImmediate(r));
  const res = await fetch(`${base}/readyz`);
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  const body = (await res.json()) as { status: string; reason: string; actors: Array<{ status: string }> };
  assert.equal(body.status, 'not_ready');
  assert.match(body.reason, /escalated.*fragile.*kaput/);
  assert.equal(body.actors[0]?.status, 'failed');
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still live');
  assert.match(await (await fetch(`${base}/metrics`)).text(), /jamey_runtime_ready 0/);
});

test('while closing, in-flight requests finish and new ones get 503 with Connection: close', async () => {
  const runtime = createRuntime({ logLevel: 'silent' });
  await runtime.start();
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let slowStarted!: () => void;
  const started = new Promise<void>((r) => {
    slowStarted = r;
  });
  const slow: Route = {
    method: 'GET',
    path: '/slow',
    handler: async () => {
      slowStarted();
      await released;
      return { slow: true };
    },
  };
  const server = buildServer(runtime, [...allRoutes, slow]);
  const base = await listen(server);
  cleanups.push(() => runtime.close());
  const agent = new Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal((await get('/healthz')).status, 200); // leaves a kept-alive connection in the agent
  const inFlight = get('/slow');
  await started;
  let shutDown = false;
  const shutdown = server.shutdown().then(() => (shutDown = true));
  const during = await get('/healthz');
  assert.equal(during.status, 503);
  assert.equal(during.connection, 'close');
  assert.equal(JSON.parse(during.body).error.code, 'JAMEY_ERR_SHUTTING_DOWN');
  assert.equal(shutDown, false, 'shutdown waits for the in-flight request');
  release();
  const slowRes = await inFlight;
  assert.equal(slowRes.status, 200);
  assert.deepEqual(JSON.parse(slowRes.body), { slow: true });
  await shutdown;
  agent.destroy();
});
