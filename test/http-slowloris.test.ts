import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { after, test } from 'node:test';
import { request } from 'undici';
import { buildServer } from '../src/http/server.js';
import { createRuntime } from '../src/runtime/runtime.js';

const runtime = createRuntime({ logLevel: 'silent', http: { headersTimeoutMs: 400, requestTimeoutMs: 800 } });
const server = buildServer(runtime);
after(async () => {
  await server.shutdown();
  await runtime.close();
});

test('slowloris connections are cut at the header timeout while normal clients keep being served', async () => {
  await runtime.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const slow = Array.from({ length: 5 }, () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (c) => (received += c));
    socket.on('error', () => undefined);
    const started = performance.now();
    // Dribble a header byte every 100 ms, never finishing the header block.
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.write('X-A: b\r\n'), 100);
    return new Promise<{ ms: number; received: string }>((resolve) =>
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ ms: performance.now() - started, received });
      }),
    );
  });
  // Meanwhile, ordinary requests are answered promptly.
  for (let i = 0; i < 10; i++) {
    const res = await request(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await new Promise((r) => setTimeout(r, 50));
  }
  const cut = await Promise.all(slow);
  for (const c of cut) {
    assert.ok(c.ms < 3000, `slow connection cut after ${c.ms.toFixed(0)} ms`);
    assert.ok(
      c.received === '' || /^HTTP\/1\.1 408/.test(c.received),
      `answered ${JSON.stringify(c.received.slice(0, 40))}`,
    );
  }
});

test('an oversized header block is refused with 431', async () => {
  const port = (server.address() as AddressInfo).port;
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (c) => (received += c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
  await closed;
  assert.match(received, /^HTTP\/1\.1 431 /);
});
