import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createRuntimeInWorker, type EmbeddedRuntime } from '../src/runtime/embed.js';
import { isJameyError } from '../src/runtime/errors.js';

let embedded: EmbeddedRuntime | undefined;
after(() => embedded?.close());

test('a runtime embedded in a worker thread answers ask and tell from the host thread', async () => {
  embedded = await createRuntimeInWorker({
    setup: new URL('./fixtures/embed-setup.js', import.meta.url),
    options: { logLevel: 'silent' },
  });
  assert.equal(await embedded.ask('counter', { op: 'add', n: 2 }), 2);
  assert.equal(await embedded.tell('counter', { op: 'add', n: 3 }), true);
  assert.equal(await embedded.ask('counter', { op: 'get' }), 5);
  assert.equal(await embedded.ask('upper', 'jamey'), 'JAMEY');
  const health = await embedded.health();
  assert.equal(health.ready, true);
  assert.deepEqual(
    health.actors.map((a) => a.name),
    ['counter', 'upper'],
  );
  assert.match(await embedded.metrics(), /jamey_actor_messages_processed_total\{actor="counter"\} 3/);
});

test('errors keep their codes across the thread boundary', async () => {
  assert.ok(embedded);
  await assert.rejects(embedded.ask('counter', { op: 'bad' }), (err) =>
    isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
  await assert.rejects(embedded.ask('nobody', 1), (err) => isJameyError(err, 'JAMEY_ERR_ACTOR_NOT_FOUND'));
  await embedded.close();
  await embedded.close();
});

test('a setup module that does not export setup fails the start with a message', async () => {
  await assert.rejects(
    createRuntimeInWorker({
      setup: new URL('./fixtures/pool-tasks.js', import.meta.url),
      options: { logLevel: 'silent' },
    }),
    (err) => isJameyError(err) && /does not export a function "setup"/.test(err.message),
  );
});
