import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import { gate, makeSystem, settle } from './fixtures/system.js';

test('receiveBatch gets everything queued (up to maxBatch) and answers each ask with its own result', async () => {
  const { system } = makeSystem();
  const batches: number[][] = [];
  const hold = gate();
  const ref = system.spawn<number, number>({
    name: 'writer',
    maxBatch: 4,
    start: () => ({
      receiveBatch: async (messages) => {
        if (messages[0] === -1) await hold.promise;
        batches.push([...messages]);
        return messages.map((n) =>
          n === 13
            ? { ok: false as const, error: new JameyError('JAMEY_ERR_VALIDATION', 'unlucky') }
            : { ok: true as const, value: n * 10 },
        );
      },
    }),
  });
  await system.start();
  const first = ref.ask(-1);
  await settle();
  const asks = [1, 2, 13, 4, 5, 6].map((n) => ref.ask(n));
  ref.tell(7);
  hold.open();
  assert.equal(await first, -10);
  const outcomes = await Promise.allSettled(asks);
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as JameyError).code)),
    [10, 20, 'JAMEY_ERR_VALIDATION', 40, 50, 60],
  );
  await settle();
  assert.deepEqual(batches, [[-1], [1, 2, 13, 4], [5, 6, 7]]);
  const host = system.host('writer');
  assert.equal(host?.processed, 8);
  assert.equal(host?.refused, 1);
});

test('a batch that throws fails every ask in it; a plain error is a crash and the actor restarts', async () => {
  const { system, clock } = makeSystem();
  let starts = 0;
  const ref = system.spawn<string, string>({
    name: 'batcher',
    start: () => {
      starts++;
      return {
        receiveBatch: (messages) => {
          if (messages.includes('refuse')) throw new JameyError('JAMEY_ERR_VALIDATION', 'refused batch');
          if (messages.includes('crash')) throw new Error('disk on fire');
          return messages.map((m) => ({ ok: true as const, value: m.toUpperCase() }));
        },
      };
    },
  });
  await system.start();
  await assert.rejects(ref.ask('refuse'), (err) => isJameyError(err, 'JAMEY_ERR_VALIDATION'));
  assert.equal(starts, 1);
  await assert.rejects(ref.ask('crash'), (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_CRASHED'));
  const after = ref.ask('after');
  await clock.advanceAsync(50);
  assert.equal(await after, 'AFTER');
  assert.equal(starts, 2);
});
