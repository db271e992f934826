import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import { gate, makeSystem, settle } from './fixtures/system.js';

test('tell delivers in order; ask returns the handler result', async () => {
  const { system } = makeSystem();
  const seen: number[] = [];
  const ref = system.spawn<number, number>({
    name: 'sum',
    start: () => {
      let total = 0;
      return {
        receive: (n) => {
          seen.push(n);
          total += n;
          return total;
        },
      };
    },
  });
  await system.start();
  for (let i = 1; i <= 5; i++) assert.equal(ref.tell(i), true);
  assert.equal(await ref.ask(10), 25);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 10]);
});

test('priority lanes reorder queued messages for the actor', async () => {
  const { system } = makeSystem();
  const seen: string[] = [];
  const hold = gate();
  const ref = system.spawn<string, void>({
    name: 'p',
    start: () => ({
      receive: async (m) => {
        if (m === 'first') await hold.promise;
        seen.push(m);
      },
    }),
  });
  await system.start();
  ref.tell('first');
  await settle();
  ref.tell('low', { priority: 'low' });
  ref.tell('normal');
  ref.tell('critical', { priority: 'critical' });
  ref.tell('high', { priority: 'high' });
  hold.open();
  await ref.ask('last', { priority: 'low' });
  assert.deepEqual(seen, ['first', 'critical', 'high', 'normal', 'low', 'last']);
});

test('ask past its deadline fails with the code; the late reply is dropped and counted', async () => {
  const { system, clock } = makeSystem();
  const release = gate();
  let handled = 0;
  const ref = system.spawn<string, string>({
    name: 'slow',
    start: () => ({
      receive: async (m) => {
        handled++;
        await release.promise;
        return `done ${m}`;
      },
    }),
  });
  await system.start();
  const p = ref.ask('a', { deadlineMs: 100 });
  await settle();
  clock.advance(99);
  await settle();
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  assert.equal(settled, false, 'not expired before its deadline');
  clock.advance(1);
  await assert.rejects(p, (err) => isJameyError(err, 'JAMEY_ERR_DEADLINE_EXCEEDED'));
  release.open();
  await settle();
  const host = system.host('slow');
  assert.equal(handled, 1);
  assert.equal(host?.lateReplies, 1);
  // The actor carries on.
  assert.equal(await ref.ask('b'), 'done b');
});

test('an ask that expires while queued is skipped without running the handler', async () => {
  const { system, clock } = makeSystem();
  const release = gate();
  const handled: string[] = [];
  const ref = system.spawn<string, string>({
    name: 'busy',
    start: () => ({
      receive: async (m) => {
        handled.push(m);
        if (m === 'block') await release.promise;
        return m;
      },
    }),
  });
  await system.start();
  const blocker = ref.ask('block', { deadlineMs: Number.POSITIVE_INFINITY });
  const queued = ref.ask('queued', { deadlineMs: 50 });
  await settle();
  clock.advance(50);
  await assert.rejects(queued, (err) => isJameyError(err, 'JAMEY_ERR_DEADLINE_EXCEEDED'));
  release.open();
  assert.equal(await blocker, 'block');
  await settle();
  assert.deepEqual(handled, ['block']);
  assert.equal(system.host('busy')?.expired, 1);
});

test('an aborted ask fails with JAMEY_ERR_ABORTED and the handler sees the abort', async () => {
  const { system } = makeSystem();
  let sawAbort = false;
  const ref = system.spawn<string, string>({
    name: 'abortable',
    start: () => ({
      receive: (_m, ask) =>
        new Promise<string>((resolve) => {
          ask?.signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve('late');
          });
        }),
    }),
  });
  await system.start();
  const ac = new AbortController();
  const p = ref.ask('x', { signal: ac.signal });
  await settle();
  ac.abort();
  await assert.rejects(p, (err) => isJameyError(err, 'JAMEY_ERR_ABORTED'));
  await settle();
  assert.equal(sawAbort, true);
  assert.equal(system.host('abortable')?.lateReplies, 1);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(ref.ask('y', { signal: pre.signal }), (err) => isJameyError(err, 'JAMEY_ERR_ABORTED'));
});

test('a handler that throws a JameyError refuses that message; the actor keeps its state', async () => {
  const { system } = makeSystem();
  const ref = system.spawn<number, number>({
    name: 'validator',
    start: () => {
      let ok = 0;
      return {
        receive: (n) => {
          if (n < 0) throw new JameyError('JAMEY_ERR_VALIDATION', 'negative', { details: [{ path: '/n' }] });
          return ++ok;
        },
      };
    },
  });
  await system.start();
  assert.equal(await ref.ask(1), 1);
  await assert.rejects(ref.ask(-1), (err) => isJameyError(err, 'JAMEY_ERR_VALIDATION'));
  assert.equal(await ref.ask(2), 2);
  const host = system.host('validator');
  assert.equal(host?.refused, 1);
  assert.equal(host?.restarts, 0);
});

test('messages to a stopped actor go to dead letters, counted and inspectable', async () => {
  const { system } = makeSystem();
  const ref = system.spawn<string, string>({ name: 'gone', start: () => ({ receive: (m) => m }) });
  await system.start();
  await system.close();
  assert.equal(ref.tell('after-close'), false);
  await assert.rejects(ref.ask('ask-after-close'), (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_STOPPED'));
  assert.equal(system.deadLetters.count('gone'), 2);
  assert.deepEqual(
    system.deadLetters.recent().map((d) => [d.actor, d.reason, d.message]),
    [
      ['gone', 'stopped', 'after-close'],
      ['gone', 'stopped', 'ask-after-close'],
    ],
  );
});

test('a full mailbox rejects tell with JAMEY_ERR_MAILBOX_FULL; drop policies report false', async () => {
  const { system } = makeSystem({ capacity: 2 });
  const release = gate();
  const ref = system.spawn<number, void>({
    name: 'tiny',
    start: () => ({ receive: () => release.promise }),
  });
  const dropper = system.spawn<number, void>({
    name: 'telemetry',
    mailbox: { capacity: 1, overflow: 'drop-newest' },
    start: () => ({ receive: () => release.promise }),
  });
  await system.start();
  ref.tell(0); // taken by the handler
  dropper.tell(0);
  await settle();
  assert.equal(ref.tell(1), true);
  assert.equal(ref.tell(2), true);
  assert.throws(
    () => ref.tell(3),
    (err) => isJameyError(err, 'JAMEY_ERR_MAILBOX_FULL'),
  );
  assert.equal(dropper.tell(1), true);
  assert.equal(dropper.tell(2), false);
  assert.equal(system.deadLetters.count('telemetry'), 1);
  release.open();
});

test('concurrency > 1 runs that many handlers at once, never more', async () => {
  const { system } = makeSystem();
  let running = 0;
  let peak = 0;
  const ref = system.spawn<number, number>({
    name: 'io',
    concurrency: 4,
    start: () => ({
      receive: async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        return n * 2;
      },
    }),
  });
  await system.start();
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ref.ask(i)));
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => i * 2),
  );
  assert.equal(peak, 4);
});
