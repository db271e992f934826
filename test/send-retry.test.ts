import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, nominalDelay } from '../src/runtime/backoff.js';
import { isJameyError } from '../src/runtime/errors.js';
import { defaultOptions } from '../src/runtime/options.js';
import { gate, makeSystem, settle } from './fixtures/system.js';

const retry = defaultOptions().sendRetry;

test('backoff: 50 ms doubling, capped at 500 ms, jittered within [d/2, d]', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((a) => nominalDelay(retry, a)),
    [50, 100, 200, 400, 500, 500],
  );
  assert.equal(
    backoffDelay(retry, 0, () => 0),
    25,
  );
  assert.equal(
    backoffDelay(retry, 0, () => 1),
    50,
  );
  assert.equal(
    backoffDelay(retry, 2, () => 0.5),
    150,
  );
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(retry, 3);
    assert.ok(d >= 200 && d <= 400);
  }
});

async function fullActor(random: () => number) {
  const { system, clock } = makeSystem({ capacity: 1, random });
  const release = gate();
  const ref = system.spawn<string, string>({
    name: 'full',
    start: () => ({
      receive: async (m) => {
        await release.promise;
        return m;
      },
    }),
  });
  await system.start();
  ref.tell('in-handler');
  await settle();
  ref.tell('queued');
  return { system, clock, ref, release };
}

test('send retries a full mailbox 3 times at 50, 100, 200 ms, then fails with the code', async () => {
  const { clock, ref, release } = await fullActor(() => 1);
  const t0 = clock.now();
  let failedAt: number | undefined;
  const outcome = ref.send('later').then(
    () => 'sent',
    (err: unknown) => {
      failedAt = clock.now();
      return err;
    },
  );
  for (const step of [49, 1, 99, 1, 199]) {
    await clock.advanceAsync(step);
    assert.equal(failedAt, undefined, `still retrying at +${clock.now() - t0} ms`);
  }
  await clock.advanceAsync(1);
  assert.ok(isJameyError(await outcome, 'JAMEY_ERR_MAILBOX_FULL'));
  assert.equal(failedAt !== undefined ? failedAt - t0 : -1, 350);
  release.open();
});

test('send succeeds on the retry after room appears', async () => {
  const { clock, ref, release, system } = await fullActor(() => 0);
  const p = ref.send('later');
  await clock.advanceAsync(25); // first retry at 25 ms (jitter 0): still full
  release.open();
  await settle();
  await clock.advanceAsync(50); // second retry at +50 ms: room now
  assert.equal(await p, true);
  await settle();
  assert.equal(system.host('full')?.processed, 3);
});

test('ask retries a full mailbox too, and fails with the code when it stays full', async () => {
  const { clock, ref, release } = await fullActor(() => 1);
  const outcome = ref.ask('x').catch((err: unknown) => err);
  await clock.advanceAsync(350);
  assert.ok(isJameyError(await outcome, 'JAMEY_ERR_MAILBOX_FULL'));
  await assert.rejects(ref.ask('y', { retry: false }), (err) => isJameyError(err, 'JAMEY_ERR_MAILBOX_FULL'));
  release.open();
});
