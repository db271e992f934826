/**
 * The predictive actor: scores that arrive together go to the pool as one task, every score is
 * taken against the published snapshot it names (never against a model half-way through
 * learning), and an entity evicted from memory comes back from the store with what it learned.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createPredictiveActor,
  type PredictiveActor,
  PredictiveClient,
  type PredictiveOptions,
  type PredictResult,
} from '../src/actors/predictive/actor.js';
import { TextModel } from '../src/actors/predictive/index.js';
import { predictiveWriters } from '../src/actors/predictive/persistence.js';
import { Store } from '../src/actors/store/store.js';
import { createRuntime, type Runtime } from '../src/runtime/runtime.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-predictive-actor-');
after(() => tmp.cleanup());

async function start(
  options: PredictiveOptions,
  withStore = false,
): Promise<{ runtime: Runtime; client: PredictiveClient; actor: PredictiveActor }> {
  const runtime = createRuntime({ logLevel: 'silent', pool: { maxThreads: 1 } }, { defaultMetrics: false });
  let store: Store | undefined;
  if (withStore) {
    store = new Store({
      file: join(tmp.dir, `p-${Date.now()}.db`),
      writers: { predictive: predictiveWriters },
    });
    store.register(runtime);
  }
  const actor = createPredictiveActor({
    pool: runtime.pool,
    clock: runtime.clock,
    ...(store === undefined ? {} : { store }),
    options: { globalModelBytes: 1 << 20, saveIntervalMs: 0, ...options },
  });
  const client = new PredictiveClient(runtime.spawn(actor));
  await runtime.start();
  return { runtime, client, actor };
}

const SENTENCES = [
  'The meeting moved to Thursday at ten.',
  'Please bring the signed contract and two copies.',
  'Dana will present the quarterly figures.',
  'Lunch is on the third floor after the meeting.',
  'The projector in room B is still broken.',
];

describe('predictive actor', () => {
  it('scores that arrive in one turn share one pool task', async () => {
    const { runtime, client } = await start({});
    try {
      const before = runtime.pool.stats.completed;
      const n = 64;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          client.score({ text: SENTENCES[i % SENTENCES.length]!, learn: false }),
        ),
      );
      const stats = await client.stats();
      const tasks = runtime.pool.stats.completed - before;
      assert.equal(stats.scored, n);
      assert.equal(stats.poolTasks, tasks, 'the actor counts what the pool ran');
      assert.ok(tasks >= 1 && tasks <= 2, `${n} concurrent scores took ${tasks} pool tasks`);
      for (let i = 0; i < n; i++) {
        assert.equal(results[i]!.text.bits, results[i % SENTENCES.length]!.text.bits, 'same text, same bits');
      }
    } finally {
      await runtime.close();
    }
  });

  it('scores taken while the model learns equal scores against the published snapshot', async () => {
    // No snapshot is published by count or time during the test: only when asked.
    const { runtime, client } = await start({
      snapshotEveryMessages: 1_000_000,
      snapshotEveryMs: 86_400_000,
    });
    try {
      for (const s of SENTENCES) client.learn(s);
      const snap = await client.snapshot();
      const frozen = new TextModel(snap.buffer, { readOnly: true });
      const asks: Array<Promise<PredictResult>> = [];
      for (let round = 0; round < 4; round++) {
        for (const s of SENTENCES) {
          asks.push(client.score({ text: s, entity: `e${round}` }));
          client.learn(`${s} (round ${round})`);
        }
        // Some scores in a later turn, after learning has happened on the actor.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const results = await Promise.all(asks);
      results.forEach((r, i) => {
        const text = SENTENCES[i % SENTENCES.length]!;
        assert.equal(r.text.snapshot, snap.version);
        assert.equal(r.text.bits, frozen.score(text).bits, `score ${i} equals the snapshot's`);
      });
      const stats = await client.stats();
      assert.equal(stats.learnedMessages, SENTENCES.length * 9, 'the live model did learn meanwhile');
      const next = await client.snapshot();
      assert.ok(next.version > snap.version);
      const later = await client.score({ text: SENTENCES[0]!, learn: false });
      assert.equal(later.text.snapshot, next.version);
      assert.ok(later.text.bits < results[0]!.text.bits, 'the next snapshot carries what was learned');
    } finally {
      await runtime.close();
    }
  });

  it('snapshots published while scores are in flight reuse a few buffers', async () => {
    const { runtime, client } = await start({ snapshotEveryMessages: 1, snapshotEveryMs: 86_400_000 });
    try {
      const asks: Array<Promise<PredictResult>> = [];
      for (let round = 0; round < 60; round++) {
        client.learn(`${SENTENCES[round % SENTENCES.length]} (round ${round})`);
        // Each turn publishes what the one before learned, with other scores still in flight.
        asks.push(client.score({ text: SENTENCES[round % SENTENCES.length]!, learn: false }));
        if (round % 2 === 1) await asks[round - 1];
      }
      await Promise.all(asks);
      const stats = await client.stats();
      assert.ok(stats.snapshot >= 20, `published ${stats.snapshot} snapshots`);
      assert.ok(
        stats.snapshotBuffers <= 4,
        `${stats.snapshotBuffers} buffers for ${stats.snapshot} snapshots`,
      );
      // A handed-out snapshot is never written again.
      const held = await client.snapshot();
      const bytes = new Uint8Array(held.buffer).slice();
      for (let round = 0; round < 10; round++) {
        client.learn(`more text ${round}`);
        await client.score({ text: 'probe', learn: false });
      }
      assert.ok((await client.stats()).snapshot > held.version);
      assert.deepEqual(new Uint8Array(held.buffer), bytes);
    } finally {
      await runtime.close();
    }
  });

  it('an evicted entity is saved and reloaded with what it learned', async () => {
    const { runtime, client, actor } = await start({ maxEntities: 1 }, true);
    try {
      const text = 'Entity-specific phrasing: zyxwv quokka marmalade protocol.';
      const fresh = await client.score({ text, entity: 'a', learn: false });
      for (let i = 0; i < 5; i++) await client.score({ text, entity: 'a', at: i * 1000 });
      await client.score({ text: 'something else', entity: 'b' });
      assert.deepEqual(actor.modelCounts(), { global: 1, entity: 1 }, 'the cap holds');
      const back = await client.score({ text, entity: 'a', at: 5000, learn: false });
      assert.ok(back.text.entityBpc !== null && fresh.text.entityBpc !== null);
      assert.ok(
        back.text.entityBpc < fresh.text.entityBpc / 3,
        `${fresh.text.entityBpc} → ${back.text.entityBpc}`,
      );
      assert.ok(back.timing !== null && back.timing.intervalMs === 1000, 'the timing model came back');
    } finally {
      await runtime.close();
    }
  });
});
