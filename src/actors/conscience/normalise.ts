/**
 * Text normalisation that undoes common obfuscation while remembering, for every character of the
 * result, which range of the original text produced it, so that detectors can work on the folded text
 * and still report spans into the original.
 *
 * Passes, in order (each optional, all on by default):
 * 1. fold: per code point, invisible and format characters (Default_Ignorable_Code_Point, Cf) are
 *    dropped, compatibility decomposition (the NFKD half of NFKC: fullwidth forms, mathematical
 *    alphanumerics, ligatures) is applied, combining marks are dropped (diacritics, "zalgo", combining
 *    strike-through), the result is case-folded and look-alike letters are folded with a Unicode TR39
 *    subset (see confusables.ts); newlines are kept (they end sentences), other whitespace becomes a
 *    space.
 * 2. spacing: three or more single letters separated by short runs of spaces or punctuation ("k i l l",
 *    "k.i.l.l", "k-i-l-l") are joined. A wider gap (two spaces, " / ") separates words; without one,
 *    a joined run is split into vocabulary words when it can be ("howtomakeabomb" → "how to make a bomb").
 * 3. words: inside a word that contains a letter, leetspeak digits and symbols become letters
 *    (0→o, 1→i/l, 3→e, 4→a, 5→s, 7→t, 8→b, 9→g, @→a, $→s, !→i, |→l) and runs of a repeated letter are
 *    shortened ("kiiill" → "kill"). Where a choice is ambiguous (1 as i or l, a doubled letter kept or
 *    not), the reading that is a vocabulary word wins. Runs of spaces become one space.
 *
 * Every output UTF-16 unit maps to a non-empty original range; ranges never split a surrogate pair.
 */
import { CONFUSABLES } from './confusables.js';

export interface Normalised {
  readonly original: string;
  readonly text: string;
  /** `starts[i]`..`ends[i]` is the original range that produced `text[i]`. */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
}

export interface NormaliseOptions {
  /** Case folding. @default true */
  caseFold?: boolean;
  /** TR39 look-alike folding. @default true */
  confusables?: boolean;
  /** Joining spaced-out letters. @default true */
  spacing?: boolean;
  /** Leetspeak decoding inside words. @default true */
  leet?: boolean;
  /** Shortening runs of a repeated letter. @default true */
  repeats?: boolean;
  /** Words that decide ambiguous readings and split joined letter runs. */
  vocabulary?: ReadonlySet<string>;
}

/** Options for the PII view: only invisible characters and compatibility forms are folded. */
export const LIGHT: Readonly<NormaliseOptions> = Object.freeze({
  caseFold: false,
  confusables: false,
  spacing: false,
  leet: false,
  repeats: false,
});

class Units {
  c: string[] = [];
  s: Uint32Array;
  e: Uint32Array;
  length = 0;
  constructor(capacity: number) {
    this.s = new Uint32Array(Math.max(16, capacity));
    this.e = new Uint32Array(Math.max(16, capacity));
  }
  push(c: string, s: number, e: number): void {
    if (this.length === this.s.length) {
      const s2 = new Uint32Array(this.length * 2);
      const e2 = new Uint32Array(this.length * 2);
      s2.set(this.s);
      e2.set(this.e);
      this.s = s2;
      this.e = e2;
    }
    this.c.push(c);
    this.s[this.length] = s;
    this.e[this.length] = e;
    this.length++;
  }
  pop(): void {
    this.c.pop();
    this.length--;
  }
}

const INVISIBLE = /^[\p{Default_Ignorable_Code_Point}\p{Cf}]$/u;
const MARKS = /\p{M}/gu;
const SPACE = /^\s$/u;

