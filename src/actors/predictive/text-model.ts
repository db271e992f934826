/**
 * Online byte-level text model: a bitwise context-mixing predictor after M. Mahoney, "Adaptive
 * weighing of context models for lossless data compression" (Florida Tech. TR CS-2005-16, 2005)
 * and his lpaq1 (2007): order 1, 2, 3, 4 and 6 contexts, the current word, and a match model over
 * the learned history, mixed by a gated linear network in the logistic domain and refined by two
 * adaptive probability maps (SSE/APM) on order 0 and on hashed order 2.
 *
 * Deviations from lpaq1, chosen for a pure-JS inner loop and for memory per context: a context
 * slot is 16 bits, a direct adaptive probability (12 bits) and a hit count (4 bits) whose learning
 * rate falls as 1/(n + 1.2) to a floor of 1/16, instead of a bit-history state and a second map
 * (the update is one lookup in a 128 Ki-entry table of next slot values); one input per context;
 * no word-pair context (lpaq1 has none either; on the two benchmark texts it cost time and, at
 * 32 MiB, slightly more bits than it saved); the mixer's weight set is chosen by the partial byte,
 * by how many of the order 2, 3, 4 and 6 contexts have been seen at this bit, and by whether the
 * match model predicts (a stand-in for the bit-history states' confidence).
 *
 * Speed (V8): the per-bit loop keeps every slot, stretched input and weight index in named locals
 * (no per-bit arrays, calls or hashing); buckets are found once per nibble; and when the byte is
 * known in advance (scoring, encoding) both nibbles' buckets are hashed and touched at the byte's
 * start so that their cache misses overlap. A nibble's second-half bucket lies in the same 4 KiB
 * page as its first, which halves the TLB misses on large tables. About 1 MB/s of `scoreAndLearn`
 * on one core at 32 MiB (docs/predictive.md has the measurements): what remains is the per-context
 * arithmetic of every bit and the cache misses of the table. Scoring without learning (`score`,
 * what the pool worker runs) has a loop of its own, with nothing of learning in it and all twelve
 * buckets of a byte resolved into locals at its start: about 2.3 MB/s at 32 MiB. Its predictions
 * are the learning loop's, bit for bit (test/predictive-text-model.test.ts compares them).
 *
 * Symbols are UTF-8 bytes, eight binary decisions each. A "char" in the figures this module
 * reports is one UTF-8 byte: bits per char = bits per byte (identical for ASCII prose).
 *
 * Each message is modelled from a fresh context (no bytes before its start), so the score of a
 * message depends only on the message and the learned state, never on what was scored before.
 * The model learns after it scores: every bit is predicted first, then learned.
 *
 * Memory: all learned state is one ArrayBuffer (or SharedArrayBuffer) of at most `sizeBytes`
 * (at least 256 KiB: the mixer weights and APMs take about 100 KiB):
 * - a hash table of 16-bit slots in 32-byte buckets (a check word and the 15 nodes of one nibble's
 *   binary tree), two candidate buckets per lookup in one 64-byte line; a miss replaces the less
 *   used one (its first node's hit count), so memory never grows and rare contexts are forgotten
 *   first. Compression degrades gracefully as the table fills (docs/predictive.md);
 * - a circular history of learned bytes (about a quarter of the size) and a hash table of
 *   positions in it for the match model;
 * - mixer weights and the two APM tables.
 * The header holds a layout version; a buffer of another version (a model saved by older code) is
 * refused with a TypeError, and its owner starts a fresh model.
 * A reader can wrap a copy of that buffer (`snapshot()`) read-only, for instance in a worker
 * thread: scoring never writes to the buffer, and a context missing from a read-only table reads
 * as "never seen" (p = 1/2) instead of claiming a bucket. */

import { COST_BITS, SQUASH, STRETCH } from './logistic.js';

const MAGIC = 0x4a50504d;
const VERSION = 2;
const HEADER_INTS = 16;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_SIZE = 2;
const H_HASH_BITS = 3;
const H_HIST_BITS = 4;
const H_MATCH_BITS = 5;
const H_APM_BITS = 6;
const H_HIST_POS = 7;
const H_LEARNED_LO = 8;
const H_LEARNED_HI = 9;
const H_MESSAGES = 10;

/** Hashed contexts: orders 1, 2, 3, 4, 6 and the current word. */
const N_CTX = 6;
/** Mixer inputs: the contexts, the match model and a bias (the last). */
const N_IN = N_CTX + 2;
const BIAS_INPUT = N_CTX + 1;
/** Weight sets: partial byte × (orders 2-4 and 6 seen in this context, 0..4) × match model active. */
const MIXER_SETS = 256 * 10;
const APM_STEPS = 24;
/** Match length (bytes) above which the match model's confidence is no longer told apart. */
const MATCH_CAP = 31;
const MATCH_MAX_VERIFY = 400;
/** An empty slot: p = 1/2 (2048 in 12 bits), no hits. No check word takes this value. */
const SLOT_INIT = 0x8000;
/** An empty match model slot: a 16-bit probability of 1/2 above a 10-bit hit count. */
const MATCH_INIT = 32768 << 10;
/** The first slot of a bucket's 4 KiB page (2048 slots, 128 buckets). */
const PAGE_MASK = ~2047;
/** Mixed into a context's hash for the first nibble (the partial byte 1). */
const MIX0 = 0x6f4f2a35;
/** Two empty slots as one 32-bit word. */
const FILL32 = (SLOT_INIT * 0x10001) | 0;
const COUNT_LIMIT = 15;
const MIXER_RATE = 2;
const MIXER_INIT = 0x5000;
const APM_RATE = 6;
const FIXED_BYTES =
  HEADER_INTS * 4 + MIXER_SETS * N_IN * 4 + (MATCH_CAP + 1) * 2 * 4 + 16 * 2 + 256 * APM_STEPS * 2;

