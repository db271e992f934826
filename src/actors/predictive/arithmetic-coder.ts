/**
 * Binary arithmetic coder driven by the text model: the 32-bit carry-less range coder of
 * Mahoney's lpaq1 / paq8 (after Schindler's range coder and the binary coder of Witten, Neal and
 * Cleary, "Arithmetic coding for data compression", CACM 1987). Each bit narrows [x1, x2] in
 * proportion to the model's 12-bit P(1); leading bytes shared by x1 and x2 are settled and
 * written, so no carry ever propagates. The split point is computed exactly (a 44-bit product in a
 * double) rather than from the range shifted right by 12, so the code length is the model's
 * surprisal plus one flushed byte and the small loss of a range that straddles a byte boundary
 * while it shrinks (the price of having no carry).
 *
 * `encode` and `decode` drive the model through the same sequence of predictions, so they must
 * start from models in the same state (a fresh model, or `clone()`s / `deserialize`d copies of
 * one). With `learn` (the default) both adapt their model as they go, as an adaptive compressor
 * does; with `learn: false` the model is read only and left unchanged.
 */

import type { BitCoder, TextModel } from './text-model.js';

export interface CoderOptions {
  /** Adapt the model to the text while coding. @default true */
  learn?: boolean;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Length in UTF-8 bytes of `text`: the `length` that `decode` needs. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

class Encoder implements BitCoder {
  private x1 = 0;
  private x2 = 0xffffffff;
  private out: Uint8Array;
  private n = 0;

  constructor(capacity: number) {
    this.out = new Uint8Array(Math.max(16, capacity));
  }

  code(p: number, bit: number): number {
    const xmid = this.x1 + Math.floor(((this.x2 - this.x1) * p) / 4096);
    if (bit === 1) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.put(this.x2 >>> 24);
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
    }
    return bit;
  }

  private put(byte: number): void {
    if (this.n === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.n++] = byte;
  }

  /** Any value from x1 up to x1 with its low 24 bits set lies in [x1, x2]: the decoder pads with 0xff. */
  finish(): Uint8Array {
    this.put(this.x1 >>> 24);
    return this.out.slice(0, this.n);
  }
}

class Decoder implements BitCoder {
  private x1 = 0;
  private x2 = 0xffffffff;
  private x = 0;
  private pos = 0;
  private readonly input: Uint8Array;

  constructor(input: Uint8Array) {
    this.input = input;
    for (let k = 0; k < 4; k++) this.x = ((this.x << 8) | this.next()) >>> 0;
  }

  // Past the end the encoder's flush implies 0xff bytes.
  private next(): number {
    return this.pos < this.input.length ? this.input[this.pos++]! : 255;
  }

  code(p: number): number {
    const xmid = this.x1 + Math.floor(((this.x2 - this.x1) * p) / 4096);
    const y = this.x <= xmid ? 1 : 0;
    if (y === 1) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
      this.x = ((this.x << 8) | this.next()) >>> 0;
    }
    return y;
  }
}

/** The code and the model's surprisal of the same pass (the code's ideal length, in bits). */
export function encodeWithBits(
  bytes: Uint8Array,
  model: TextModel,
  options: CoderOptions = {},
): { code: Uint8Array; bits: number } {
  const encoder = new Encoder((bytes.length >> 1) + 16);
  const { bits } = model.codeBits(bytes, options.learn ?? true, encoder);
  return { code: encoder.finish(), bits };
}

export function encodeBytes(bytes: Uint8Array, model: TextModel, options: CoderOptions = {}): Uint8Array {
  return encodeWithBits(bytes, model, options).code;
}

export function decodeBytes(
  code: Uint8Array,
  length: number,
  model: TextModel,
  options: CoderOptions = {},
): Uint8Array {
  const out = new Uint8Array(length);
  model.codeBits(out, options.learn ?? true, new Decoder(code));
  return out;
}

/** Compresses `text` (as UTF-8) with `model`. */
export function encode(text: string, model: TextModel, options: CoderOptions = {}): Uint8Array {
  return encodeBytes(utf8.encode(text), model, options);
}

/**
 * Decompresses `length` UTF-8 bytes (`byteLength(text)`) with a model in the state the encoder's
 * started from. Throws a TypeError if the result is not valid UTF-8 (a wrong model or length).
 */
export function decode(
  code: Uint8Array,
  length: number,
  model: TextModel,
  options: CoderOptions = {},
): string {
  return fromUtf8.decode(decodeBytes(code, length, model, options));
}