/** ASCII folded by table: the common case costs no string creation. Newlines survive as sentence ends. */
function asciiTable(caseFold: boolean, confusables: boolean): string[] {
  return Array.from({ length: 128 }, (_, cp) => {
    if (cp === 0x0a) return '\n';
    if (cp === 0x20 || cp === 0x09 || cp === 0x0d || cp === 0x0b || cp === 0x0c) return ' ';
    if (cp === 0x60 && confusables) return "'";
    const ch = String.fromCharCode(cp);
    return caseFold ? ch.toLowerCase() : ch;
  });
}
const ASCII_FOLDED = asciiTable(true, true);
const ASCII_AS_IS = asciiTable(false, false);

function fold(text: string, caseFold: boolean, confusables: boolean): Units {
  const u = new Units(text.length + 8);
  const table =
    caseFold && confusables
      ? ASCII_FOLDED
      : !caseFold && !confusables
        ? ASCII_AS_IS
        : asciiTable(caseFold, confusables);
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      u.push(table[code]!, i, i + 1);
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const end = i + (cp > 0xffff ? 2 : 1);
    const ch = text.slice(i, end);
    if (INVISIBLE.test(ch)) {
      i = end;
      continue;
    }
    if (SPACE.test(ch)) {
      u.push(' ', i, end);
      i = end;
      continue;
    }
    let out = ch.normalize('NFKD').replace(MARKS, '');
    if (caseFold) out = out.toLowerCase().replace(MARKS, '');
    if (confusables) {
      let mapped = '';
      for (const c of out) mapped += CONFUSABLES.get(c) ?? c;
      out = mapped;
    }
    for (let k = 0; k < out.length; k++) u.push(out[k]!, i, end);
    i = end;
  }
  return u;
}

const LEET: Readonly<Record<string, readonly string[]>> = {
  '0': ['o'],
  '1': ['i', 'l'],
  '2': ['z'],
  '3': ['e'],
  '4': ['a'],
  '5': ['s'],
  '6': ['g'],
  '7': ['t'],
  '8': ['b'],
  '9': ['g'],
  '@': ['a'],
  $: ['s'],
  '!': ['i', 'l'],
  '|': ['l', 'i'],
  '€': ['e'],
};

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c > '\u007f' && /\p{L}/u.test(c));
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isWordish(c: string): boolean {
  return isLetter(c) || isDigit(c) || c === '@' || c === '$';
}
const SEPARATORS = new Set([' ', '.', '-', '_', '*', '·', '•', '~', '/', "'", ',', '+']);

const SUFFIXES = ['s', 'es', 'ed', 'd', 'ing', 'er', 'ers', 'ly'];

/** True when the word, or the word less a common English suffix, is in the vocabulary. */
export function inVocabulary(word: string, vocabulary: ReadonlySet<string>): boolean {
  if (vocabulary.has(word)) return true;
  for (const s of SUFFIXES) {
    if (word.length > s.length + 2 && word.endsWith(s) && vocabulary.has(word.slice(0, -s.length)))
      return true;
  }
  return false;
}

function simpleLeet(c: string): string {
  return LEET[c]?.[0] ?? c;
}

/** Splits `word` into vocabulary words (fewest pieces), or returns undefined. */
function segment(word: string, vocabulary: ReadonlySet<string>): number[] | undefined {
  const n = word.length;
  if (n > 64) return undefined;
  const best: (number[] | undefined)[] = new Array(n + 1).fill(undefined);
  best[0] = [];
  for (let i = 1; i <= n; i++) {
    for (let j = Math.max(0, i - 20); j < i; j++) {
      const prev = best[j];
      if (prev === undefined) continue;
      const piece = word.slice(j, i);
      if (!inVocabulary(piece, vocabulary)) continue;
      const cand = [...prev, i];
      const cur = best[i];
      if (cur === undefined || cand.length < cur.length) best[i] = cand;
    }
  }
  return best[n];
}