/** Learning rate of a slot after n hits, scaled by 2^16: 1/(n + 1.2), fast at first (tuned on prose). */
const DT = new Int32Array(1024);
for (let n = 0; n < 1024; n++) DT[n] = Math.floor(65536 / (n + 1.2));
/** The same scaled by 2^15, for the match model's 16-bit probabilities. */
const DT15 = new Int32Array(1024);
for (let n = 0; n < 1024; n++) DT15[n] = Math.floor(32768 / (n + 1.2));

/** A slot after learning bit y, at index slot | y << 16 (`update` as a table: one load per context). */
const NEXT = new Uint16Array(1 << 17);
for (let s = 0; s < 1 << 16; s++) {
  NEXT[s] = update(s, 0);
  NEXT[s | (1 << 16)] = update(s, 4095);
}

/** Smallest and default sizes in bytes of a model's buffer. */
export const TEXT_MODEL_MIN_BYTES = 256 * 1024;
export const TEXT_MODEL_DEFAULT_BYTES = 1024 * 1024;

export interface TextModelOptions {
  /** Upper bound of the model's memory in bytes (the buffer's size). @default 1 MiB */
  sizeBytes?: number;
  /**
   * Keep the state in a SharedArrayBuffer, so that another thread can copy it (`copyModel` in
   * predict-task.ts) while the owner waits instead of copying on its own thread. @default false
   */
  shared?: boolean;
}

export interface WrapOptions {
  /** Refuse to learn: the buffer is never written (a snapshot shared with other threads). */
  readOnly?: boolean;
}

/** An arithmetic coder's side of `TextModel.codeBits`. */
export interface BitCoder {
  /**
   * One binary decision of probability p / 4096 (1..4095) of being 1: an encoder codes `bit` and
   * returns it; a decoder ignores `bit` and returns the decoded one.
   */
  code(p: number, bit: number): number;
}

export interface TextScore {
  /** Total surprisal of the text in bits, -Σ log2 P(symbol | model). */
  bits: number;
  /** Symbols scored: UTF-8 bytes. */
  chars: number;
  /** bits / chars (0 for an empty text). */
  bpc: number;
}

interface Layout {
  hashBits: number;
  histBits: number;
  matchBits: number;
  apmBits: number;
  total: number;
  /** The size asked for, from which the layout is derived again when a buffer is wrapped. */
  requested: number;
}

