import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { detectorVocabulary } from '../src/actors/conscience/detectors/lexicon.js';
import { evaluate, LIGHT, normalise, toOriginalSpan } from '../src/actors/conscience/index.js';

const vocabulary = detectorVocabulary();
const fold = (s: string): string => normalise(s, { vocabulary }).text;

test('Unicode compatibility forms, case and look-alike letters fold to ASCII', () => {
  assert.equal(fold('ＨＯＷ ＴＯ'), 'how to', 'fullwidth');
  assert.equal(fold('𝐤𝐢𝐥𝐥 𝓶𝓮'), 'kill me', 'mathematical bold and script');
  assert.equal(fold('kіll'), 'kill', 'Cyrillic і');
  assert.equal(fold('рοіѕοո'.slice(0, 5)), 'poiso', 'Cyrillic and Greek mixed');
  assert.equal(fold('BÖMB'), 'bomb', 'diacritics dropped');
  assert.equal(fold('k\u0336i\u0336l\u0336l\u0336'), 'kill', 'combining strike-through dropped');
  assert.equal(fold('ﬁre'), 'fire', 'ligature');
  assert.equal(fold('it\u2019s'), "it's", 'curly apostrophe');
});

test('zero-width and other invisible characters are removed', () => {
  assert.equal(fold('k\u200bi\u200cl\u200dl'), 'kill');
  assert.equal(fold('bo\u2060mb\ufeff'), 'bomb');
  assert.equal(fold('b\u00adomb'), 'bomb', 'soft hyphen');
});

test('leetspeak decodes inside words that contain letters, and only there', () => {
  assert.equal(fold('h0w t0 m4ke a b0mb'), 'how to make a bomb');
  assert.equal(fold('p@$$w0rd'), 'password');
  assert.equal(fold('k1ll'), 'kill');
  assert.equal(fold('ki11'), 'kill', 'the vocabulary picks 1 → l');
  assert.equal(fold('su1c1de'), 'suicide');
  assert.equal(fold('kill -9 1234'), 'kill -9 1234', 'numbers without letters are left alone');
  assert.equal(fold('wow!'), 'wow!', 'trailing punctuation is not a letter');
  assert.equal(fold('costs $50'), 'costs $50');
  assert.equal(
    fold('enable 2fa, print in 3d at 5pm on the 3rd'),
    'enable 2fa, print in 3d at 5pm on the 3rd',
  );
});

test('spaced and punctuated letters join; wide gaps and vocabulary split words', () => {
  assert.equal(fold('k i l l'), 'kill');
  assert.equal(fold('k.i.l.l'), 'kill');
  assert.equal(fold('k-i-l-l'), 'kill');
  assert.equal(fold('k_i_l_l  h i m'), 'kill him');
  assert.equal(fold('h o w t o m a k e a b o m b'), 'how to make a bomb');
  assert.equal(fold('I am a b c'), 'i am abc', 'two single letters do not start a run');
  assert.equal(fold('a b'), 'a b');
});

test('repeated letters shorten, keeping real double letters', () => {
  assert.equal(fold('kiiiiill'), 'kill');
  assert.equal(fold('kiill'), 'kill');
  assert.equal(fold('sooooo good'), 'so good');
  assert.equal(fold('bomb'), 'bomb');
  assert.equal(fold('all good'), 'all good');
  assert.equal(fold('getting swimming'), 'getting swimming', 'a suffix match does not drop a real double');
});

test('the light view keeps values intact', () => {
  const n = normalise('Key: sk-AbC\u200b123 and ４１１１', LIGHT);
  assert.equal(n.text, 'Key: sk-AbC123 and 4111');
});

test('spans map back to the original text', () => {
  const text = 'Please h\u200b0w t0 m4ke a 𝐛𝐨𝐦𝐛 now';
  const n = normalise(text, { vocabulary });
  const at = n.text.indexOf('bomb');
  assert.ok(at > 0);
  const [s, e] = toOriginalSpan(n, at, at + 4);
  assert.equal(text.slice(s, e), '𝐛𝐨𝐦𝐛');
  const how = n.text.indexOf('how');
  const [hs, he] = toOriginalSpan(n, how, how + 3);
  assert.equal(text.slice(hs, he), 'h\u200b0w');
  const r = evaluate(text);
  assert.equal(r.verdict, 'block');
  assert.ok(
    r.reasons.some((x) => x.excerpt.endsWith('𝐛𝐨𝐦𝐛')),
    JSON.stringify(r.reasons),
  );
});

// Strings biased towards the characters the normaliser rewrites.
const tricky = fc.constantFrom(
  'k',
  'i',
  'l',
  'b',
  'o',
  'm',
  'a',
  's',
  'e',
  'h',
  'w',
  't',
  ' ',
  '  ',
  '.',
  '-',
  '_',
  '!',
  '$',
  '@',
  '0',
  '1',
  '3',
  '4',
  '5',
  '7',
  '|',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u0336',
  'і',
  'о',
  'ο',
  'Ｋ',
  '𝐤',
  '🙂',
  'ß',
  'İ',
  'ﬁ',
  '\n',
  "'",
  '\u2019',
  'É',
  'kill',
  ' my ',
  'neighbour',
  'how to ',
  'make a ',
  'bomb',
  'myself',
  '\ud800',
);
const trickyText = fc
  .array(fc.oneof(tricky, fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 3 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

test('property: the offset map is monotone, in range and never splits a code point', () => {
  fc.assert(
    fc.property(trickyText, fc.boolean(), (text, light) => {
      const n = light ? normalise(text, LIGHT) : normalise(text, { vocabulary });
      assert.equal(n.starts.length, n.text.length);
      assert.equal(n.ends.length, n.text.length);
      for (let i = 0; i < n.text.length; i++) {
        const s = n.starts[i]!;
        const e = n.ends[i]!;
        assert.ok(s < e && e <= text.length, `unit ${i}: ${s}..${e} of ${text.length}`);
        if (i > 0) assert.ok(n.starts[i - 1]! <= s, 'monotone');
        const cp = text.codePointAt(s)!;
        if (cp > 0xffff) assert.ok(e >= s + 2, 'surrogate pair kept whole');
      }
    }),
    { numRuns: 400 },
  );
});

test('property: every reported span lies within the text and its excerpt is text.slice(span)', () => {
  fc.assert(
    fc.property(trickyText, fc.constantFrom('user' as const, 'assistant' as const), (text, role) => {
      const r = evaluate(text, { role });
      for (const reason of r.reasons) {
        const [s, e] = reason.span;
        assert.ok(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= text.length);
        assert.equal(reason.excerpt, text.slice(s, e));
      }
      assert.ok(r.score >= 0 && r.score <= 1);
    }),
    { numRuns: 400 },
  );
});
