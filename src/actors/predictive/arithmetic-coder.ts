/**
 * Binary arithmetic coder driven by the text model: the 32-bit carry-less range coder of
 * Mahoney's lpaq1 / paq8 (after Schindler's range coder and the binary coder of Witten, Neal and
 * Cleary, "Arithmetic coding for data compression", CACM 1987). Each bit narrows [x1, x2] in
 * proportion to the model's 12-bit P(1); leading bytes shared by x1 and x2 are settled and
 * written, so no carry ever propagates. The code length is the model's surprisal plus at most
 * about 2^-12 bits per coded bit of rounding and one flushed byte.
 *
 * `encode` and `decode` drive the model through the same sequence of predictions, so they must
 * start from models in the same state (a fresh model, or `clone()`s / `deserialize`d copies of
 * one). With `learn` (the default) both adapt their model as they go, as an adaptive compressor
 * does; with `learn: false` the model is read only and left unchanged.
 */

import type { TextModel } from './text-model.js';

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

export function encodeBytes(bytes: Uint8Array, model: TextModel, options: CoderOptions = {}): Uint8Array {
  let out = new Uint8Array(Math.max(16, (bytes.length >> 1) + 16));
  let n = 0;
  let x1 = 0;
  let x2 = 0xffffffff;
  model.beginMessage(options.learn ?? true, bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    for (let b = 7; b >= 0; b--) {
      const y = (c >> b) & 1;
      const xmid = x1 + ((x2 - x1) >>> 12) * model.predictBit();
      if (y === 1) x2 = xmid;
      else x1 = xmid + 1;
      model.updateBit(y);
      while (((x1 ^ x2) & 0xff000000) === 0) {
        if (n === out.length) {
          const grown = new Uint8Array(out.length * 2);
          grown.set(out);
          out = grown;
        }
        out[n++] = x2 >>> 24;
        x1 = (x1 << 8) >>> 0;
        x2 = ((x2 << 8) | 255) >>> 0;
      }
    }
  }
  model.endMessage();
  // Any value from x1 up to x1 with its low 24 bits set lies in [x1, x2]: the decoder pads with 0xff.
  if (n === out.length) {
    const grown = new Uint8Array(out.length + 1);
    grown.set(out);
    out = grown;
  }
  out[n++] = x1 >>> 24;
  return out.slice(0, n);
}

export function decodeBytes(
  code: Uint8Array,
  length: number,
  model: TextModel,
  options: CoderOptions = {},
): Uint8Array {
  const out = new Uint8Array(length);
  let x1 = 0;
  let x2 = 0xffffffff;
  let x = 0;
  let pos = 0;
  // Past the end the encoder's flush implies 0xff bytes.
  const next = (): number => (pos < code.length ? code[pos++]! : 255);
  for (let k = 0; k < 4; k++) x = ((x << 8) | next()) >>> 0;
  model.beginMessage(options.learn ?? true, length);
  for (let i = 0; i < length; i++) {
    let c = 0;
    for (let b = 0; b < 8; b++) {
      const xmid = x1 + ((x2 - x1) >>> 12) * model.predictBit();
      const y = x <= xmid ? 1 : 0;
      if (y === 1) x2 = xmid;
      else x1 = xmid + 1;
      model.updateBit(y);
      c = (c << 1) | y;
      while (((x1 ^ x2) & 0xff000000) === 0) {
        x1 = (x1 << 8) >>> 0;
        x2 = ((x2 << 8) | 255) >>> 0;
        x = ((x << 8) | next()) >>> 0;
      }
    }
    out[i] = c;
  }
  model.endMessage();
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
