import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ACCEPTED, DROPPED, LANE, Mailbox, PRIORITIES, REJECTED } from '../src/runtime/mailbox.js';

test('critical > high > normal > low, FIFO within a lane', () => {
  const m = new Mailbox<string>(100, 'reject');
  m.offer('n1', LANE.normal);
  m.offer('l1', LANE.low);
  m.offer('h1', LANE.high);
  m.offer('c1', LANE.critical);
  m.offer('n2', LANE.normal);
  m.offer('h2', LANE.high);
  m.offer('c2', LANE.critical);
  m.offer('l2', LANE.low);
  assert.deepEqual(m.takeAll(), ['c1', 'c2', 'h1', 'h2', 'n1', 'n2', 'l1', 'l2']);
  assert.equal(m.size, 0);
});

test('property: the mailbox serves exactly what a sorted model serves', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('offer' as const), lane: fc.integer({ min: 0, max: 3 }) }),
          fc.constant({ op: 'shift' as const }),
        ),
        {
          maxLength: 300,
        },
      ),
      (ops) => {
        const m = new Mailbox<number>(1_000, 'reject');
        const model: Array<{ lane: number; seq: number }> = [];
        let seq = 0;
        for (const op of ops) {
          if (op.op === 'offer') {
            assert.equal(m.offer(seq, op.lane), ACCEPTED);
            model.push({ lane: op.lane, seq: seq++ });
          } else {
            model.sort((a, b) => a.lane - b.lane || a.seq - b.seq);
            const expected = model.shift();
            const got = m.size > 0 ? m.shift() : undefined;
            assert.equal(got, expected?.seq);
          }
          assert.equal(m.size, model.length);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('reject: a full mailbox refuses the new message and keeps the old ones', () => {
  const m = new Mailbox<number>(3, 'reject');
  for (let i = 0; i < 3; i++) assert.equal(m.offer(i), ACCEPTED);
  assert.equal(m.offer(99), REJECTED);
  assert.equal(m.offer(100, LANE.critical), REJECTED);
  assert.equal(m.rejected, 2);
  assert.deepEqual(m.takeAll(), [0, 1, 2]);
});

test('drop-oldest: evicts the oldest of the lowest non-empty lane, never a higher-priority one', () => {
  const dropped: Array<[number, string]> = [];
  const m = new Mailbox<number>(3, 'drop-oldest', (msg, reason) => dropped.push([msg, reason]));
  m.offer(1, LANE.high);
  m.offer(2, LANE.low);
  m.offer(3, LANE.low);
  assert.equal(m.offer(4, LANE.normal), ACCEPTED); // evicts 2, the oldest low
  assert.deepEqual(dropped, [[2, 'drop-oldest']]);
  assert.equal(m.offer(5, LANE.normal), ACCEPTED); // evicts 3
  // Now high(1), normal(4,5): a low message outranked by everything queued is itself dropped.
  assert.equal(m.offer(6, LANE.low), DROPPED);
  assert.equal(m.offer(7, LANE.normal), ACCEPTED); // evicts 4, the oldest normal
  assert.deepEqual(
    dropped.map(([msg]) => msg),
    [2, 3, 6, 4],
  );
  assert.equal(m.dropped, 4);
  assert.equal(m.size, 3);
  assert.deepEqual(m.takeAll(), [1, 5, 7]);
});

test('drop-newest: a full mailbox drops the arriving message', () => {
  const dropped: number[] = [];
  const m = new Mailbox<number>(2, 'drop-newest', (msg) => dropped.push(msg));
  m.offer(1);
  m.offer(2);
  assert.equal(m.offer(3, LANE.critical), DROPPED);
  assert.deepEqual(dropped, [3]);
  assert.deepEqual(m.takeAll(), [1, 2]);
  assert.equal(m.enqueued, 2);
});

test('capacity counts all lanes together', () => {
  const m = new Mailbox<string>(4, 'reject');
  for (const p of PRIORITIES) assert.equal(m.offer(p, LANE[p]), ACCEPTED);
  assert.equal(m.offer('x', LANE.critical), REJECTED);
  assert.equal(m.depth(LANE.low), 1);
});
