/**
 * Online byte-level text model: a bitwise context-mixing predictor after M. Mahoney, "Adaptive
 * weighing of context models for lossless data compression" (Florida Tech. TR CS-2005-16, 2005)
 * and his lpaq1 (2007): order 1, 2, 3, 4 and 6 contexts, two word contexts (the current word with
 * the previous one, and the current word alone), and a match model over the learned history, mixed
 * by a gated linear network in the logistic domain and refined by two adaptive probability maps
 * (SSE/APM) on order 0 and on hashed order 2.
 *
 * Deviations from lpaq1, chosen for a pure-JS inner loop and for memory per context: a context
 * slot is 16 bits, a direct adaptive probability (12 bits) and a hit count (4 bits) whose learning
 * rate falls as 1/(n + 1.2) to a floor of 1/16, instead of a bit-history state and a second map;
 * one input per context; the mixer's weight set is chosen by the partial byte, by how many of the
 * order 2, 3, 4 and 6 contexts have been seen at this bit, and by whether the match model predicts
 * (a stand-in for the bit-history states' confidence).
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
 *   binary tree), two candidate buckets per lookup; a miss replaces the less used one (its first
 *   node's hit count), so memory never grows and rare contexts are forgotten first. Compression
 *   degrades gracefully as the table fills: on 1.7 MB of English, 8 MiB cost ~10% more bits than
 *   32 MiB, and 128 MiB saves ~4%;
 * - a circular history of learned bytes (about a quarter of the size) and a hash table of
 *   positions in it for the match model;
 * - mixer weights and the two APM tables.
 * A reader can wrap a copy of that buffer (`snapshot()`) read-only, for instance in a worker
 * thread: scoring never writes to the buffer, and a context missing from a read-only table reads
 * as "never seen" (p = 1/2) instead of claiming a bucket. */

import { COST_BITS, SQUASH, STRETCH } from './logistic.js';

const MAGIC = 0x4a50504d;
const VERSION = 1;
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

/** Hashed contexts: orders 1, 2, 3, 4, 6, the word pair and the current word. */
const N_CTX = 7;
/** Mixer inputs: the contexts, the match model and a bias. */
const N_IN = N_CTX + 2;
const MATCH_INPUT = N_CTX;
const BIAS_INPUT = N_CTX + 1;
/** Weight sets: partial byte × (orders 2-4 and 6 seen in this context, 0..4) × match model active. */
const MIXER_SETS = 256 * 10;
const APM_STEPS = 24;
/** Match length (bytes) above which the match model's confidence is no longer told apart. */
const MATCH_CAP = 31;
const MATCH_MAX_VERIFY = 400;
/** An empty slot: p = 1/2 (2048 in 12 bits), no hits. No check word takes this value. */
const SLOT_INIT = 0x8000;
const COUNT_LIMIT = 15;
const MIXER_RATE = 2;
const MIXER_INIT = 0x5000;
const APM_RATE = 6;
const FIXED_BYTES =
  HEADER_INTS * 4 + MIXER_SETS * N_IN * 4 + (MATCH_CAP + 1) * 2 * 4 + 16 * 2 + 256 * APM_STEPS * 2;

/** Learning rate of a slot after n hits, scaled by 2^16: 1/(n + 1.2), fast at first (tuned on prose). */
const DT = new Int32Array(1024);
for (let n = 0; n < 1024; n++) DT[n] = Math.floor(65536 / (n + 1.2));

/** Smallest and default sizes in bytes of a model's buffer. */
export const TEXT_MODEL_MIN_BYTES = 256 * 1024;
export const TEXT_MODEL_DEFAULT_BYTES = 1024 * 1024;

export interface TextModelOptions {
  /** Upper bound of the model's memory in bytes (the buffer's size). @default 1 MiB */
  sizeBytes?: number;
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

const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || c >= 128;

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
  private readonly matchSm: Uint32Array;
  private readonly table: Uint16Array;
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

