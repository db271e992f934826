/**
 * The built-in offline text embedder: no network, no model download, deterministic.
 *
 * A text's vector is the concatenation of three blocks, each L2-normalised on its own, scaled by a
 * fixed weight, and the whole L2-normalised again:
 *
 *  1. semantic (100 dims): SIF-weighted average of pre-trained word vectors. After Arora, Liang & Ma,
 *     "A Simple but Tough-to-Beat Baseline for Sentence Embeddings", ICLR 2017: each word counts
 *     a / (a + p(w)). p(w) is estimated from the word's frequency rank r (the asset's row order) with
 *     Zipf's law, p(r) = 1 / ((r + 1) * H), H = ln(V) + 0.5772 the harmonic number of the source
 *     vocabulary (V = 400k). Function words (ENGLISH_STOP_WORDS) are left out of this block. SIF's
 *     common-component removal is done in two parts without a sentence corpus: offline, the word vectors
 *     had their mean and top 4 principal components removed ("all-but-the-top", Mu & Viswanath, ICLR
 *     2018; scripts/build-word-vectors.mjs); here, the sentence vector's projection on the expected SIF
 *     sentence vector of the unigram model, sum_w p(w) a/(a+p(w)) v(w), is removed (a stand-in for SIF's
 *     common discourse vector c0, which the paper estimates as the first principal component of a
 *     corpus's sentence vectors). Words missing from the vocabulary are retried after light suffix stripping.
 *  2. words (hashDims dims): signed feature hashing of the (lightly stemmed) tokens, each weighted like
 *     in block 1 (unknown words count 1). After Weinberger et al., "Feature Hashing for Large Scale
 *     Multitask Learning", ICML 2009: bucket = h mod d, sign from another bit of h, so collisions cancel
 *     in expectation. Exact shared words, names and numbers count here even when no word vector exists.
 *  3. chars (hashDims dims): signed hashing of character trigrams of "<token>" (fastText-style subwords,
 *     Bojanowski et al., "Enriching Word Vectors with Subword Information", TACL 2017), each token's
 *     n-grams sharing that token's weight. Catches spelling variants and typos.
 *
 * With weights (1, 0.35, 0.25) the cosine of two texts is
 *   (cos_sem + 0.1225 cos_words + 0.0625 cos_chars) / 1.185
 * when all blocks are non-empty: meaning dominates and spelling breaks ties. A text with no known word
 * has an empty semantic block and is compared by its hashed blocks only.
 *
 * Everything in the embed path is plain TypeScript over typed arrays, so it runs in a worker thread;
 * only the default word-vector loader reads a file (once, on first use).
 */
import { JameyError } from '../../../runtime/errors.js';
import type { EmbeddingProvider } from './provider.js';
import { l2Normalise } from './provider.js';
import type { WordVectors } from './word-vectors.js';
import { loadWordVectors } from './word-vectors.js';

export const BUILTIN_EMBEDDER_ID = 'builtin-sg100d-v1';
export const SEMANTIC_DIMS = 100;

export interface BuiltinEmbedderWeights {
  readonly semantic: number;
  readonly words: number;
  readonly chars: number;
}

export const DEFAULT_BUILTIN_WEIGHTS: BuiltinEmbedderWeights = Object.freeze({
  semantic: 1,
  words: 0.35,
  chars: 0.25,
});

export interface BuiltinEmbedderOptions {
  /** Word vectors, or a function returning them (called once, on first embed). Default: the packaged asset. */
  readonly vectors?: WordVectors | (() => WordVectors);
  /** SIF smoothing constant a (the paper uses 1e-4 to 1e-3). Default 1e-4. */
  readonly sifA?: number;
  /** Size of each hashed block. Default 128. */
  readonly hashDims?: number;
  readonly weights?: Partial<BuiltinEmbedderWeights>;
  /** Words left out of the semantic block (they still count, lightly, in the hashed blocks). Default
   * ENGLISH_STOP_WORDS; an empty set keeps every word. */
  readonly stopWords?: ReadonlySet<string>;
  /** Project the common discourse direction out of the semantic block. Default true. */
  readonly removeCommonComponent?: boolean;
  /** Overrides the id; give a new one whenever options change stored vectors. */
  readonly id?: string;
}