function joinSpaced(u: Units, vocabulary: ReadonlySet<string> | undefined): Units {
  // Segments: maximal runs of word characters and of everything else.
  interface Seg {
    from: number;
    to: number;
    word: boolean;
  }
  const segs: Seg[] = [];
  for (let i = 0; i < u.length; ) {
    const w = isWordish(u.c[i]!);
    let j = i + 1;
    while (j < u.length && isWordish(u.c[j]!) === w) j++;
    segs.push({ from: i, to: j, word: w });
    i = j;
  }
  const out = new Units(u.length + 8);
  const copy = (from: number, to: number): void => {
    for (let k = from; k < to; k++) out.push(u.c[k]!, u.s[k]!, u.e[k]!);
  };
  const shortGap = (g: Seg): boolean => {
    if (g.to - g.from > 3) return false;
    for (let k = g.from; k < g.to; k++) if (!SEPARATORS.has(u.c[k]!)) return false;
    return true;
  };
  const wideGap = (g: Seg): boolean => {
    let spaces = 0;
    for (let k = g.from; k < g.to; k++) if (u.c[k] === ' ' || u.c[k] === '/') spaces++;
    return spaces >= 2;
  };
  let i = 0;
  while (i < segs.length) {
    const seg = segs[i]!;
    if (!seg.word || seg.to - seg.from !== 1) {
      copy(seg.from, seg.to);
      i++;
      continue;
    }
    // Chain of single characters joined by short gaps.
    let j = i;
    while (j + 2 < segs.length) {
      const gap = segs[j + 1]!;
      const next = segs[j + 2]!;
      if (!shortGap(gap) || next.to - next.from !== 1) break;
      j += 2;
    }
    const singles = (j - i) / 2 + 1;
    let letters = 0;
    for (let k = i; k <= j; k += 2) if (isLetter(u.c[segs[k]!.from]!)) letters++;
    if (singles < 3 || letters < 2) {
      copy(seg.from, seg.to);
      i++;
      continue;
    }
    // Words inside the chain are delimited by wide gaps.
    let wordStart = i;
    const emitWord = (first: number, last: number): void => {
      const idx: number[] = [];
      for (let k = first; k <= last; k += 2) idx.push(segs[k]!.from);
      const joined = idx.map((k) => simpleLeet(u.c[k]!)).join('');
      const cuts =
        vocabulary && idx.length >= 5 && !inVocabulary(joined, vocabulary)
          ? segment(joined, vocabulary)
          : undefined;
      let cut = 0;
      for (let p = 0; p < idx.length; p++) {
        const k = idx[p]!;
        if (cuts && p > 0 && cuts[cut] === p) {
          // The inserted space stands for the original gap before this letter.
          const gap = segs[first + 2 * p - 1]!;
          out.push(' ', u.s[gap.from]!, u.e[gap.to - 1]!);
          cut++;
        }
        out.push(u.c[k]!, u.s[k]!, u.e[k]!);
      }
    };
    for (let k = i + 1; k < j; k += 2) {
      const gap = segs[k]!;
      if (wideGap(gap)) {
        emitWord(wordStart, k - 1);
        out.push(' ', u.s[gap.from]!, u.e[gap.to - 1]!);
        wordStart = k + 1;
      }
    }
    emitWord(wordStart, j);
    i = j + 1;
  }
  return out;
}

/** Words where digits are digits: quantities with units, ordinals, and common technical names. */
const NOT_LEET =
  /^(?:[0-9]+(?:st|nd|rd|th|s|am|pm|k|m|b|g|gb|mb|kb|tb|x|h|hr|hrs|d|mg|ml|kg|km|cm|mm|min|mins|px|fps|hz|khz|mhz|ghz|v|w|kw|mph|kph|yo|c|f|p|ish)|2fa|3d|c4|mp3|mp4|p2p|b2b|b2c|0day|4chan|w3c|h264|x86|x64|ipv4|ipv6|sha1|sha256|md5|utf8|utf-8|i18n|k8s|a11y|l10n|ps4|ps5|covid19|u2f|s3|ec2|m1|m2|4x4|3g|4g|5g|web3|y2k)$/;

