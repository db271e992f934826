import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJameyError } from '../src/runtime/errors.js';
import { defaultOptions, optionsFromEnv, resolveOptions } from '../src/runtime/options.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(
      isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'),
      `expected JAMEY_ERR_INVALID_OPTION, got ${String(err)}`,
    );
    return err.details as string[];
  }
  assert.fail('expected an error');
}

test('defaults are the documented ones and the result is deeply frozen', () => {
  const o = resolveOptions();
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 8080);
  assert.equal(o.dataDir, './data');
  assert.deepEqual(o.mailbox, { capacity: 1000, overflow: 'reject' });
  assert.deepEqual(o.sendRetry, { initialDelayMs: 50, maxDelayMs: 500, factor: 2, maxRetries: 3 });
  assert.equal(o.supervision.strategy, 'one_for_one');
  assert.equal(o.supervision.maxRestarts, 5);
  assert.equal(o.supervision.withinMs, 10_000);
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.mailbox) && Object.isFrozen(o.pool));
  assert.throws(() => {
    (o.mailbox as { capacity: number }).capacity = 1;
  }, TypeError);
  assert.deepEqual(defaultOptions().mailbox, o.mailbox);
});

test('a message names the option, the expected value and what was given', () => {
  assert.deepEqual(
    problems(() => resolveOptions({ mailbox: { capacity: -5 } })),
    ['option "mailbox.capacity" must be an integer from 1 to 10000000, got -5'],
  );
  assert.deepEqual(
    problems(() => resolveOptions({ mailbox: { overflow: 'drop-all' as never } })),
    ['option "mailbox.overflow" must be one of "reject", "drop-oldest", "drop-newest", got "drop-all"'],
  );
  assert.deepEqual(
    problems(() => resolveOptions({ supervision: { strategy: 'all_for_one' as never } })),
    [
      'option "supervision.strategy" must be one of "one_for_one", "one_for_all", "rest_for_one", got "all_for_one"',
    ],
  );
});

test('every problem is listed in one pass, unknown options included', () => {
  const p = problems(() =>
    resolveOptions({ port: 70_000, host: '', sendRetry: { factor: 0.5 }, bogus: 1 } as never),
  );
  assert.equal(p.length, 4);
  assert.ok(p.includes('unknown option "bogus"'));
  assert.ok(p.some((m) => m.startsWith('option "port" must be an integer from 0 to 65535, got 70000')));
  assert.ok(p.some((m) => m.startsWith('option "host" must be a non-empty string')));
  assert.ok(p.some((m) => m.startsWith('option "sendRetry.factor" must be a number from 1 to 100, got 0.5')));
});

test('retry max delay must not be below the initial delay', () => {
  const p = problems(() => resolveOptions({ sendRetry: { initialDelayMs: 100, maxDelayMs: 10 } }));
  assert.deepEqual(p, [
    'option "sendRetry.maxDelayMs" must be at least sendRetry.initialDelayMs (100), got 10',
  ]);
});

test('the environment sets host, port, data dir and log level; a non-numeric port is reported', () => {
  const o = resolveOptions(
    optionsFromEnv({
      JAMEY_HOST: '0.0.0.0',
      JAMEY_PORT: '9090',
      JAMEY_DATA_DIR: '/var/lib/jamey',
      JAMEY_LOG_LEVEL: 'warn',
    }),
  );
  assert.equal(o.host, '0.0.0.0');
  assert.equal(o.port, 9090);
  assert.equal(o.dataDir, '/var/lib/jamey');
  assert.equal(o.logLevel, 'warn');
  assert.deepEqual(
    problems(() => resolveOptions(optionsFromEnv({ JAMEY_PORT: '80a' }))),
    ['option "port" must be an integer from 0 to 65535, got "80a"'],
  );
});
