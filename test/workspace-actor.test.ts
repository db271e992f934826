/**
 * The workspace actor on a manual clock with a real store: cycles every cycleMs while candidates
 * wait, fan-out to every subscriber, a slow subscriber that cannot stall the others, and the
 * broadcast history across a restart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store } from '../src/actors/store/store.js';
import {
  type Broadcast,
  createWorkspaceActor,
  HISTORY_QUERIES,
  isActorRunning,
  type WorkspaceActor,
  WorkspaceClient,
  type WorkspaceOptions,
  workspacePruner,
  workspaceWriters,
} from '../src/actors/workspace/index.js';
import type { ActorSpec } from '../src/runtime/actor.js';
import { flushMicrotasks, ManualClock } from '../src/runtime/clock.js';
import { createRuntime, type Runtime } from '../src/runtime/runtime.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-workspace-');
after(() => tmp.cleanup());

const DAY = 86_400_000;

interface Rig {
  runtime: Runtime;
  store: Store;
  actor: WorkspaceActor;
  client: WorkspaceClient;
  clock: ManualClock;
}

async function rig(
  file: string,
  clock: ManualClock,
  options: WorkspaceOptions,
  extra: ActorSpec<unknown, unknown>[] = [],
): Promise<Rig> {
  const runtime = createRuntime(
    { logLevel: 'silent', pool: { maxThreads: 1 } },
    { clock, defaultMetrics: false },
  );
  const store = new Store({
    file,
    maintenanceIntervalMs: 0,
    writers: { workspace: workspaceWriters },
    pruners: { workspace: workspacePruner(7 * DAY) },
    now: () => clock.now(),
  });
  store.register(runtime);
  for (const spec of extra) runtime.spawn(spec);
  const actor = createWorkspaceActor({
    store,
    isRunning: (name) => isActorRunning(runtime.system, name),
    options,
  });
  const client = new WorkspaceClient(runtime.spawn(actor));
  await runtime.start();
  return { runtime, store, actor, client, clock };
}

/** An actor that keeps what it receives. */
function recorder(name: string, into: unknown[]): ActorSpec<unknown, unknown> {
  return {
    name,
    start: () => ({
      receive(m) {
        into.push(m);
      },
    }),
  };
}

const strong = (content: string) => ({ source: 'test', content, salience: { priority: 1, surprise: 3 } });

test('the workspace cycles every cycleMs on the clock while candidates wait, and idles when none do', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  const r = await rig(join(tmp.dir, 'cycles.db'), clock, { cycleMs: 100, subscribers: [] });
  try {
    // Too weak to ignite: they stay and compete every cycle.
    r.client.post({ source: 'test', content: 'a faint idea', salience: { priority: 0.1 } });
    r.client.post({ source: 'test', content: 'another faint idea', salience: { priority: 0.2 } });
    await flushMicrotasks();
    clock.advance(99);
    await flushMicrotasks();
    assert.equal((await r.client.state()).counters.cycles, 0, 'not before cycleMs');
    clock.advance(1);
    await flushMicrotasks();
    let s = await r.client.state();
    assert.equal(s.counters.cycles, 1);
    assert.equal(s.counters.ignitionFailures, 1);
    for (let i = 0; i < 4; i++) {
      clock.advance(100);
      await flushMicrotasks();
    }
    s = await r.client.state();
    assert.equal(s.counters.cycles, 5, 'one cycle per cycleMs');
    assert.equal(s.candidates, 2);
    // A strong post wins on the next timer cycle, without anyone asking.
    r.client.post(strong('the kettle is boiling'));
    await flushMicrotasks();
    clock.advance(100);
    await flushMicrotasks();
    s = await r.client.state();
    assert.equal(s.counters.broadcasts, 1);
    assert.equal(s.focus?.content, 'the kettle is boiling');
    // Once every candidate has faded, no more cycles run.
    clock.advance(60_000);
    await flushMicrotasks();
    const settled = (await r.client.state()).counters.cycles;
    clock.advance(10_000);
    await flushMicrotasks();
    const after = await r.client.state();
    assert.equal(after.candidates, 0);
    assert.equal(after.counters.cycles, settled, 'an empty workspace does not cycle');
    assert.equal(after.counters.dropped.faded, 2);
  } finally {
    await r.runtime.close();
  }
});