/** Three single word characters separated by short gaps: the only input `joinSpaced` changes. */
const SPACED_RUN =
  /(?:^|[^\p{L}\p{N}@$])[\p{L}\p{N}@$][ .\-_*·•~/',+]{1,3}[\p{L}\p{N}@$][ .\-_*·•~/',+]{1,3}[\p{L}\p{N}@$](?![\p{L}\p{N}@$])/u;

const MAX_AMBIGUOUS = 3;
const MAX_WORD = 40;
const MAX_RUNS = 4;

interface Run {
  ch: string;
  /** Token-relative unit indices of the run. */
  from: number;
  to: number;
}

function runsOf(chars: readonly string[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < chars.length; ) {
    let j = i + 1;
    while (j < chars.length && chars[j] === chars[i]) j++;
    runs.push({ ch: chars[i]!, from: i, to: j });
    i = j;
  }
  return runs;
}

/** Picks a reading of one word: leet choices and run lengths. */
function resolveWord(
  chars: readonly string[],
  convertible: readonly boolean[],
  vocabulary: ReadonlySet<string> | undefined,
  leet: boolean,
  repeats: boolean,
): { runs: Run[]; keep: number[] } {
  const ambiguous: number[] = [];
  const base = chars.map((c, k) => {
    const opts = leet && convertible[k] ? LEET[c] : undefined;
    if (opts === undefined) return c;
    if (opts.length > 1 && ambiguous.length < MAX_AMBIGUOUS) ambiguous.push(k);
    return opts[0]!;
  });
  const fallback = (mapped: string[]): { runs: Run[]; keep: number[] } => {
    const runs = runsOf(mapped);
    const keep = runs.map((r) => {
      const n = r.to - r.from;
      if (!repeats || !isLetter(r.ch)) return n;
      return n >= 3 ? 1 : n;
    });
    return { runs, keep };
  };
  // No word is this long; trying readings of a huge token would only cost time.
  if (vocabulary === undefined || chars.length > MAX_WORD) return fallback(base);
  const plain =
    chars.every((c, k) => !(leet && convertible[k] && LEET[c] !== undefined)) &&
    runsOf(base).every((r) => r.to - r.from < 3);
  for (let mask = 0; mask < 1 << ambiguous.length; mask++) {
    const mapped = [...base];
    ambiguous.forEach((k, bit) => {
      if (mask & (1 << bit)) mapped[k] = LEET[chars[k]!]![1]!;
    });
    const runs = runsOf(mapped);
    const multi = runs
      .map((r, idx) => ({ idx, n: r.to - r.from }))
      .filter((r) => repeats && r.n >= 2 && isLetter(runs[r.idx]!.ch))
      .slice(0, MAX_RUNS);
    for (let choice = 0; choice < 1 << multi.length; choice++) {
      const keep = runs.map((r) => r.to - r.from);
      multi.forEach((m, bit) => {
        // bit clear: keep two letters; bit set: keep one.
        keep[m.idx] = choice & (1 << bit) ? 1 : 2;
      });
      let word = '';
      runs.forEach((r, idx) => {
        word += r.ch.repeat(keep[idx]!);
      });
      // A plain word with a real double letter ("getting") must not lose it to a suffix match
      // ("get" + "ing"): without other signs of obfuscation only an exact word justifies a change.
      const changed = keep.some((k, idx) => k < runs[idx]!.to - runs[idx]!.from);
      const ok = changed && plain ? vocabulary.has(word) : inVocabulary(word, vocabulary);
      if (ok) return { runs, keep };
    }
  }
  return fallback(base);
}

