/**
 * The text level's context-mixing model: scoring leaves the model unchanged, learning makes a text
 * less surprising, per-symbol surprisals add up, the state survives serialisation and a
 * read-only snapshot, memory stays within its bound, and on English prose it beats gzip.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TEXT_MODEL_MIN_BYTES, TextModel } from '../src/actors/predictive/index.js';
import { mulberry32 } from '../src/runtime/random.js';

const prose = readFileSync(
  new URL('../../test/fixtures/predictive/devil-sample.txt', import.meta.url),
  'utf8',
);
const SMALL = 256 * 1024;

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('text model', () => {
  it('an empty model gives about 8 bits per byte and score() leaves it unchanged', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    const before = m.serialize();
    const r = m.score('hello, world');
    assert.equal(r.chars, 12);
    assert.ok(r.bpc > 7 && r.bpc < 9, `untrained bpc ${r.bpc}`);
    assert.ok(sameBytes(before, m.serialize()), 'score() wrote to the model');
    assert.deepEqual(m.score('hello, world'), r, 'the same text scores the same');
    assert.equal(m.learnedBytes, 0);
  });

  it('a text is less surprising once learned, and a learned text more than an unrelated one', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    const text = 'The quick brown fox jumps over the lazy dog. ';
    const first = m.scoreAndLearn(text);
    const second = m.score(text);
    assert.ok(second.bits < first.bits / 2, `${second.bits} vs ${first.bits}`);
    const other = m.score('Zymurgy: quaint xylophones vex jocund wizards!');
    assert.ok(second.bpc < other.bpc);
    assert.equal(m.learnedBytes, Buffer.byteLength(text));
    assert.equal(m.learnedMessages, 1);
  });

  it('a message is scored from a fresh context: the score does not depend on what came before', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    m.learn(prose.slice(0, 4000));
    const a = m.score('A cynic is a blackguard');
    m.score('something else entirely');
    assert.deepEqual(m.score('A cynic is a blackguard'), a);
  });

  it('per-symbol surprisals add up to the total, frozen and adaptive', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    m.learn(prose.slice(0, 3000));
    const text = 'ABSURDITY, n.  A statement or belief manifestly inconsistent — naïve café';
    const bytes = new TextEncoder().encode(text);
    const per = m.symbolBits(text);
    assert.equal(per.length, bytes.length);
    const sum = per.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - m.score(text).bits) < 1e-9);
    assert.ok(per.every((b) => b > 0));
    const adaptive = new Float64Array(bytes.length);
    const r = m.clone().scoreAndLearn(bytes, adaptive);
    assert.ok(Math.abs(adaptive.reduce((s, v) => s + v, 0) - r.bits) < 1e-9);
    assert.equal(r.chars, bytes.length);
  });

  it('score() on a frozen snapshot predicts exactly as the learning loop does', () => {
    // score() has a loop of its own; the learning path (scoreAndLearn, the coder) runs another.
    const m = new TextModel({ sizeBytes: 1024 * 1024 });
    m.learn(prose.slice(0, 12_000));
    const frozen = new TextModel(m.snapshot(), { readOnly: true });
    const messages = prose
      .slice(12_000)
      .split('\n\n')
      .filter((t) => t.length > 0);
    messages.push('', 'x', 'naïve café — 日本語 😀', prose.slice(0, 2000), prose.slice(15_000));
    assert.ok(messages.length > 30);
    const encoder = new TextEncoder();
    const identity = { code: (_p: number, bit: number): number => bit };
    for (const text of messages) {
      const bytes = encoder.encode(text);
      const per = new Float64Array(bytes.length);
      const scored = frozen.score(bytes, per);
      // The learning loop with learning off, bit for bit the same sum.
      assert.deepEqual(frozen.codeBits(bytes.slice(), false, identity), scored);
      // The learning loop with learning on, on a copy of the same state: its first byte is
      // predicted before anything of the message is learned, so it costs exactly what score() says.
      if (bytes.length > 0) {
        const adaptive = new Float64Array(bytes.length);
        m.clone().scoreAndLearn(bytes, adaptive);
        assert.equal(adaptive[0], per[0]);
      }
    }
    // Learned text (the first 12 000 chars) is far less surprising than new text.
    const seen = frozen.score(prose.slice(0, 2000));
    const unseen = frozen.score(prose.slice(15_000, 17_000));
    assert.ok(seen.bpc < unseen.bpc / 2, `${seen.bpc} vs ${unseen.bpc}`);
  });

  it('English prose: fewer bits than gzip -9 on the same text', () => {
    const m = new TextModel({ sizeBytes: 4 * 1024 * 1024 });
    const r = m.scoreAndLearn(prose);
    const gzBits = gzipSync(prose, { level: 9 }).length * 8;
    assert.ok(
      r.bits < gzBits * 0.9,
      `model ${r.bpc.toFixed(3)} bpc, gzip ${(gzBits / r.chars).toFixed(3)} bpc`,
    );
    assert.ok(r.bpc < 3.5, `bpc ${r.bpc}`);
  });

  it('serialize/deserialize and a read-only snapshot score exactly as the original', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    m.learn(prose.slice(0, 6000));
    const probe = prose.slice(6000, 6600);
    const expected = m.score(probe);
    const restored = TextModel.deserialize(m.serialize());
    assert.deepEqual(restored.score(probe), expected);
    assert.equal(restored.learnedBytes, m.learnedBytes);
    const snap = m.snapshot();
    assert.ok(snap instanceof SharedArrayBuffer);
    const ro = new TextModel(snap, { readOnly: true });
    assert.deepEqual(ro.score(probe), expected);
    assert.throws(() => ro.learn('x'), /read-only/);
    // The snapshot is a copy: the owner keeps learning without disturbing it.
    m.learn(probe);
    assert.notDeepEqual(m.score(probe), expected);
    assert.deepEqual(ro.score(probe), expected);
    // Both continue identically after a restore.
    const a = m.clone();
    const b = TextModel.deserialize(m.serialize());
    assert.deepEqual(a.scoreAndLearn(prose.slice(0, 500)), b.scoreAndLearn(prose.slice(0, 500)));
  });

  it('rejects a buffer that is not a model, or a truncated one', () => {
    assert.throws(() => new TextModel(new ArrayBuffer(1024)), /magic/);
    const bytes = new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES }).serialize();
    assert.throws(() => TextModel.deserialize(bytes.subarray(0, bytes.length - 8)), /header/);
    assert.throws(() => new TextModel({ sizeBytes: 1000 }), RangeError);
  });

  it('refuses a buffer of another layout version (a model saved by older code) with a TypeError', () => {
    const m = new TextModel({ sizeBytes: SMALL });
    m.learn(prose.slice(0, 1000));
    const bytes = m.serialize();
    const header = new Int32Array(bytes.buffer, bytes.byteOffset, 16);
    header[1] = 1; // the first layout, before the word-pair context was dropped
    assert.throws(
      () => TextModel.deserialize(bytes),
      (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /version 1, expected \d+/);
        return true;
      },
    );
  });

  it('memory stays within the configured bound however much is learned', () => {
    for (const size of [SMALL, 1024 * 1024, 16 * 1024 * 1024]) {
      const m = new TextModel({ sizeBytes: size });
      assert.ok(m.sizeBytes <= size && m.sizeBytes > size / 4, `${m.sizeBytes} for ${size}`);
      assert.equal(m.serialize().length, m.sizeBytes);
    }
    const m = new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES });
    const rand = mulberry32(7);
    const noise = new Uint8Array(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
    m.learn(noise);
    m.learn(prose);
    assert.equal(m.serialize().length, m.sizeBytes);
    // Still a working model after the table overflowed many times.
    assert.ok(m.score(prose.slice(0, 2000)).bpc < 6);
  });
});