test('a broadcast reaches every subscriber; a slow one loses its own oldest broadcasts and delays nobody', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  const fast: unknown[] = [];
  const other: unknown[] = [];
  const slowGot: unknown[] = [];
  const releases: Array<() => void> = [];
  const slow: ActorSpec<unknown, unknown> = {
    name: 'slow',
    mailbox: { capacity: 2 },
    start: () => ({
      receive(m) {
        slowGot.push(m);
        return new Promise<void>((resolve) => releases.push(resolve));
      },
    }),
  };
  const r = await rig(
    join(tmp.dir, 'fanout.db'),
    clock,
    { cycleMs: 100, subscriberQueue: 3, subscribers: ['fast', 'other', 'slow', 'ghost'] },
    [recorder('fast', fast), recorder('other', other), slow],
  );
  try {
    const seen: Broadcast[] = [];
    const unsubscribe = r.client.subscribe((b) => seen.push(b), 'library');
    for (let i = 1; i <= 10; i++) {
      r.client.post(strong(`event number ${i}`));
      const report = await r.client.cycle();
      assert.equal(report.broadcast, true);
      assert.deepEqual(report.broadcastTo.sort(), ['fast', 'library', 'other', 'slow']);
      await flushMicrotasks();
      assert.equal(fast.length, i, 'the fast subscriber has every broadcast at once');
    }
    assert.equal(other.length, 10);
    assert.equal(seen.length, 10);
    assert.deepEqual(fast[0], { type: 'broadcast', broadcast: seen[0] });
    assert.equal(seen[9]?.content, 'event number 10');
    // slow: 1 being handled, 2 in its mailbox, 3 waiting in its subscription queue, 4 dropped (oldest first).
    assert.equal(slowGot.length, 1);
    const s = await r.client.state();
    const slowStatus = s.subscribers.find((x) => x.name === 'slow');
    assert.deepEqual(slowStatus && { pending: slowStatus.pending, dropped: slowStatus.dropped }, {
      pending: 3,
      dropped: 4,
    });
    assert.equal(s.counters.dropped['subscriber-overflow'], 4);
    assert.equal(r.actor.subscriberDrops().get('slow'), 4);
    assert.equal(s.counters.dropped['subscriber-absent'], 10, 'the absent subscriber was skipped each time');
    assert.equal(r.actor.subscriberDrops().get('ghost'), 10);
    // When the slow one catches up, the waiting broadcasts follow in order: 2, 3, then 8, 9, 10.
    for (let k = 0; k < 10 && releases.length > 0; k++) {
      for (const release of releases.splice(0)) release();
      await flushMicrotasks();
      await r.client.cycle();
      await flushMicrotasks();
    }
    assert.deepEqual(
      slowGot.map((m) => (m as { broadcast: Broadcast }).broadcast.content.replace('event number ', '')),
      ['1', '2', '3', '8', '9', '10'],
    );
    unsubscribe();
    r.client.post(strong('after unsubscribing'));
    await r.client.cycle();
    await flushMicrotasks();
    assert.equal(seen.length, 10, 'no broadcast after unsubscribe');
    assert.equal(fast.length, 11);
  } finally {
    for (const release of releases.splice(0)) release();
    await r.runtime.close();
  }
});

test('memory and predictive subscribers get their own message shapes', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  const memory: unknown[] = [];
  const predictive: unknown[] = [];
  const r = await rig(join(tmp.dir, 'shapes.db'), clock, { subscribers: ['memory', 'predictive'] }, [
    recorder('memory', memory),
    recorder('predictive', predictive),
  ]);
  try {
    r.client.post({ ...strong('we moved to Leipzig'), entity: 'me' });
    await r.client.cycle();
    await flushMicrotasks();
    assert.deepEqual(memory, [
      {
        op: 'store',
        input: { layer: 'episodic', content: 'we moved to Leipzig', entityId: 'me', source: 'workspace' },
      },
    ]);
    assert.deepEqual(predictive, [{ type: 'learn', text: 'we moved to Leipzig', entity: 'me' }]);
  } finally {
    await r.runtime.close();
  }
});

