import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActorSpec } from '../src/runtime/actor.js';
import { ManualClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';
import { defaultOptions } from '../src/runtime/options.js';
import { childrenToRestart, Supervisor } from '../src/runtime/supervisor.js';
import { ActorSystem } from '../src/runtime/system.js';
import { makeSystem, settle } from './fixtures/system.js';

type Msg = 'crash' | 'ping';

/** An actor that counts its incarnations and crashes on 'crash'. */
function crashy(name: string, starts: Record<string, number>, dependsOn?: string[]): ActorSpec<Msg, string> {
  return {
    name,
    ...(dependsOn === undefined ? {} : { dependsOn }),
    start: (ctx) => {
      starts[name] = (starts[name] ?? 0) + 1;
      return {
        receive: (m) => {
          if (m === 'crash') throw new Error(`${name} crashed`);
          return `${name}#${ctx.incarnation}`;
        },
      };
    },
  };
}

async function waitFor(cond: () => boolean, clock: ManualClock, stepMs = 10, maxSteps = 500): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (cond()) return;
    await clock.advanceAsync(stepMs);
  }
  assert.fail('condition not reached');
}

test('a crashing actor is restarted with backoff; the crashed ask gets ACTOR_CRASHED; queued messages survive', async () => {
  const { system, clock } = makeSystem();
  const starts: Record<string, number> = {};
  const ref = system.spawn(crashy('a', starts));
  await system.start();
  const crashed = ref.ask('crash');
  const queued = ref.ask('ping');
  await assert.rejects(crashed, (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_CRASHED'));
  await settle();
  assert.equal(system.supervision()[0]?.status, 'restarting');
  await clock.advanceAsync(49);
  assert.equal(starts['a'], 1, 'no restart before the 50 ms backoff');
  await clock.advanceAsync(1);
  assert.equal(await queued, 'a#1', 'the queued ask is answered by the new incarnation');
  assert.equal(starts['a'], 2);
  const info = system.supervision()[0];
  assert.equal(info?.status, 'running');
  assert.equal(info?.restarts, 1);
  assert.match(info?.lastError ?? '', /a crashed/);
  assert.equal(system.host('a')?.restarts, 1);
});

test('past the restart intensity the root escalates, fails the actors and the runtime is not ready', async () => {
  const escalations: string[] = [];
  const { system, clock } = makeSystem({ onEscalate: (e) => escalations.push(e.reason) });
  const starts: Record<string, number> = {};
  const ref = system.spawn(crashy('a', starts));
  system.spawn(crashy('b', starts));
  await system.start();
  assert.equal(system.isReady(), true);
  for (let i = 0; i < 5; i++) {
    await assert.rejects(ref.ask('crash'));
    await waitFor(() => system.supervision()[0]?.status === 'running', clock);
  }
  assert.equal(starts['a'], 6);
  assert.equal(system.isReady(), true, 'five restarts in the window are allowed');
  await assert.rejects(ref.ask('crash'));
  await settle();
  assert.equal(escalations.length, 1);
  assert.equal(system.isReady(), false);
  assert.match(system.notReadyReason() ?? '', /escalated/);
  assert.deepEqual(
    system.supervision().map((c) => c.status),
    ['failed', 'failed'],
  );
  assert.equal(system.supervisor.inspect().state, 'escalated');
  await assert.rejects(ref.ask('ping'), (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_STOPPED'));
  assert.equal(system.actor('b').tell('ping'), false);
});

test('restarts older than the window do not count toward the intensity', async () => {
  const { system, clock } = makeSystem({ supervision: { maxRestarts: 2, withinMs: 1000 } });
  const starts: Record<string, number> = {};
  const ref = system.spawn(crashy('a', starts));
  await system.start();
  for (let i = 0; i < 6; i++) {
    await assert.rejects(ref.ask('crash'));
    await waitFor(() => system.supervision()[0]?.status === 'running', clock);
    await clock.advanceAsync(600);
  }
  assert.equal(system.isReady(), true);
  assert.equal(starts['a'], 7);
});

test('one_for_all restarts every sibling; rest_for_one those started after the failed one', async () => {
  for (const [strategy, expected] of [
    ['one_for_all', { a: 2, b: 2, c: 2 }],
    ['rest_for_one', { a: 1, b: 2, c: 2 }],
    ['one_for_one', { a: 1, b: 2, c: 1 }],
  ] as const) {
    const { system, clock } = makeSystem({ supervision: { strategy } });
    const starts: Record<string, number> = {};
    system.spawn(crashy('c', starts, ['b']));
    system.spawn(crashy('a', starts));
    const b = system.spawn(crashy('b', starts, ['a']));
    await system.start();
    assert.deepEqual(system.startOrder, ['a', 'b', 'c']);
    await assert.rejects(b.ask('crash'));
    await waitFor(() => system.supervision().every((c) => c.status === 'running'), clock);
    assert.deepEqual(starts, expected, strategy);
    assert.equal(await system.actor('c').ask('ping'), `c#${expected.c - 1}`);
  }
});

test('childrenToRestart follows OTP strategies in start order', () => {
  const order = ['a', 'b', 'c', 'd'];
  const status = { a: 'running', b: 'running', c: 'running', d: 'stopped' } as const;
  assert.deepEqual(childrenToRestart('one_for_one', order, status, 'b'), ['b']);
  assert.deepEqual(childrenToRestart('one_for_all', order, status, 'b'), ['a', 'b', 'c']);
  assert.deepEqual(childrenToRestart('rest_for_one', order, status, 'b'), ['b', 'c']);
});

test('an actor whose start throws is retried, and start() waits for it', async () => {
  const { system, clock } = makeSystem();
  let attempts = 0;
  system.spawn<string, string>({
    name: 'flaky-start',
    start: () => {
      attempts++;
      if (attempts < 3) throw new Error('not yet');
      return { receive: (m) => m };
    },
  });
  const started = system.start();
  await clock.advanceAsync(1000, 10);
  await started;
  assert.equal(attempts, 3);
  assert.equal(await system.actor('flaky-start').ask('ok'), 'ok');
});

test('a nested supervisor that escalates is restarted by its parent as one child', async () => {
  const clock = new ManualClock(0);
  const d = defaultOptions();
  const rootEscalations: string[] = [];
  const inner = new ActorSystem({
    clock,
    random: () => 1,
    mailbox: d.mailbox,
    sendRetry: d.sendRetry,
    askDeadlineMs: d.askDeadlineMs,
    supervision: { ...d.supervision, maxRestarts: 1 },
    shutdownTimeoutMs: 1000,
  });
  const starts: Record<string, number> = {};
  const ref = inner.spawn(crashy('leaf', starts));
  // Wire the inner system's root supervisor under an outer supervisor.
  const outer = new Supervisor(
    'outer',
    { ...d.supervision, maxRestarts: 3 },
    {
      clock,
      onEscalate: (e) => rootEscalations.push(e.supervisor),
    },
  );
  inner.supervisor.add(inner.host('leaf') as never);
  outer.add(inner.supervisor);
  await outer.start();
  await assert.rejects(ref.ask('crash'));
  await waitFor(() => inner.supervision()[0]?.status === 'running', clock);
  await assert.rejects(ref.ask('crash')); // second crash within the window: inner escalates
  await settle();
  await waitFor(() => outer.inspect().children[0]?.status === 'running' && starts['leaf'] === 3, clock);
  assert.equal(outer.inspect().children[0]?.restarts, 1);
  assert.deepEqual(rootEscalations, []);
  outer.stop();
});