  // Scratch of the message being modelled (not part of the learned state).
  private learning = false;
  private readonly ctxHash = new Uint32Array(N_CTX);
  private readonly bases = new Int32Array(N_CTX);
  private readonly slots = new Int32Array(N_CTX);
  private readonly inputs = new Int32Array(N_IN);

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
      if (h.length < HEADER_INTS || h[H_MAGIC] !== MAGIC || h[H_VERSION] !== VERSION) {
        throw new TypeError('not a text model buffer (bad magic or version)');
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
      layout = layoutFor((source as TextModelOptions | undefined)?.sizeBytes ?? TEXT_MODEL_DEFAULT_BYTES);
      buffer = new ArrayBuffer(layout.total);
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
    this.matchSm = new Uint32Array(buffer, take((MATCH_CAP + 1) * 8), (MATCH_CAP + 1) * 2);
    this.table = new Uint16Array(buffer, take((2 << layout.hashBits) + 32), (1 << layout.hashBits) + 16);
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
    this.matchSm.fill(SLOT_INIT);
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

  static deserialize(bytes: Uint8Array, options: WrapOptions = {}): TextModel {
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return new TextModel(copy, options);
  }

  /** An independent copy (same learned state). */
  clone(): TextModel {
    return TextModel.deserialize(new Uint8Array(this.buffer));
  }

  private run(bytes: Uint8Array, learn: boolean, perSymbol: Float64Array | undefined): TextScore {
    return this.process(bytes, learn, perSymbol, undefined);
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
   * The model's one loop, with its state in locals (a large share of the speed in V8). Each
   * message starts from an empty context; the learned state is only written when `learn`.
   */
  private process(
    bytes: Uint8Array,
    learn: boolean,
    perSymbol: Float64Array | undefined,
    coder: BitCoder | undefined,
  ): TextScore {
    if (learn && this.readOnly) throw new TypeError('this text model is read-only');
    this.learning = learn;
    const t = this.table;
    const w = this.weights;
    const sm = this.matchSm;
    const apm1 = this.apm1;
    const apm2 = this.apm2;
    const hist = this.history;
    const mtab = this.matchTable;
    const header = this.header;
    const bases = this.bases;
    const slots = this.slots;
    const x = this.inputs;
    const histMask = this.histMask;
    const histSize = this.histSize;
    const matchMask = this.matchMask;
    const apmHashMask = this.apmHashMask;
    const length = bytes.length;
    let histPos = header[H_HIST_POS]! >>> 0;
    let c4 = 0;
    let c8 = 0;
    let word0 = 0;
    let word1 = 0;
    let matchHash = 0;
    let matchPtr = 0;
    let matchLen = 0;
    let matchByte = 0;
    let bits = 0;
    let last = 0;
    this.contextHashes(0, 0, 0, 0);
    this.selectBuckets(1);
    x[BIAS_INPUT] = 256;
    for (let i = 0; i < length; i++) {
      const known = bytes[i]!;
      let c0 = 1;
      let nib = 1;
      for (let bitPos = 0; bitPos < 8; bitPos++) {
        let seenOrders = 0;
        for (let k = 0; k < N_CTX; k++) {
          const j = bases[k]! + nib;
          slots[k] = j;
          const s = t[j]!;
          x[k] = STRETCH[s >>> 4]!;
          if (k >= 1 && k <= 4 && (s & 15) !== 0) seenOrders++;
        }
        let matchSlot = -1;
        if (matchLen > 0) {
          const e = (matchByte | 256) >>> (7 - bitPos);
          if (e >>> 1 === c0) {
            matchSlot = Math.min(matchLen, MATCH_CAP) * 2 + (e & 1);
            x[MATCH_INPUT] = STRETCH[sm[matchSlot]! >>> 20]!;
          } else {
            matchLen = 0;
            x[MATCH_INPUT] = 0;
          }
        } else {
          x[MATCH_INPUT] = 0;
        }
        const wb = ((seenOrders * 2 + (matchSlot >= 0 ? 1 : 0)) * 256 + c0) * N_IN;
        let dot = 0;
        for (let k = 0; k < N_IN; k++) dot += x[k]! * w[wb + k]!;
        let d = (dot * (1 / 65536)) | 0;
        if (d > 2047) d = 2047;
        else if (d < -2047) d = -2047;
        const pm = SQUASH[d + 2047]!;
        // The two APMs interpolate between 24 buckets of the stretched probability.
        const v = (STRETCH[pm]! + 2048) * (APM_STEPS - 1);
        const lo = v >> 12;
        const wt = v & 4095;
        const k1 = c0 * APM_STEPS + lo;
        const a1 = (apm1[k1]! * (4096 - wt) + apm1[k1 + 1]! * wt) >> 16;
        const k2 =
          (((Math.imul((c4 & 0xffff) + 1, 0x9e3779b1) >>> 16) & apmHashMask) * 256 + c0) * APM_STEPS + lo;
        const a2 = (apm2[k2]! * (4096 - wt) + apm2[k2 + 1]! * wt) >> 16;
        let p = (pm + a1 + 2 * a2 + 2) >> 2;
        if (p < 1) p = 1;
        else if (p > 4095) p = 4095;

        const bit = (known >> (7 - bitPos)) & 1;
        const y = coder === undefined ? bit : coder.code(p, bit);
        bits += COST_BITS[y === 1 ? p : 4096 - p]!;

        if (learn) {
          const target12 = y === 1 ? 4095 : 0;
          for (let k = 0; k < N_CTX; k++) {
            const j = slots[k]!;
            const s = t[j]!;
            const n = s & 15;
            const q = s >>> 4;
            t[j] = ((q + (((target12 - q) * DT[n]! + 32768) >> 16)) << 4) | (n < COUNT_LIMIT ? n + 1 : n);
          }
          if (matchSlot >= 0) {
            const s = sm[matchSlot]!;
            const n = s & 1023;
            const q = s >>> 10;
            const target = y === 1 ? 4194303 : 0;
            sm[matchSlot] = ((q + ((target - q) * DT[n]!) / 65536) | 0) * 1024 + (n < 1023 ? n + 1 : n);
          }
          const err = ((y << 12) - pm) * MIXER_RATE;
          for (let k = 0; k < N_IN; k++) w[wb + k] = w[wb + k]! + ((x[k]! * err) >> 12);
          const g = (y << 16) + (y << APM_RATE) - y - y;
          const i1 = k1 + (wt >> 11);
          apm1[i1] = apm1[i1]! + ((g - apm1[i1]!) >> APM_RATE);
          const i2 = k2 + (wt >> 11);
          apm2[i2] = apm2[i2]! + ((g - apm2[i2]!) >> APM_RATE);
        }
        c0 = (c0 << 1) | y;
        nib = (nib << 1) | y;
        if (bitPos === 3) {
          nib = 1;
          this.selectBuckets(c0);
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
      if (isLetter(lc)) {
        word0 = Math.imul(word0 ^ lc, 0x01000193) + 1;
      } else if (word0 !== 0) {
        word1 = word0;
        word0 = 0;
      }
      this.contextHashes(c4, c8, word0, word1);

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
      this.selectBuckets(1);
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
    this.learning = false;
    return { bits, chars: length, bpc: length === 0 ? 0 : bits / length };
  }

  private contextHashes(c4: number, c8: number, word0: number, word1: number): void {
    const ch = this.ctxHash;
    ch[0] = Math.imul((c4 & 0xff) ^ 0x1000000, 0x2545f491);
    ch[1] = Math.imul((c4 & 0xffff) ^ 0x2000000, 0x9e3779b1);
    ch[2] = Math.imul((c4 & 0xffffff) ^ 0x3000000, 0x2545f491) + 0x3c6ef372;
    ch[3] = Math.imul(c4 ^ 0x7f4a7c15, 0x9e3779b1) + 0x61c88647;
    ch[4] = Math.imul(c4 ^ Math.imul((c8 & 0xffff) + 0x5bd1e995, 0x27d4eb2f), 0x165667b1) + 0x5a827999;
    ch[5] = Math.imul(word0 ^ Math.imul(word1 + 0x6c62272e, 0x2c1b3c6d), 0x297a2d39) + 0x6ed9eba1;
    ch[6] = Math.imul(word0 ^ 0x4f1bbcdc, 0x68e31da5) + 0xca62c1d6;
  }

  private selectBuckets(c0: number): void {
    const t = this.table;
    const shift = this.bucketShift;
    const mixIn = Math.imul(c0, 0x6f4f2a35);
    for (let i = 0; i < N_CTX; i++) {
      const hh = finalize((this.ctxHash[i]! + mixIn) | 0);
      const chk = (hh & 0xffff) === SLOT_INIT ? SLOT_INIT + 1 : hh & 0xffff;
      const b = (hh >>> shift) << 4;
      let base: number;
      if (t[b] === chk) base = b;
      else if (t[b ^ 16] === chk) base = b ^ 16;
      else if (!this.learning) base = this.emptyBucket;
      else {
        const b2 = b ^ 16;
        base = (t[b2 + 1]! & 15) < (t[b + 1]! & 15) ? b2 : b;
        t.fill(SLOT_INIT, base + 1, base + 16);
        t[base] = chk;
      }
      this.bases[i] = base;
    }
  }
}