test('a chat turn posted the way the chat path posts it (low lane, with postedAt) competes and is broadcast', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  const r = await rig(join(tmp.dir, 'chat.db'), clock, { subscribers: [] });
  try {
    r.runtime.actor('workspace').tell(
      {
        type: 'post',
        candidate: {
          source: 'chat',
          content: 'why is the sky green today',
          entity: 'ana',
          salience: { surprise: 2, priority: 0.5, conscience: 'flag' },
          postedAt: 0,
        },
      },
      { priority: 'low' },
    );
    await flushMicrotasks();
    clock.advance(100);
    await flushMicrotasks();
    const s = await r.client.state();
    assert.equal(s.focus?.content, 'why is the sky green today', 'broadcast by the timer cycle');
    assert.equal(s.focus?.source, 'chat');
    assert.equal(s.focus?.entity, 'ana');
    assert.equal(s.lastSurprise, 2);
    assert.ok((s.focus?.activation ?? 0) > 0.5, "stamped with the workspace clock, not the poster's");
  } finally {
    await r.runtime.close();
  }
});

test('broadcast history is persisted, reloaded after a restart, and pruned by age', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25));
  const file = join(tmp.dir, 'history.db');
  const first = await rig(file, clock, { subscribers: [] });
  for (const c of ['first thought', 'second thought', 'third thought']) {
    first.client.post({ ...strong(c), entity: 'me' });
    await first.client.cycle();
    clock.advance(10);
  }
  const before = await first.client.state();
  assert.equal(before.broadcasts.length, 3);
  await first.runtime.close();

  const second = await rig(file, clock, { subscribers: [] });
  try {
    const s = await second.client.state();
    assert.equal(s.focus?.content, 'third thought', 'the last broadcast is the focus again');
    assert.deepEqual(
      s.broadcasts.map((b) => [b.seq, b.content, b.entity, b.at, b.competitors]),
      before.broadcasts.map((b) => [b.seq, b.content, b.entity, b.at, b.competitors]),
    );
    assert.ok(Math.abs((s.broadcasts[0]?.activation ?? 0) - (before.broadcasts[0]?.activation ?? 1)) < 1e-9);
    second.client.post(strong('a new thought'));
    await second.client.cycle();
    assert.equal((await second.client.state()).broadcasts[0]?.seq, 4, 'numbering continues');
    await flushMicrotasks();
    clock.advance(8 * DAY);
    const report = await second.store.maintain(['prune']);
    assert.equal(report.pruned['workspace'], 4, 'older than the retention');
    const rows = second.store.reader.statement('SELECT count(*) AS n FROM workspace_broadcasts').get() as {
      n: number;
    };
    assert.equal(rows.n, 0);
    // Both query paths have an index behind them.
    const plan = (sql: string) =>
      (second.store.reader.statement(`EXPLAIN QUERY PLAN ${sql}`).all(0) as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('; ');
    assert.match(
      plan('DELETE FROM workspace_broadcasts WHERE at < ?'),
      /USING (COVERING )?INDEX workspace_broadcasts_at/,
    );
    assert.doesNotMatch(plan(HISTORY_QUERIES.recent), /TEMP B-TREE/);
  } finally {
    await second.runtime.close();
  }
});

test('options are checked once, naming the option', () => {
  assert.throws(
    () => createWorkspaceActor({ isRunning: () => false, options: { cycleMs: 0 } }),
    /option "cycleMs" must be a positive number, got 0/,
  );
  assert.throws(
    () => createWorkspaceActor({ isRunning: () => false, options: { threshold: 2 } }),
    /option "threshold" must be from 0 to 1, got 2/,
  );
});
