import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DdosGuard } from '../src/actors/security/ddos.js';
import { ManualClock } from '../src/runtime/clock.js';
import { isJameyError } from '../src/runtime/errors.js';

const MIN = 60_000;

test('connection cap per address: refusals past the cap, room again after a close', () => {
  const clock = new ManualClock(0);
  const g = new DdosGuard({ maxConnectionsPerIp: 3 }, clock);
  assert.deepEqual(
    [1, 2, 3].map(() => g.onConnectionOpen('10.0.0.1')),
    [true, true, true],
  );
  assert.equal(g.onConnectionOpen('10.0.0.1'), false, 'the fourth is refused');
  assert.equal(g.strikesOf('10.0.0.1'), 1, 'a cap refusal is a strike');
  assert.equal(g.onConnectionOpen('10.0.0.2'), true, 'other addresses are unaffected');
  g.onConnectionClose('10.0.0.1');
  assert.equal(g.connectionsOf('10.0.0.1'), 2);
  assert.equal(g.onConnectionOpen('10.0.0.1'), true);
  for (let i = 0; i < 3; i++) g.onConnectionClose('10.0.0.1');
  assert.equal(g.connectionsOf('10.0.0.1'), 0);
  g.onConnectionClose('10.0.0.1');
  assert.equal(g.connectionsOf('10.0.0.1'), 0, 'an extra close does not go negative');
});

test('strikes ban an address; bans escalate 1, 5, 30 min, capped, and expire', () => {
  const clock = new ManualClock(0);
  const g = new DdosGuard({ strikesToBan: 5 }, clock);
  const bans: number[] = [];
  g.onBan((b) => bans.push(b.durationMs));
  const offend = (): void => {
    for (let i = 0; i < 5; i++) g.strike('1.2.3.4', 'rate_limited');
  };

  offend();
  assert.equal(g.isBanned('1.2.3.4'), true);
  assert.equal(g.banRemainingMs('1.2.3.4'), MIN);
  assert.equal(g.activeBans(), 1);
  assert.equal(g.strike('1.2.3.4', 'rate_limited'), undefined, 'no strikes while banned');
  assert.equal(g.onConnectionOpen('1.2.3.4'), false, 'a banned address cannot connect');
  clock.advance(MIN - 1);
  assert.equal(g.isBanned('1.2.3.4'), true);
  clock.advance(1);
  assert.equal(g.isBanned('1.2.3.4'), false, 'the first ban lasts one minute');
  assert.equal(g.activeBans(), 0);

  offend();
  assert.equal(g.banRemainingMs('1.2.3.4'), 5 * MIN, 'second offence: 5 min');
  clock.advance(5 * MIN);
  offend();
  assert.equal(g.banRemainingMs('1.2.3.4'), 30 * MIN, 'third: 30 min');
  clock.advance(30 * MIN);
  offend();
  assert.equal(g.banRemainingMs('1.2.3.4'), 30 * MIN, 'capped at the last duration');
  assert.deepEqual(bans, [MIN, 5 * MIN, 30 * MIN, 30 * MIN]);

  // The offence level is forgotten one step per hour without a ban.
  clock.advance(30 * MIN + 2 * 3_600_000);
  offend();
  assert.equal(g.banRemainingMs('1.2.3.4'), 30 * MIN, '2.5 h since the last ban: level 4 − 2 + 1 = 3');
  clock.advance(30 * MIN + 5 * 3_600_000);
  offend();
  assert.equal(g.banRemainingMs('1.2.3.4'), MIN, 'long clean: a first offence again');
});

test('strikes leak away: slow offences never ban, weights count', () => {
  const clock = new ManualClock(0);
  const g = new DdosGuard({ strikesToBan: 5, strikeDecayMs: 1000 }, clock);
  for (let i = 0; i < 100; i++) {
    g.strike('5.5.5.5', 'rate_limited');
    clock.advance(1000);
  }
  assert.equal(g.isBanned('5.5.5.5'), false, 'one strike a second leaks as fast as it comes');
  g.strike('6.6.6.6', 'payload_too_large');
  assert.equal(g.isBanned('6.6.6.6'), true, 'an oversized body weighs 5 strikes by default here');
  assert.ok(g.unban('6.6.6.6'));
  assert.equal(g.isBanned('6.6.6.6'), false);
});

test('load shedding follows the resource monitor: memory pressure of the host', () => {
  const clock = new ManualClock(0);
  let used = 0.5;
  const g = new DdosGuard({ maxMemoryUsed: 0.95, sampleIntervalMs: 500 }, clock, {
    eventLoopLagMs: () => 0,
    memoryUsed: () => used,
  });
  g.start();
  assert.equal(g.shouldShed(), false);
  used = 0.96;
  clock.advance(500);
  assert.equal(g.shouldShed(), true, 'memory 96% used');
  assert.equal(g.load.memoryUsed, 0.96);
  used = 0.9;
  clock.advance(500);
  assert.equal(g.shouldShed(), false);
  g.stop();
});

test('load shedding follows the sampled event-loop lag and mailbox fill', () => {
  const clock = new ManualClock(0);
  let lag = 0;
  let fill = 0;
  const g = new DdosGuard({ maxEventLoopLagMs: 100, maxMailboxFill: 0.8, sampleIntervalMs: 500 }, clock, {
    eventLoopLagMs: () => lag,
    mailboxFill: () => fill,
  });
  g.start();
  assert.equal(g.shouldShed(), false);
  lag = 150;
  assert.equal(g.shouldShed(), false, 'not per request: only at the next sample');
  clock.advance(500);
  assert.equal(g.shouldShed(), true);
  assert.equal(g.load.eventLoopLagMs, 150);
  lag = 100;
  clock.advance(500);
  assert.equal(g.shouldShed(), false, 'at the threshold is not past it');
  fill = 0.8;
  clock.advance(500);
  assert.equal(g.shouldShed(), true, 'a mailbox 80% full');
  fill = 0.5;
  assert.equal(g.sample().shedding, false);
  g.stop();
  lag = 1000;
  clock.advance(5000);
  assert.equal(g.shouldShed(), false, 'no sampling once stopped');
  assert.equal(g.options.shedRetryAfterSeconds, 2);
});

test('the real event-loop monitor reports a blocked loop', async () => {
  const g = new DdosGuard({ sampleIntervalMs: 10_000, maxEventLoopLagMs: 50 });
  g.start();
  await new Promise((r) => setTimeout(r, 30));
  const t0 = Date.now();
  while (Date.now() - t0 < 120) {
    // Block the loop.
  }
  await new Promise((r) => setTimeout(r, 30));
  const s = g.sample();
  g.stop();
  assert.ok(s.eventLoopLagMs > 50, `lag ${s.eventLoopLagMs} ms`);
  assert.equal(s.shedding, true);
});

test('options are validated with names', () => {
  assert.throws(
    () => new DdosGuard({ maxConnectionsPerIp: 0, banDurationsMs: [], maxMailboxFill: 2, bogus: 1 } as never),
    (err: unknown) => {
      assert.ok(isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'));
      assert.match(err.message, /"ddos\.maxConnectionsPerIp" must be an integer from 1 to 1000000, got 0/);
      assert.match(err.message, /"ddos\.banDurationsMs" must be a non-empty array/);
      assert.match(err.message, /"ddos\.maxMailboxFill" must be a number from 0\.01 to 1, got 2/);
      assert.match(err.message, /unknown option "ddos\.bogus"/);
      return true;
    },
  );
});