/** Vocabulary size of the corpus the word vectors' frequency ranks come from (GloVe 6B: 400k). */
const SOURCE_VOCABULARY = 400_000;
const HARMONIC = Math.log(SOURCE_VOCABULARY) + 0.5772156649;

const TOKEN_RE = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}]+)*/gu;
const CLITIC_RE = /^(.+?)(n't|'s|'re|'ve|'ll|'m|'d)$/;
const CLITIC_WORD: Record<string, string | undefined> = {
  "n't": 'not',
  "'s": undefined,
  "'re": 'are',
  "'ve": 'have',
  "'ll": 'will',
  "'m": 'am',
  "'d": 'would',
};
const NEGATED_BASE: Record<string, string> = { ca: 'can', wo: 'will', sha: 'shall' };

/**
 * British spellings mapped to American ones, so "favourite colour" and "favorite color" are the same
 * tokens: the word vectors come from mostly American text, where the American form is the better
 * trained one. Prefix rules for -our and -re stems (they carry their suffixes: colours -> colors,
 * neighbourhood -> neighborhood, centres -> centers); whole-word forms for -ise verbs, where a prefix
 * rule would also hit unrelated words ("realistic"), and for a few single words.
 */
const BRITISH_PREFIX: ReadonlyArray<readonly [string, string]> = [
  ...'colour favour flavour honour humour labour neighbour behaviour harbour rumour vapour odour endeavour armour parlour savour'
    .split(' ')
    .map((w) => [w, w.replace(/our$/, 'or')] as const),
  ...'centre theatre metre litre fibre kilometre centimetre millimetre'
    .split(' ')
    .map((w) => [w, w.replace(/re$/, 'er')] as const),
];
const BRITISH_WORD = new Map<string, string>([
  ...'organis realis recognis apologis prioritis summaris optimis customis authoris memoris criticis visualis normalis standardis finalis utilis synchronis minimis maximis categoris emphasis specialis personalis'
    .split(' ')
    .flatMap((stem) => {
      const us = stem.replace(/is$/, 'iz');
      return ['e', 'ed', 'es', 'ing', 'ation', 'ations', 'er', 'ers'].map(
        (x) => [stem + x, us + x] as [string, string],
      );
    }),
  ['grey', 'gray'],
  ['programme', 'program'],
  ['programmes', 'programs'],
  ['catalogue', 'catalog'],
  ['jewellery', 'jewelry'],
  ['aluminium', 'aluminum'],
  ['travelled', 'traveled'],
  ['travelling', 'traveling'],
  ['traveller', 'traveler'],
  ['travellers', 'travelers'],
  ['cancelled', 'canceled'],
  ['cancelling', 'canceling'],
  ['licence', 'license'],
  ['defence', 'defense'],
  ['offence', 'offense'],
  ['pyjamas', 'pajamas'],
  ['paediatric', 'pediatric'],
  ['paediatrician', 'pediatrician'],
  ['anaesthetic', 'anesthetic'],
  ['oestrogen', 'estrogen'],
  ['diarrhoea', 'diarrhea'],
]);

/** American spelling of a lowercase token (unchanged when no rule applies). */
export function americanSpelling(token: string): string {
  const whole = BRITISH_WORD.get(token);
  if (whole !== undefined) return whole;
  for (const [uk, us] of BRITISH_PREFIX) if (token.startsWith(uk)) return us + token.slice(uk.length);
  return token;
}

/**
 * Lowercases, applies NFKC, splits on anything that is not a letter, mark or digit (hyphens split),
 * expands English clitics ("don't" -> do not, "we'll" -> we will, "anna's" -> anna) and maps common
 * British spellings to American ones.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const normal = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'");
  for (const match of normal.matchAll(TOKEN_RE)) {
    const token = match[0];
    if (!token.includes("'")) {
      out.push(americanSpelling(token));
      continue;
    }
    const clitic = CLITIC_RE.exec(token);
    if (clitic !== null && !clitic[1]!.includes("'")) {
      const suffix = clitic[2]!;
      const base = suffix === "n't" ? (NEGATED_BASE[clitic[1]!] ?? clitic[1]!) : clitic[1]!;
      out.push(americanSpelling(base));
      const word = CLITIC_WORD[suffix];
      if (word !== undefined) out.push(word);
      continue;
    }
    for (const part of token.split("'")) if (part.length > 0) out.push(americanSpelling(part));
  }
  return out;
}

/** Suffix-stripping candidates for a word missing from the vocabulary, most likely first. */
function stemCandidates(word: string): string[] {
  const c: string[] = [];
  const strip = (suffix: string, ...repl: string[]) => {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      for (const r of repl) c.push(stem + r);
    }
  };
  strip('ies', 'y');
  strip('es', '');
  strip('s', '');
  strip('ing', '', 'e');
  strip('ed', '', 'e');
  strip('ly', '');
  strip('er', '', 'e');
  strip('est', '', 'e');
  strip('ness', '');
  strip('ment', '');
  strip('ise', 'ize');
  strip('ised', 'ized');
  strip('ising', 'izing');
  strip('our', 'or');
  return c;
}

