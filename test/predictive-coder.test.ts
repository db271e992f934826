/**
 * The arithmetic coder driven by the text model: exact round trips (also for arbitrary Unicode,
 * checked with fast-check), and a code length equal to the model's surprisal within the coder's
 * rounding and its one flushed byte.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  byteLength,
  decode,
  encode,
  encodeWithBits,
  TEXT_MODEL_MIN_BYTES,
  TextModel,
} from '../src/actors/predictive/index.js';

const prose = readFileSync(
  new URL('../../test/fixtures/predictive/devil-sample.txt', import.meta.url),
  'utf8',
);

describe('arithmetic coder', () => {
  it('decode(encode(x)) === x and the code is as long as the surprisal, within a few bytes', () => {
    const text = prose.slice(0, 12_000);
    const code = encode(text, new TextModel({ sizeBytes: 1024 * 1024 }));
    const decoded = decode(code, byteLength(text), new TextModel({ sizeBytes: 1024 * 1024 }));
    assert.equal(decoded, text);
    const { bits } = new TextModel({ sizeBytes: 1024 * 1024 }).scoreAndLearn(text);
    const codeBits = code.length * 8;
    assert.ok(codeBits >= bits - 32, `code ${codeBits} bits below the surprisal ${bits}`);
    assert.ok(codeBits - bits <= 6 * 8, `code ${codeBits} bits, surprisal ${bits.toFixed(1)}`);
    assert.ok(codeBits < Buffer.byteLength(text) * 8 * 0.5, 'it compresses');
  });

  it('the coder is driven by exactly the probabilities that score the text', () => {
    const text = new TextEncoder().encode(prose.slice(2000, 9000));
    const scorer = new TextModel({ sizeBytes: 1024 * 1024 });
    const per = new Float64Array(text.length);
    const scored = scorer.scoreAndLearn(text, per);
    const { code, bits } = encodeWithBits(text, new TextModel({ sizeBytes: 1024 * 1024 }));
    assert.equal(bits, scored.bits, 'same surprisal, bit for bit');
    assert.equal(
      per.reduce((s, v) => s + v, 0),
      bits,
    );
    // The decoder's implied 0xff padding can stand in for up to a few trailing bytes.
    assert.ok(code.length * 8 >= bits - 32, `${code.length} bytes for ${bits.toFixed(1)} bits`);
    assert.ok(code.length <= Math.ceil(bits / 8) + 4, `${code.length} bytes for ${bits.toFixed(1)} bits`);
  });

  it('a frozen model codes without changing, and a second copy of a learned text codes shorter', () => {
    const model = new TextModel({ sizeBytes: 1024 * 1024 });
    const text = prose.slice(0, 3000);
    const first = encode(text, model);
    const before = model.serialize();
    const again = encode(text, model, { learn: false });
    assert.deepEqual(model.serialize(), before);
    assert.ok(again.length < first.length / 2, `${again.length} vs ${first.length}`);
    assert.equal(decode(again, byteLength(text), model, { learn: false }), text);
    const frozenBits = model.score(text).bits;
    assert.ok(Math.abs(again.length * 8 - frozenBits) <= 6 * 8);
  });

  it('a decoder with a differently trained model does not recover the text', () => {
    const text = prose.slice(0, 2000);
    const code = encode(text, new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES }));
    const other = new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES });
    other.learn('completely different training text');
    let out: string | undefined;
    try {
      out = decode(code, byteLength(text), other);
    } catch {
      out = undefined;
    }
    assert.notEqual(out, text);
  });

  it('round trips arbitrary strings, including non-ASCII, empty and repetitive ones', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ unit: fc.constantFrom('a', 'b', 'é', '日', '😀', ' '), maxLength: 400 }),
        ),
        (text) => {
          const code = encode(text, new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES }));
          const back = decode(code, byteLength(text), new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES }));
          assert.equal(back, text);
          const bits = new TextModel({ sizeBytes: TEXT_MODEL_MIN_BYTES }).scoreAndLearn(text).bits;
          assert.ok(code.length * 8 <= bits + 6 * 8 + 8);
        },
      ),
      { numRuns: 60 },
    );
  });
});