function layoutFor(sizeBytes: number): Layout {
  const size = Math.floor(sizeBytes);
  if (!(size >= TEXT_MODEL_MIN_BYTES) || size > 2 ** 31) {
    throw new RangeError(`text model size must be ${TEXT_MODEL_MIN_BYTES}..2^31 bytes, got ${sizeBytes}`);
  }
  let hashBits = Math.floor(Math.log2((size * 0.6) / 2));
  while (FIXED_BYTES + (2 << hashBits) > size * 0.8) hashBits--;
  const rest = size - (2 << hashBits) - FIXED_BYTES;
  const histBits = Math.floor(Math.log2(rest * 0.55));
  const matchBits = Math.floor(Math.log2((rest * 0.15) / 4));
  const apmBits = Math.min(16, Math.max(8, Math.floor(Math.log2((rest * 0.15) / (APM_STEPS * 2)))));
  const total =
    FIXED_BYTES + (2 << hashBits) + (4 << matchBits) + ((APM_STEPS * 2) << apmBits) + (1 << histBits);
  if (total > size) throw new RangeError(`text model layout overflows ${size} bytes`);
  return { hashBits, histBits, matchBits, apmBits, total, requested: size };
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const encoder = new TextEncoder();

export class TextModel {
  /** The learned state; hand `snapshot()` (a copy) to other threads, not this. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly readOnly: boolean;
  readonly sizeBytes: number;

  private readonly header: Int32Array;
  private readonly weights: Int32Array;
  private readonly matchSm: Int32Array;
  private readonly table: Uint16Array;
  /** The same bytes as `table`, to reset a bucket with 32-bit stores. */
  private readonly table32: Int32Array;
  private readonly matchTable: Int32Array;
  private readonly apm1: Uint16Array;
  private readonly apm2: Uint16Array;
  private readonly history: Uint8Array;
  private readonly bucketShift: number;
  private readonly emptyBucket: number;
  private readonly matchMask: number;
  private readonly histMask: number;
  private readonly histSize: number;
  private readonly apmHashMask: number;
  // Scratch of the byte being modelled: its context hashes and their buckets.
  private readonly hashes = new Int32Array(N_CTX);
  private readonly bases = new Int32Array(N_CTX);
  private readonly pages = new Int32Array(N_CTX);
  private readonly nibbleHashes = new Int32Array(2 * N_CTX);
  /** Where the sum of the touched check words goes, so that the compiler keeps the loads. */
  private readonly sink = new Int32Array(1);

  /**
   * A new empty model (`options`), or one over an existing buffer (a `snapshot()`, a
   * `SharedArrayBuffer` shared with a worker, or the buffer of `deserialize`), used in place.
   */
  constructor(source?: TextModelOptions | ArrayBuffer | SharedArrayBuffer, options: WrapOptions = {}) {
    let buffer: ArrayBuffer | SharedArrayBuffer;
    let layout: Layout;
    if (source instanceof ArrayBuffer || source instanceof SharedArrayBuffer) {
      buffer = source;
      const h = new Int32Array(buffer, 0, Math.min(HEADER_INTS, buffer.byteLength >> 2));
      if (h.length < HEADER_INTS || h[H_MAGIC] !== MAGIC) {
        throw new TypeError('not a text model buffer (bad magic)');
      }
      if (h[H_VERSION] !== VERSION) {
        // Another layout (an older model): its contents mean nothing to this code. The caller
        // drops it and starts a fresh model, as for any unreadable saved model.
        throw new TypeError(
          `text model buffer of version ${h[H_VERSION]}, expected ${VERSION} (bad version)`,
        );
      }
      layout = layoutFor(h[H_SIZE]!);
      if (
        layout.total !== buffer.byteLength ||
        layout.hashBits !== h[H_HASH_BITS] ||
        layout.histBits !== h[H_HIST_BITS] ||
        layout.matchBits !== h[H_MATCH_BITS] ||
        layout.apmBits !== h[H_APM_BITS]
      ) {
        throw new TypeError('text model buffer does not match its header');
      }
    } else {
      const o = source as TextModelOptions | undefined;
      layout = layoutFor(o?.sizeBytes ?? TEXT_MODEL_DEFAULT_BYTES);
      buffer = o?.shared === true ? new SharedArrayBuffer(layout.total) : new ArrayBuffer(layout.total);
    }
    this.buffer = buffer;
    this.readOnly = options.readOnly === true;
    let off = 0;
    const take = (bytes: number): number => {
      const at = off;
      off += bytes;
      return at;
    };
    this.header = new Int32Array(buffer, take(HEADER_INTS * 4), HEADER_INTS);
    this.weights = new Int32Array(buffer, take(MIXER_SETS * N_IN * 4), MIXER_SETS * N_IN);
    this.matchSm = new Int32Array(buffer, take((MATCH_CAP + 1) * 8), (MATCH_CAP + 1) * 2);
    const tableAt = take((2 << layout.hashBits) + 32);
    this.table = new Uint16Array(buffer, tableAt, (1 << layout.hashBits) + 16);
    this.table32 = new Int32Array(buffer, tableAt, ((1 << layout.hashBits) + 16) >> 1);
    this.matchTable = new Int32Array(buffer, take(4 << layout.matchBits), 1 << layout.matchBits);
    this.apm1 = new Uint16Array(buffer, take(256 * APM_STEPS * 2), 256 * APM_STEPS);
    this.apm2 = new Uint16Array(buffer, take((APM_STEPS * 2) << layout.apmBits), APM_STEPS << layout.apmBits);
    this.history = new Uint8Array(buffer, take(1 << layout.histBits), 1 << layout.histBits);
    this.sizeBytes = layout.total;
    this.bucketShift = 32 - (layout.hashBits - 4);
    this.emptyBucket = 1 << layout.hashBits;
    this.matchMask = (1 << layout.matchBits) - 1;
    this.histSize = 1 << layout.histBits;
    this.histMask = this.histSize - 1;
    this.apmHashMask = (1 << (layout.apmBits - 8)) - 1;
    if (this.header[H_MAGIC] !== MAGIC) this.initialise(layout);
  }

  private initialise(layout: Layout): void {
    const h = this.header;
    h[H_MAGIC] = MAGIC;
    h[H_VERSION] = VERSION;
    h[H_SIZE] = layout.requested;
    h[H_HASH_BITS] = layout.hashBits;
    h[H_HIST_BITS] = layout.histBits;
    h[H_MATCH_BITS] = layout.matchBits;
    h[H_APM_BITS] = layout.apmBits;
    this.weights.fill(MIXER_INIT);
    for (let s = 0; s < MIXER_SETS; s++) this.weights[s * N_IN + BIAS_INPUT] = 0;
    this.matchSm.fill(MATCH_INIT);
    this.table.fill(SLOT_INIT);
    const apmInit = (t: Uint16Array): void => {
      for (let i = 0; i < t.length; i++) {
        const j = i % APM_STEPS;
        t[i] = SQUASH[Math.min(4094, Math.max(0, Math.floor((j * 4096) / (APM_STEPS - 1)) - 1))]! * 16;
      }
    };
    apmInit(this.apm1);
    apmInit(this.apm2);
  }

  /** Bytes learned so far. */
  get learnedBytes(): number {
    return (this.header[H_LEARNED_HI]! >>> 0) * 2 ** 32 + (this.header[H_LEARNED_LO]! >>> 0);
  }

  /** Messages learned so far. */
  get learnedMessages(): number {
    return this.header[H_MESSAGES]! >>> 0;
  }

  /** Surprisal of `text` under the current model, which is left unchanged. */
  score(text: string | Uint8Array, perSymbol?: Float64Array): TextScore {
    return this.run(typeof text === 'string' ? encoder.encode(text) : text, false, perSymbol);
  }

  /** Adapts the model to `text` (each symbol predicted, then learned). */
  learn(text: string | Uint8Array): void {
    this.scoreAndLearn(text);
  }

  /**
   * Adaptive score: each symbol is scored and then learned, as a compressor codes it. The bits
   * are the ideal code length of `text` for an arithmetic coder driven by this model.
   */
  scoreAndLearn(text: string | Uint8Array, perSymbol?: Float64Array): TextScore {
    if (this.readOnly) throw new TypeError('this text model is read-only');
    return this.run(typeof text === 'string' ? encoder.encode(text) : text, true, perSymbol);
  }

  /** Surprisal in bits of each UTF-8 byte of `text` (frozen model); sums to `score(text).bits`. */
  symbolBits(text: string | Uint8Array): Float64Array {
    const bytes = typeof text === 'string' ? encoder.encode(text) : text;
    const out = new Float64Array(bytes.length);
    this.run(bytes, false, out);
    return out;
  }

  /** A copy of the learned state in a SharedArrayBuffer, for `new TextModel(sab, { readOnly: true })`. */
  snapshot(): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(this.buffer.byteLength);
    new Uint8Array(sab).set(new Uint8Array(this.buffer));
    return sab;
  }

  /** The learned state as bytes (a copy); `TextModel.deserialize` restores it. */
  serialize(): Uint8Array {
    return new Uint8Array(this.buffer).slice();
  }

  static deserialize(bytes: Uint8Array, options: WrapOptions & { shared?: boolean } = {}): TextModel {
    const copy =
      options.shared === true ? new SharedArrayBuffer(bytes.byteLength) : new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return new TextModel(copy, options);
  }

  /** An independent copy (same learned state). */
  clone(): TextModel {
    return TextModel.deserialize(new Uint8Array(this.buffer));
  }

  private run(bytes: Uint8Array, learn: boolean, perSymbol: Float64Array | undefined): TextScore {
    return learn ? this.process(bytes, true, perSymbol, undefined) : this.frozen(bytes, perSymbol);
  }

  /**
   * Scoring without learning (`score`, `symbolBits`): the same predictions, bit for bit, as
   * `process` (the test suite compares the two on many messages), in a loop of its own with
   * nothing of learning in it. With the byte known, its twelve buckets are resolved at the byte's
   * start (their loads overlap) into locals, and the order 2 APM's entries of the byte's eight
   * partial bytes are touched there too, since its table is too large for the cache.
   */
  private frozen(bytes: Uint8Array, perSymbol: Float64Array | undefined): TextScore {
    const t = this.table;
    const w = this.weights;
    const sm = this.matchSm;
    const apm1 = this.apm1;
    const apm2 = this.apm2;
    const hist = this.history;
    const mtab = this.matchTable;
    const histMask = this.histMask;
    const histSize = this.histSize;
    const matchMask = this.matchMask;
    const apmHashMask = this.apmHashMask;
    const shift = this.bucketShift;
    const empty = this.emptyBucket;
    const length = bytes.length;
    const histPos = this.header[H_HIST_POS]! >>> 0;
    let c4 = 0;
    let c8 = 0;
    let word0 = 0;
    let matchHash = 0;
    let matchPtr = 0;
    let matchLen = 0;
    let matchByte = 0;
    let bits = 0;
    let last = 0;
    let touched = 0;
    for (let i = 0; i < length; i++) {
      const known = bytes[i]!;
      const h0 = Math.imul((c4 & 0xff) ^ 0x1000000, 0x2545f491);
      const h1 = Math.imul((c4 & 0xffff) ^ 0x2000000, 0x9e3779b1);
      const h2 = Math.imul((c4 & 0xffffff) ^ 0x3000000, 0x2545f491) + 0x3c6ef372;
      const h3 = Math.imul(c4 ^ 0x7f4a7c15, 0x9e3779b1) + 0x61c88647;
      const h4 = Math.imul(c4 ^ Math.imul((c8 & 0xffff) + 0x5bd1e995, 0x27d4eb2f), 0x165667b1) + 0x5a827999;
      const h5 = Math.imul(word0 ^ 0x4f1bbcdc, 0x68e31da5) + 0xca62c1d6;
      const a2row = ((Math.imul((c4 & 0xffff) + 1, 0x9e3779b1) >>> 16) & apmHashMask) * 256;
      const mix1 = Math.imul(16 | (known >> 4), MIX0);
      // The buckets of both nibbles: the first in its two candidates of the hash's bucket pair,
      // the second in the same 4 KiB page; a missing context reads the empty bucket. All twelve
      // first candidates are loaded before any is compared, so that their cache misses overlap
      // (written out: V8 would not inline a helper into this function).
      const fa0 = finalize((h0 + MIX0) | 0);
      const fb0 = finalize((h0 + mix1) | 0);
      const fa1 = finalize((h1 + MIX0) | 0);
      const fb1 = finalize((h1 + mix1) | 0);
      const fa2 = finalize((h2 + MIX0) | 0);
      const fb2 = finalize((h2 + mix1) | 0);
      const fa3 = finalize((h3 + MIX0) | 0);
      const fb3 = finalize((h3 + mix1) | 0);
      const fa4 = finalize((h4 + MIX0) | 0);
      const fb4 = finalize((h4 + mix1) | 0);
      const fa5 = finalize((h5 + MIX0) | 0);
      const fb5 = finalize((h5 + mix1) | 0);
      const pa0 = (fa0 >>> shift) << 4;
      const pb0 = (pa0 & PAGE_MASK) | ((fb0 >>> 25) << 4);
      const pa1 = (fa1 >>> shift) << 4;
      const pb1 = (pa1 & PAGE_MASK) | ((fb1 >>> 25) << 4);
      const pa2 = (fa2 >>> shift) << 4;
      const pb2 = (pa2 & PAGE_MASK) | ((fb2 >>> 25) << 4);
      const pa3 = (fa3 >>> shift) << 4;
      const pb3 = (pa3 & PAGE_MASK) | ((fb3 >>> 25) << 4);
      const pa4 = (fa4 >>> shift) << 4;
      const pb4 = (pa4 & PAGE_MASK) | ((fb4 >>> 25) << 4);
      const pa5 = (fa5 >>> shift) << 4;
      const pb5 = (pa5 & PAGE_MASK) | ((fb5 >>> 25) << 4);
      const ta0 = t[pa0]!;
      const tb0 = t[pb0]!;
      const ta1 = t[pa1]!;
      const tb1 = t[pb1]!;
      const ta2 = t[pa2]!;
      const tb2 = t[pb2]!;
      const ta3 = t[pa3]!;
      const tb3 = t[pb3]!;
      const ta4 = t[pa4]!;
      const tb4 = t[pb4]!;
      const ta5 = t[pa5]!;
      const tb5 = t[pb5]!;
      const ca0 = (fa0 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa0 & 0xffff;
      const ba0 = ta0 === ca0 ? pa0 : t[pa0 ^ 16] === ca0 ? pa0 ^ 16 : empty;
      const cb0 = (fb0 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb0 & 0xffff;
      const bb0 = tb0 === cb0 ? pb0 : t[pb0 ^ 16] === cb0 ? pb0 ^ 16 : empty;
      const ca1 = (fa1 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa1 & 0xffff;
      const ba1 = ta1 === ca1 ? pa1 : t[pa1 ^ 16] === ca1 ? pa1 ^ 16 : empty;
      const cb1 = (fb1 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb1 & 0xffff;
      const bb1 = tb1 === cb1 ? pb1 : t[pb1 ^ 16] === cb1 ? pb1 ^ 16 : empty;
      const ca2 = (fa2 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa2 & 0xffff;
      const ba2 = ta2 === ca2 ? pa2 : t[pa2 ^ 16] === ca2 ? pa2 ^ 16 : empty;
      const cb2 = (fb2 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb2 & 0xffff;
      const bb2 = tb2 === cb2 ? pb2 : t[pb2 ^ 16] === cb2 ? pb2 ^ 16 : empty;
      const ca3 = (fa3 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa3 & 0xffff;
      const ba3 = ta3 === ca3 ? pa3 : t[pa3 ^ 16] === ca3 ? pa3 ^ 16 : empty;
      const cb3 = (fb3 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb3 & 0xffff;
      const bb3 = tb3 === cb3 ? pb3 : t[pb3 ^ 16] === cb3 ? pb3 ^ 16 : empty;
      const ca4 = (fa4 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa4 & 0xffff;
      const ba4 = ta4 === ca4 ? pa4 : t[pa4 ^ 16] === ca4 ? pa4 ^ 16 : empty;
      const cb4 = (fb4 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb4 & 0xffff;
      const bb4 = tb4 === cb4 ? pb4 : t[pb4 ^ 16] === cb4 ? pb4 ^ 16 : empty;
      const ca5 = (fa5 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fa5 & 0xffff;
      const ba5 = ta5 === ca5 ? pa5 : t[pa5 ^ 16] === ca5 ? pa5 ^ 16 : empty;
      const cb5 = (fb5 & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : fb5 & 0xffff;
      const bb5 = tb5 === cb5 ? pb5 : t[pb5 ^ 16] === cb5 ? pb5 ^ 16 : empty;
      {
        const r = a2row * APM_STEPS;
        const k = known | 256;
        touched =
          (touched +
            apm2[r + APM_STEPS]! +
            apm2[r + (k >>> 7) * APM_STEPS]! +
            apm2[r + (k >>> 6) * APM_STEPS]! +
            apm2[r + (k >>> 5) * APM_STEPS]! +
            apm2[r + (k >>> 4) * APM_STEPS]! +
            apm2[r + (k >>> 3) * APM_STEPS]! +
            apm2[r + (k >>> 2) * APM_STEPS]! +
            apm2[r + (k >>> 1) * APM_STEPS]!) |
          0;
      }
      let c0 = 1;
      for (let half = 0; half < 2; half++) {
        const b0 = half === 0 ? ba0 : bb0;
        const b1 = half === 0 ? ba1 : bb1;
        const b2 = half === 0 ? ba2 : bb2;
        const b3 = half === 0 ? ba3 : bb3;
        const b4 = half === 0 ? ba4 : bb4;
        const b5 = half === 0 ? ba5 : bb5;
        let nib = 1;
        for (let k = 0; k < 4; k++) {
          const s0 = t[b0 + nib]!;
          const s1 = t[b1 + nib]!;
          const s2 = t[b2 + nib]!;
          const s3 = t[b3 + nib]!;
          const s4 = t[b4 + nib]!;
          const s5 = t[b5 + nib]!;
          const seen =
            ((((s1 & 15) + 15) & 16) +
              (((s2 & 15) + 15) & 16) +
              (((s3 & 15) + 15) & 16) +
              (((s4 & 15) + 15) & 16)) >>
            4;
          const at = half * 4 + k;
          let xm = 0;
          let mset = 0;
          if (matchLen > 0) {
            const e = (matchByte | 256) >>> (7 - at);
            if (e >>> 1 === c0) {
              xm = STRETCH[sm[Math.min(matchLen, MATCH_CAP) * 2 + (e & 1)]! >>> 14]!;
              mset = 1;
            } else {
              matchLen = 0;
            }
          }
          const wb = (((seen << 1) + mset) * 256 + c0) * N_IN;
          const dot =
            STRETCH[s0 >>> 4]! * w[wb]! +
            STRETCH[s1 >>> 4]! * w[wb + 1]! +
            STRETCH[s2 >>> 4]! * w[wb + 2]! +
            STRETCH[s3 >>> 4]! * w[wb + 3]! +
            STRETCH[s4 >>> 4]! * w[wb + 4]! +
            STRETCH[s5 >>> 4]! * w[wb + 5]! +
            xm * w[wb + 6]! +
            256 * w[wb + 7]!;
          let d = (dot / 65536) | 0;
          if (d > 2047) d = 2047;
          else if (d < -2047) d = -2047;
          const v = (d + 2048) * (APM_STEPS - 1);
          const lo = v >> 12;
          const wt = v & 4095;
          const k1 = c0 * APM_STEPS + lo;
          const k2 = (a2row + c0) * APM_STEPS + lo;
          let p =
            (SQUASH[d + 2047]! +
              ((apm1[k1]! * (4096 - wt) + apm1[k1 + 1]! * wt) >> 16) +
              2 * ((apm2[k2]! * (4096 - wt) + apm2[k2 + 1]! * wt) >> 16) +
              2) >>
            2;
          if (p < 1) p = 1;
          else if (p > 4095) p = 4095;
          const y = (known >> (7 - at)) & 1;
          bits += COST_BITS[y === 1 ? p : 4096 - p]!;
          c0 = (c0 << 1) | y;
          nib = (nib << 1) | y;
        }
      }

      const c = known;
      c8 = ((c8 << 8) | (c4 >>> 24)) >>> 0;
      c4 = ((c4 << 8) | c) >>> 0;
      const lc = c >= 65 && c <= 90 ? c + 32 : c;
      if ((lc >= 97 && lc <= 122) || lc >= 128) {
        word0 = Math.imul(word0 ^ lc, 0x01000193) + 1;
      } else word0 = 0;

      // Match model, as in `process` (the history and its index are only read).
      const at = i + 1;
      matchHash = (Math.imul(matchHash, 7976) + c + 1) & matchMask;
      if (matchLen > 0) {
        matchLen++;
        matchPtr = (matchPtr + 1) >>> 0;
      }
      if (matchLen === 0 && at >= 4) {
        const ptr = mtab[matchHash]! >>> 0;
        const dist = (histPos - ptr) >>> 0;
        if (dist > 0 && dist < histSize) {
          let len = 0;
          const limit = Math.min(MATCH_MAX_VERIFY, at, histSize - dist);
          while (len < limit && hist[(ptr - len - 1) & histMask] === bytes[at - len - 1]) len++;
          matchLen = len;
          matchPtr = ptr;
        }
      }
      if (matchLen > 0) {
        const dist = (histPos - matchPtr) >>> 0;
        if (dist === 0 || dist >= histSize) matchLen = 0;
        else matchByte = hist[matchPtr & histMask]!;
      }
      if (perSymbol !== undefined) {
        perSymbol[i] = bits - last;
        last = bits;
      }
    }
    this.sink[0] = touched;
    return { bits, chars: length, bpc: length === 0 ? 0 : bits / length };
  }

  /**
   * Drives an arithmetic coder: for each bit of `bytes` the model's P(1) goes to `coder.code`,
   * whose answer is the bit modelled (and learned when `learn`). A decoder's answers are written
   * back into `bytes`, which it passes zeroed with the message's length.
   */
  codeBits(bytes: Uint8Array, learn: boolean, coder: BitCoder): TextScore {
    return this.process(bytes, learn, undefined, coder);
  }

  /**
   * The model's one loop. Everything it touches per bit is a local: the seven slot values and
   * their stretched probabilities are named variables rather than array elements, the buckets are
   * looked up once per nibble, and there is no call per bit except to a coder. Each message starts
   * from an empty context; the learned state is only written when `learn`.
   */
  private process(
    bytes: Uint8Array,
    learn: boolean,
    perSymbol: Float64Array | undefined,
    coder: BitCoder | undefined,
  ): TextScore {
    if (learn && this.readOnly) throw new TypeError('this text model is read-only');
    const t = this.table;
    const t32 = this.table32;
    const w = this.weights;
    const sm = this.matchSm;
    const apm1 = this.apm1;
    const apm2 = this.apm2;
    const hist = this.history;
    const mtab = this.matchTable;
    const header = this.header;
    const histMask = this.histMask;
    const histSize = this.histSize;
    const matchMask = this.matchMask;
    const apmHashMask = this.apmHashMask;
    const shift = this.bucketShift;
    const empty = this.emptyBucket;
    const length = bytes.length;
    let histPos = header[H_HIST_POS]! >>> 0;
    let c4 = 0;
    let c8 = 0;
    let word0 = 0;
    let matchHash = 0;
    let matchPtr = 0;
    let matchLen = 0;
    let matchByte = 0;
    let bits = 0;
    let last = 0;
    // Context hashes of the byte being modelled (orders 1, 2, 3, 4, 6, word) and their buckets.
    const hs = this.hashes;
    const bs = this.bases;
    const pages = this.pages;
    const hhs = this.nibbleHashes;
    const ahead = coder === undefined;
    let touched = 0;
    // The order 2 APM's row of this byte.
    let a2row = 0;
    for (let i = 0; i < length; i++) {
      hs[0] = Math.imul((c4 & 0xff) ^ 0x1000000, 0x2545f491);
      hs[1] = Math.imul((c4 & 0xffff) ^ 0x2000000, 0x9e3779b1);
      hs[2] = Math.imul((c4 & 0xffffff) ^ 0x3000000, 0x2545f491) + 0x3c6ef372;
      hs[3] = Math.imul(c4 ^ 0x7f4a7c15, 0x9e3779b1) + 0x61c88647;
      hs[4] = Math.imul(c4 ^ Math.imul((c8 & 0xffff) + 0x5bd1e995, 0x27d4eb2f), 0x165667b1) + 0x5a827999;
      hs[5] = Math.imul(word0 ^ 0x4f1bbcdc, 0x68e31da5) + 0xca62c1d6;
      a2row = ((Math.imul((c4 & 0xffff) + 1, 0x9e3779b1) >>> 16) & apmHashMask) * 256;
      const known = bytes[i]!;
      if (ahead) {
        // The byte is known (scoring or encoding): hash both nibbles' contexts now and touch their
        // buckets, so that the cache misses of all twelve overlap instead of coming in two rounds.
        // Only reads, and the same hashes the lookups below would compute: the result is unchanged.
        const mix1 = Math.imul(16 | (known >> 4), MIX0);
        for (let k = 0; k < N_CTX; k++) {
          const ha = finalize((hs[k]! + MIX0) | 0);
          const hb = finalize((hs[k]! + mix1) | 0);
          hhs[k] = ha;
          hhs[N_CTX + k] = hb;
          const ba = (ha >>> shift) << 4;
          touched = (touched + t[ba]! + t[(ba & PAGE_MASK) | ((hb >>> 25) << 4)]!) | 0;
        }
      }
      let c0 = 1;
      for (let half = 0; half < 2; half++) {
        const mixIn = Math.imul(c0, MIX0);
        for (let k = 0; k < N_CTX; k++) {
          const hh = ahead ? hhs[half * N_CTX + k]! : finalize((hs[k]! + mixIn) | 0);
          const chk = (hh & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : hh & 0xffff;
          let b: number;
          if (half === 0) {
            b = (hh >>> shift) << 4;
            pages[k] = b & PAGE_MASK;
          } else b = pages[k]! | ((hh >>> 25) << 4);
          let base = b;
          if (t[b] !== chk) {
            base = b ^ 16;
            if (t[base] !== chk) {
              if (!learn) base = empty;
              else {
                if ((t[base + 1]! & 15) >= (t[b + 1]! & 15)) base = b;
                t[base] = chk;
                t[base + 1] = SLOT_INIT;
                const q = base >> 1;
                t32[q + 1] = FILL32;
                t32[q + 2] = FILL32;
                t32[q + 3] = FILL32;
                t32[q + 4] = FILL32;
                t32[q + 5] = FILL32;
                t32[q + 6] = FILL32;
                t32[q + 7] = FILL32;
              }
            }
          }
          bs[k] = base;
        }
        const b0 = bs[0]!;
        const b1 = bs[1]!;
        const b2 = bs[2]!;
        const b3 = bs[3]!;
        const b4 = bs[4]!;
        const b5 = bs[5]!;
        let nib = 1;
        for (let k = 0; k < 4; k++) {
          const j0 = b0 + nib;
          const j1 = b1 + nib;
          const j2 = b2 + nib;
          const j3 = b3 + nib;
          const j4 = b4 + nib;
          const j5 = b5 + nib;
          const s0 = t[j0]!;
          const s1 = t[j1]!;
          const s2 = t[j2]!;
          const s3 = t[j3]!;
          const s4 = t[j4]!;
          const s5 = t[j5]!;
          const x0 = STRETCH[s0 >>> 4]!;
          const x1 = STRETCH[s1 >>> 4]!;
          const x2 = STRETCH[s2 >>> 4]!;
          const x3 = STRETCH[s3 >>> 4]!;
          const x4 = STRETCH[s4 >>> 4]!;
          const x5 = STRETCH[s5 >>> 4]!;
          // Orders 2, 3, 4 and 6 seen at this bit: 0..4 (a count of 0 is "never seen").
          const seen =
            ((((s1 & 15) + 15) & 16) +
              (((s2 & 15) + 15) & 16) +
              (((s3 & 15) + 15) & 16) +
              (((s4 & 15) + 15) & 16)) >>
            4;
          let xm = 0;
          let ms = -1;
          if (matchLen > 0) {
            const e = (matchByte | 256) >>> (7 - (half * 4 + k));
            if (e >>> 1 === c0) {
              ms = Math.min(matchLen, MATCH_CAP) * 2 + (e & 1);
              xm = STRETCH[sm[ms]! >>> 14]!;
            } else {
              matchLen = 0;
            }
          }
          const wb = (((seen << 1) + (ms >= 0 ? 1 : 0)) * 256 + c0) * N_IN;
          const dot =
            x0 * w[wb]! +
            x1 * w[wb + 1]! +
            x2 * w[wb + 2]! +
            x3 * w[wb + 3]! +
            x4 * w[wb + 4]! +
            x5 * w[wb + 5]! +
            xm * w[wb + 6]! +
            256 * w[wb + 7]!;
          let d = (dot / 65536) | 0;
          if (d > 2047) d = 2047;
          else if (d < -2047) d = -2047;
          const pm = SQUASH[d + 2047]!;
          // The two APMs interpolate between 24 buckets of the stretched probability.
          const v = (d + 2048) * (APM_STEPS - 1);
          const lo = v >> 12;
          const wt = v & 4095;
          const k1 = c0 * APM_STEPS + lo;
          const a1 = (apm1[k1]! * (4096 - wt) + apm1[k1 + 1]! * wt) >> 16;
          const k2 = (a2row + c0) * APM_STEPS + lo;
          const a2 = (apm2[k2]! * (4096 - wt) + apm2[k2 + 1]! * wt) >> 16;
          let p = (pm + a1 + 2 * a2 + 2) >> 2;
          if (p < 1) p = 1;
          else if (p > 4095) p = 4095;

          const bit = (known >> (7 - (half * 4 + k))) & 1;
          const y = coder === undefined ? bit : coder.code(p, bit);
          bits += COST_BITS[y === 1 ? p : 4096 - p]!;

          if (learn) {
            const ys = y << 16;
            t[j0] = NEXT[s0 | ys]!;
            t[j1] = NEXT[s1 | ys]!;
            t[j2] = NEXT[s2 | ys]!;
            t[j3] = NEXT[s3 | ys]!;
            t[j4] = NEXT[s4 | ys]!;
            t[j5] = NEXT[s5 | ys]!;
            if (ms >= 0) {
              const s = sm[ms]!;
              const n = s & 1023;
              const q = s >>> 10;
              const target = y === 1 ? 65535 : 0;
              sm[ms] = ((q + (((target - q) * DT15[n]!) >> 15)) << 10) | (n < 1023 ? n + 1 : n);
            }
            const err = ((y << 12) - pm) * MIXER_RATE;
            w[wb] = w[wb]! + ((x0 * err) >> 12);
            w[wb + 1] = w[wb + 1]! + ((x1 * err) >> 12);
            w[wb + 2] = w[wb + 2]! + ((x2 * err) >> 12);
            w[wb + 3] = w[wb + 3]! + ((x3 * err) >> 12);
            w[wb + 4] = w[wb + 4]! + ((x4 * err) >> 12);
            w[wb + 5] = w[wb + 5]! + ((x5 * err) >> 12);
            w[wb + 6] = w[wb + 6]! + ((xm * err) >> 12);
            w[wb + 7] = w[wb + 7]! + ((256 * err) >> 12);
            const g = (y << 16) + (y << APM_RATE) - y - y;
            const i1 = k1 + (wt >> 11);
            apm1[i1] = apm1[i1]! + ((g - apm1[i1]!) >> APM_RATE);
            const i2 = k2 + (wt >> 11);
            apm2[i2] = apm2[i2]! + ((g - apm2[i2]!) >> APM_RATE);
          }
          c0 = (c0 << 1) | y;
          nib = (nib << 1) | y;
        }
      }

      const c = c0 & 255;
      if (coder !== undefined) bytes[i] = c;
      if (learn) {
        hist[histPos & histMask] = c;
        histPos = (histPos + 1) >>> 0;
      }
      c8 = ((c8 << 8) | (c4 >>> 24)) >>> 0;
      c4 = ((c4 << 8) | c) >>> 0;
      const lc = c >= 65 && c <= 90 ? c + 32 : c;
      if ((lc >= 97 && lc <= 122) || lc >= 128) {
        word0 = Math.imul(word0 ^ lc, 0x01000193) + 1;
      } else word0 = 0;

      // Match model: follow the match while it predicts, else look the last bytes up.
      const at = i + 1;
      matchHash = (Math.imul(matchHash, 7976) + c + 1) & matchMask;
      if (matchLen > 0) {
        matchLen++;
        matchPtr = (matchPtr + 1) >>> 0;
      }
      if (matchLen === 0 && at >= 4) {
        const ptr = mtab[matchHash]! >>> 0;
        const dist = (histPos - ptr) >>> 0;
        if (dist > 0 && dist < histSize) {
          let len = 0;
          const limit = Math.min(MATCH_MAX_VERIFY, at, histSize - dist);
          while (len < limit && hist[(ptr - len - 1) & histMask] === bytes[at - len - 1]) len++;
          matchLen = len;
          matchPtr = ptr;
        }
      }
      if (matchLen > 0) {
        const dist = (histPos - matchPtr) >>> 0;
        if (dist === 0 || dist >= histSize) matchLen = 0;
        else matchByte = hist[matchPtr & histMask]!;
      }
      if (learn && at >= 4) mtab[matchHash] = histPos | 0;
      if (perSymbol !== undefined) {
        perSymbol[i] = bits - last;
        last = bits;
      }
    }
    if (learn) {
      header[H_HIST_POS] = histPos | 0;
      const lo = (header[H_LEARNED_LO]! >>> 0) + length;
      header[H_LEARNED_LO] = lo >>> 0;
      header[H_LEARNED_HI] = (header[H_LEARNED_HI]! + Math.floor(lo / 2 ** 32)) | 0;
      header[H_MESSAGES] = (header[H_MESSAGES]! + 1) | 0;
    }
    this.sink[0] = touched;
    return { bits, chars: length, bpc: length === 0 ? 0 : bits / length };
  }
}

/** A slot after learning a bit (target 0 or 4095): its probability moves by 1/(n + 1.2), its count grows. */
function update(s: number, target: number): number {
  const n = s & 15;
  const q = s >>> 4;
  return ((q + (((target - q) * DT[n]! + 32768) >> 16)) << 4) | (n < COUNT_LIMIT ? n + 1 : n);
}
