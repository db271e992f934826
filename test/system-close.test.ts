import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import { ActorSystem, startOrder, systemOptions } from '../src/runtime/system.js';
import { gate, makeSystem, settle } from './fixtures/system.js';

function realSystem(capacity = 1000): ActorSystem {
  return new ActorSystem(
    systemOptions({ mailbox: { capacity, overflow: 'reject' }, shutdownTimeoutMs: 30_000 }),
  );
}

test('close() under load delivers every accepted message exactly once, dependents first', async () => {
  const system = realSystem(64);
  const delivered = new Map<string, number>();
  const stopOrder: string[] = [];
  const record = (m: string): void => {
    delivered.set(m, (delivered.get(m) ?? 0) + 1);
  };
  // "front" forwards to "store" while draining; store must still accept then.
  const store = system.spawn<string, void>({
    name: 'store',
    start: () => ({
      receive: async (m) => {
        if (Math.random() < 0.3) await new Promise((r) => setImmediate(r));
        record(m);
      },
      stop: () => void stopOrder.push('store'),
    }),
  });
  const front = system.spawn<string, void>({
    name: 'front',
    dependsOn: ['store'],
    concurrency: 3,
    start: () => ({
      receive: async (m) => {
        await new Promise((r) => setImmediate(r));
        record(m);
        await store.send(`fwd:${m}`);
      },
      stop: () => void stopOrder.push('front'),
    }),
  });
  await system.start();

  const accepted: string[] = [];
  let producing = true;
  const producers = Array.from({ length: 4 }, (_, p) =>
    (async () => {
      for (let i = 0; producing; i++) {
        const m = `p${p}-${i}`;
        try {
          if (front.tell(m)) accepted.push(m);
        } catch (err) {
          assert.ok(isJameyError(err, 'JAMEY_ERR_MAILBOX_FULL'));
        }
        if (i % 8 === 0) await new Promise((r) => setImmediate(r));
      }
    })(),
  );
  await new Promise((r) => setTimeout(r, 30));
  const closing = system.close();
  assert.equal(system.close(), closing, 'close() is idempotent');
  await closing;
  producing = false;
  await Promise.all(producers);

  assert.ok(accepted.length > 100, `load was applied (${accepted.length} accepted)`);
  for (const m of accepted) {
    assert.equal(delivered.get(m), 1, `${m} delivered exactly once`);
    assert.equal(delivered.get(`fwd:${m}`), 1, `fwd:${m} delivered exactly once`);
  }
  assert.equal(delivered.size, accepted.length * 2, 'nothing delivered that was not accepted');
  assert.deepEqual(stopOrder, ['front', 'store']);
  assert.equal(system.state, 'closed');
  assert.ok(system.deadLetters.count('front') > 0, 'messages after close went to dead letters');
});

test('destroy() fails pending asks and dead-letters queued tells; it is idempotent', async () => {
  const { system } = makeSystem();
  const hold = gate();
  const ref = system.spawn<string, string>({
    name: 'a',
    start: () => ({
      receive: async (m) => {
        await hold.promise;
        return m;
      },
    }),
  });
  await system.start();
  const first = ref.ask('running');
  await settle();
  const queued = ref.ask('queued');
  ref.tell('queued-tell');
  system.destroy(new JameyError('JAMEY_ERR_SHUTTING_DOWN', 'going down'));
  system.destroy();
  await assert.rejects(queued, (err) => isJameyError(err, 'JAMEY_ERR_SHUTTING_DOWN'));
  assert.equal(system.deadLetters.countsBy().find((c) => c.reason === 'destroyed')?.count, 2);
  assert.equal(system.state, 'destroyed');
  hold.open();
  assert.equal(await first, 'running', 'a handler already running may finish');
});

test('close() past the shutdown timeout destroys what is left', async () => {
  const { system, clock } = makeSystem({ shutdownTimeoutMs: 100 });
  const ref = system.spawn<string, string>({
    name: 'stuck',
    start: () => ({ receive: () => new Promise<string>(() => undefined) }),
  });
  await system.start();
  ref.tell('forever');
  const queued = ref.ask('never').catch((err: unknown) => err);
  await settle();
  const closing = system.close();
  await clock.advanceAsync(100);
  await closing;
  assert.ok(isJameyError(await queued, 'JAMEY_ERR_SHUTTING_DOWN'));
});

test('start order follows dependencies; unknown names and cycles are refused', () => {
  assert.deepEqual(
    startOrder([
      { name: 'http', dependsOn: ['memory', 'security'] },
      { name: 'memory', dependsOn: ['store'] },
      { name: 'security' },
      { name: 'store' },
    ]),
    ['security', 'store', 'memory', 'http'],
  );
  assert.throws(
    () => startOrder([{ name: 'a', dependsOn: ['nope'] }]),
    (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION') && /"nope"/.test(err.message),
  );
  assert.throws(
    () =>
      startOrder([
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ]),
    (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION') && /cycle/.test(err.message),
  );
});