/** A plural or simple inflection stripped, so "meetings" and "meeting" share a hashed word feature. */
function lightStem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us'))
    return word.slice(0, -1);
  return word;
}

/** FNV-1a over UTF-16 code units with a seed, then the murmur3 finaliser to spread the bits. */
export function hashString(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Function words left out of the semantic block: SIF weighting already shrinks them, but question
 * words and auxiliaries ("when", "which", "do") otherwise still pull queries toward memories that
 * happen to use them.
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  'a an the and or but if of to in on at for by with from is are was were be been being am i me my we our us you your he his she her it its they their them this that these those what which who whom when where why how do does did doing have has had not no so than then there too very just only also can could would should will shall may might must about after before up down over under into out every each some any most more other such own same again further once here all both few nor off'.split(
    ' ',
  ),
);

const WORD_SEED = 0x9e3779b9;
const CHAR_SEED = 0x7f4a7c15;

function addHashed(
  target: Float32Array,
  offset: number,
  dims: number,
  feature: string,
  seed: number,
  w: number,
) {
  const h = hashString(feature, seed);
  const bucket = h % dims;
  target[offset + bucket]! += h & 0x80000000 ? -w : w;
}

function normaliseBlock(v: Float32Array, offset: number, length: number, scale: number): void {
  let sum = 0;
  for (let i = offset; i < offset + length; i++) sum += v[i]! * v[i]!;
  if (sum === 0) return;
  const k = scale / Math.sqrt(sum);
  for (let i = offset; i < offset + length; i++) v[i]! *= k;
}

export class BuiltinEmbedder implements EmbeddingProvider {
  readonly id: string;
  readonly dimensions: number;
  readonly hashDims: number;
  readonly weights: BuiltinEmbedderWeights;
  readonly sifA: number;
  #source: WordVectors | (() => WordVectors);
  #stopWords: ReadonlySet<string>;
  #removeCommon: boolean;
  #common: Float32Array | undefined;
  #vectors: WordVectors | undefined;
  /** Per-token lookups (row and weight), memoised: vocabulary and weights never change. */
  #lookup = new Map<string, { row: number | undefined; weight: number; stem: string }>();