function decodeWords(
  u: Units,
  opts: { leet: boolean; repeats: boolean; vocabulary?: ReadonlySet<string> },
): Units {
  const out = new Units(u.length + 8);
  const isTokenChar = (c: string): boolean => isWordish(c) || (opts.leet && c in LEET);
  let i = 0;
  let lastSpace = true;
  while (i < u.length) {
    const c = u.c[i]!;
    if (c === ' ') {
      if (!lastSpace) out.push(' ', u.s[i]!, u.e[i]!);
      lastSpace = true;
      i++;
      continue;
    }
    lastSpace = false;
    if (!isTokenChar(c)) {
      out.push(c, u.s[i]!, u.e[i]!);
      i++;
      continue;
    }
    let j = i + 1;
    let plain = isLetter(c);
    while (j < u.length && isTokenChar(u.c[j]!)) {
      const cj = u.c[j]!;
      if (!isLetter(cj) || cj === u.c[j - 1]) plain = false;
      j++;
    }
    // Most words are plain letters without a doubled letter: nothing to decode.
    if (plain) {
      for (let k = i; k < j; k++) out.push(u.c[k]!, u.s[k]!, u.e[k]!);
      i = j;
      continue;
    }
    const chars = u.c.slice(i, j);
    let hasLetter = false;
    let lastAlnum = -1;
    for (let k = 0; k < chars.length; k++) {
      if (isLetter(chars[k]!)) hasLetter = true;
      if (isLetter(chars[k]!) || isDigit(chars[k]!)) lastAlnum = k;
    }
    const needsWork = hasLetter && (opts.leet || opts.repeats) && !NOT_LEET.test(chars.join(''));
    if (!needsWork) {
      for (let k = i; k < j; k++) out.push(u.c[k]!, u.s[k]!, u.e[k]!);
      i = j;
      continue;
    }
    // Trailing symbols ("kill!", "cash$") are punctuation, not letters.
    const convertible = chars.map((ch, k) => !isLetter(ch) && (isDigit(ch) || k < lastAlnum));
    const { runs, keep } = resolveWord(chars, convertible, opts.vocabulary, opts.leet, opts.repeats);
    runs.forEach((r, idx) => {
      const n = keep[idx]!;
      for (let k = 0; k < n; k++) {
        const first = i + r.from + k;
        const last = k === n - 1 ? i + r.to - 1 : first;
        const orig = chars[r.from + k]!;
        const ch = convertible[r.from + k] ? r.ch : orig;
        out.push(ch, u.s[first]!, u.e[last]!);
      }
    });
    i = j;
  }
  // A trailing space maps to real text but carries nothing.
  if (out.length > 0 && out.c[out.length - 1] === ' ') {
    out.pop();
  }
  return out;
}

/** Normalises `text` (see the module comment) with an offset map back to it. */
export function normalise(text: string, options: NormaliseOptions = {}): Normalised {
  const caseFold = options.caseFold ?? true;
  const confusables = options.confusables ?? true;
  const spacing = options.spacing ?? true;
  const leet = options.leet ?? true;
  const repeats = options.repeats ?? true;
  let u = fold(text, caseFold, confusables);
  if (spacing && SPACED_RUN.test(u.c.join(''))) u = joinSpaced(u, options.vocabulary);
  if (leet || repeats) {
    u = decodeWords(u, {
      leet,
      repeats,
      ...(options.vocabulary ? { vocabulary: options.vocabulary } : {}),
    });
  }
  return { original: text, text: u.c.join(''), starts: u.s.slice(0, u.length), ends: u.e.slice(0, u.length) };
}

/** The original range behind the normalised range `[start, end)`; empty ranges map to empty ranges. */
export function toOriginalSpan(n: Normalised, start: number, end: number): [number, number] {
  const len = n.text.length;
  const s = Math.max(0, Math.min(start, len));
  const e = Math.max(s, Math.min(end, len));
  if (len === 0) return [0, 0];
  if (s === e) {
    const at = s < len ? n.starts[s]! : n.ends[len - 1]!;
    return [at, at];
  }
  return [n.starts[s]!, n.ends[e - 1]!];
}