  constructor(options: BuiltinEmbedderOptions = {}) {
    const hashDims = options.hashDims ?? 128;
    const sifA = options.sifA ?? 1e-4;
    const weights = { ...DEFAULT_BUILTIN_WEIGHTS, ...options.weights };
    if (!Number.isInteger(hashDims) || hashDims < 1) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'hashDims must be a positive integer', {
        details: { hashDims },
      });
    }
    if (!(sifA > 0))
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'sifA must be > 0', { details: { sifA } });
    for (const [k, w] of Object.entries(weights)) {
      if (!(w >= 0)) throw new JameyError('JAMEY_ERR_INVALID_OPTION', `weights.${k} must be >= 0`);
    }
    this.hashDims = hashDims;
    this.sifA = sifA;
    this.weights = Object.freeze(weights);
    this.dimensions = SEMANTIC_DIMS + 2 * hashDims;
    this.id = options.id ?? BUILTIN_EMBEDDER_ID;
    this.#source = options.vectors ?? (() => loadWordVectors());
    this.#stopWords = options.stopWords ?? ENGLISH_STOP_WORDS;
    this.#removeCommon = options.removeCommonComponent ?? true;
  }

  get vectors(): WordVectors {
    if (this.#vectors === undefined) {
      const v = typeof this.#source === 'function' ? this.#source() : this.#source;
      if (v.dims !== SEMANTIC_DIMS) {
        throw new JameyError(
          'JAMEY_ERR_INTERNAL',
          `Word vectors have ${v.dims} dims, expected ${SEMANTIC_DIMS}`,
        );
      }
      this.#vectors = v;
    }
    return this.#vectors;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (!Array.isArray(texts))
      throw new JameyError('JAMEY_ERR_VALIDATION', 'texts must be an array of strings');
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
      out.push(this.embedOne(texts[i]!));
    }
    return out;
  }

  /** Synchronous single-text form of `embed`. */
  embedOne(text: string): Float32Array {
    if (typeof text !== 'string') throw new JameyError('JAMEY_ERR_VALIDATION', 'each text must be a string');
    const vectors = this.vectors;
    const d = this.hashDims;
    const wordsAt = SEMANTIC_DIMS;
    const charsAt = SEMANTIC_DIMS + d;
    const v = new Float32Array(this.dimensions);
    for (const token of tokenize(text)) {
      const { row, weight, stem } = this.#lookupToken(token, vectors);
      if (row !== undefined && !this.#stopWords.has(token)) vectors.addRow(row, weight, v, 0);
      addHashed(v, wordsAt, d, stem, WORD_SEED, weight);
      const padded = `<${token}>`;
      const grams = Math.max(1, padded.length - 2);
      const gw = weight / Math.sqrt(grams);
      for (let i = 0; i + 3 <= padded.length; i++)
        addHashed(v, charsAt, d, padded.slice(i, i + 3), CHAR_SEED, gw);
    }
    if (this.#removeCommon) {
      const c = this.#commonDirection(vectors);
      let dot = 0;
      for (let i = 0; i < SEMANTIC_DIMS; i++) dot += v[i]! * c[i]!;
      for (let i = 0; i < SEMANTIC_DIMS; i++) v[i]! -= dot * c[i]!;
    }
    normaliseBlock(v, 0, SEMANTIC_DIMS, this.weights.semantic);
    normaliseBlock(v, wordsAt, d, this.weights.words);
    normaliseBlock(v, charsAt, d, this.weights.chars);
    return l2Normalise(v);
  }

  /**
   * The expected SIF sentence vector under the unigram model, sum_w p(w) * a/(a + p(w)) * v(w), as a
   * unit vector: the direction every sentence shares, which SIF's common-component removal targets.
   * Computed once from the vocabulary (no corpus needed), about 20 ms for 100k words.
   */
  #commonDirection(vectors: WordVectors): Float32Array {
    if (this.#common === undefined) {
      const c = new Float32Array(SEMANTIC_DIMS);
      const stopRows = new Set<number>();
      for (const w of this.#stopWords) {
        const r = vectors.rowOf(w);
        if (r !== undefined) stopRows.add(r);
      }
      for (let r = 0; r < vectors.count; r++) {
        if (stopRows.has(r)) continue;
        const p = 1 / ((r + 1) * HARMONIC);
        vectors.addRow(r, p * (this.sifA / (this.sifA + p)), c, 0);
      }
      this.#common = l2Normalise(c);
    }
    return this.#common;
  }

  #lookupToken(token: string, vectors: WordVectors) {
    let entry = this.#lookup.get(token);
    if (entry === undefined) {
      let row = vectors.rowOf(token);
      if (row === undefined) {
        for (const candidate of stemCandidates(token)) {
          row = vectors.rowOf(candidate);
          if (row !== undefined) break;
        }
      }
      const weight = row === undefined ? 1 : this.sifA / (this.sifA + 1 / ((row + 1) * HARMONIC));
      entry = { row, weight, stem: lightStem(token) };
      // A small memo of recent tokens: lookups are cheap now, and every cached entry is an object
      // the collector traces.
      if (this.#lookup.size >= 10_000) this.#lookup.clear();
      this.#lookup.set(token, entry);
    }
    return entry;
  }
}
