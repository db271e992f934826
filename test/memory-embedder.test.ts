import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  BuiltinEmbedder,
  cosine,
  EmbeddingCache,
  type EmbeddingProvider,
  loadWordVectors,
  parseWordVectors,
  tokenize,
  withEmbeddingCache,
} from '../src/actors/memory/embedding/index.js';
import { isJameyError } from '../src/runtime/errors.js';
import { evaluateRecall, loadRecallMemories } from './fixtures/recall/evaluate.js';

const embedder = new BuiltinEmbedder();

function norm(v: Float32Array): number {
  return Math.sqrt(cosine(v, v));
}

async function sim(a: string, b: string): Promise<number> {
  const [va, vb] = await embedder.embed([a, b]);
  return cosine(va!, vb!);
}

test('the word-vector asset loads once and has the documented shape', (t) => {
  const start = performance.now();
  const wv = loadWordVectors();
  const ms = performance.now() - start;
  t.diagnostic(`asset: ${wv.count} words x ${wv.dims} dims, ${wv.bits}-bit, loaded in ${ms.toFixed(1)} ms`);
  assert.equal(wv.dims, 100);
  assert.ok(wv.count >= 40_000);
  assert.equal(loadWordVectors(), wv);
  for (const word of ['the', 'doctor', 'holiday', 'not']) assert.notEqual(wv.rowOf(word), undefined, word);
  assert.ok(wv.rowOf('the')! < wv.rowOf('doctor')!, 'rows are in frequency order');
  const v = wv.vector(wv.rowOf('doctor')!);
  assert.ok(Math.abs(norm(v) - 1) < 0.05, 'rows are unit length up to quantisation');
  const near = cosine(wv.vector(wv.rowOf('doctor')!), wv.vector(wv.rowOf('physician')!));
  const far = cosine(wv.vector(wv.rowOf('doctor')!), wv.vector(wv.rowOf('guitar')!));
  assert.ok(near > far + 0.2, `doctor~physician ${near.toFixed(2)} vs doctor~guitar ${far.toFixed(2)}`);
});

test('a corrupt asset is rejected with a coded error', () => {
  assert.throws(
    () => parseWordVectors(new Uint8Array(64)),
    (err) => isJameyError(err, 'JAMEY_ERR_INTERNAL'),
  );
  const good = loadWordVectors();
  const bytes = new Uint8Array(24 + 4 + 4 + 100);
  bytes.set([0x4a, 0x57, 0x56, 0x31]); // "JWV1"
  new DataView(bytes.buffer).setUint32(4, 1, true);
  new DataView(bytes.buffer).setUint32(8, 2, true); // says two rows, holds one
  new DataView(bytes.buffer).setUint32(12, good.dims, true);
  assert.throws(
    () => parseWordVectors(bytes),
    (err) => isJameyError(err, 'JAMEY_ERR_INTERNAL'),
  );
});

test('tokenize lowercases, splits Unicode words and expands English clitics', () => {
  assert.deepEqual(tokenize("Anna's café — don't, can't; we'll e-mail"), [
    'anna',
    'café',
    'do',
    'not',
    'can',
    'not',
    'we',
    'will',
    'e',
    'mail',
  ]);
  assert.deepEqual(tokenize('Straße ÄRZTIN 3pm'), ['straße', 'ärztin', '3pm']);
  assert.deepEqual(tokenize('  ...  '), []);
  // British spellings become American ones; look-alikes are left alone.
  assert.deepEqual(tokenize('Favourite colours, the neighbourhood centre; realised, realistic, four hours'), [
    'favorite',
    'colors',
    'the',
    'neighborhood',
    'center',
    'realized',
    'realistic',
    'four',
    'hours',
  ]);
});

test('embeddings are deterministic, L2-normalised and of the declared size', async () => {
  const texts = ['Dentist on Tuesday at 10:30', 'I prefer oat milk', 'zxqv blorft', '  '];
  const a = await embedder.embed(texts);
  const b = await new BuiltinEmbedder().embed(texts);
  assert.equal(a.length, texts.length);
  for (let i = 0; i < texts.length; i++) {
    assert.equal(a[i]!.length, embedder.dimensions);
    assert.deepEqual(a[i], b[i]);
  }
  for (const v of a.slice(0, 3)) assert.ok(Math.abs(norm(v) - 1) < 1e-5);
  assert.equal(norm(a[3]!), 0, 'a text with no words embeds to the zero vector');
  assert.deepEqual(embedder.embedOne(texts[0]!), a[0]);
  assert.ok((await sim("The user's favourite colour is teal.", "the user's favorite color is teal")) > 0.999);
});

test('paraphrases land closer than unrelated sentences', async () => {
  // Hand-written pairs, none taken from the recall fixture.
  const pairs: Array<[string, string]> = [
    ['The cat rested on the carpet.', 'A kitten was sleeping on the rug.'],
    ['My car broke down on the motorway.', 'The vehicle stopped working on the highway.'],
    ['She is a physician at the city hospital.', 'Her job is being a doctor in a clinic downtown.'],
    ['We are flying to Italy for our vacation.', 'Our holiday trip to Rome is by plane.'],
    ['I need to buy groceries for dinner.', 'Must pick up food at the supermarket for the evening meal.'],
    ['The meeting was moved to next week.', 'The appointment got postponed by seven days.'],
  ];
  const unrelated = [
    'Quarterly earnings beat analyst expectations.',
    'The violin concerto was played beautifully.',
    'Install the package with the command line tool.',
  ];
  for (const [a, b] of pairs) {
    const close = await sim(a, b);
    for (const u of unrelated) {
      const far = Math.max(await sim(a, u), await sim(b, u));
      assert.ok(close > far, `"${a}" ~ "${b}" ${close.toFixed(3)} should beat "${u}" ${far.toFixed(3)}`);
    }
  }
});

test('out-of-vocabulary words still count through hashed word and character features', async () => {
  const [zorb, zorbs, other] = await embedder.embed(['zorblax', 'zorblaxes', 'quintafex']);
  assert.ok(norm(zorb!) > 0.99, 'a text of unknown words still gets a unit vector');
  assert.ok(cosine(zorb!, zorbs!) > cosine(zorb!, other!) + 0.2);
  // A shared unknown name pulls two otherwise different sentences together.
  const withName = await sim('Call Okonkwo-Vasquez about the invoice', 'Okonkwo-Vasquez sent flowers');
  const withoutName = await sim('Call Okonkwo-Vasquez about the invoice', 'Marguerite sent flowers');
  assert.ok(withName > withoutName, `${withName.toFixed(3)} vs ${withoutName.toFixed(3)}`);
  // Typos keep most of the similarity through character trigrams.
  assert.ok(
    (await sim('favourite restaurant', 'favourite restaurnt')) > (await sim('favourite restaurant', 'tax')),
  );
  // Inflected forms missing from the vocabulary fall back to a stem.
  assert.equal(loadWordVectors().rowOf('kayaked'), undefined);
  assert.ok((await sim('we kayaked', 'we went by kayak')) > (await sim('we kayaked', 'we went by train')));
});

test('the embedder runs in a worker thread and gives the same vectors there', async () => {
  const moduleUrl = new URL('../src/actors/memory/embedding/index.js', import.meta.url).href;
  const source = `
    import { parentPort, workerData } from 'node:worker_threads';
    const { BuiltinEmbedder } = await import(workerData.moduleUrl);
    const [v] = await new BuiltinEmbedder().embed([workerData.text]);
    parentPort.postMessage(v);
  `;
  const text = 'Pick up the prescription from the pharmacy on Friday';
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
    workerData: { moduleUrl, text },
  });
  const fromWorker = await new Promise<Float32Array>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.deepEqual(fromWorker, embedder.embedOne(text));
});

test('invalid input and aborted signals give coded errors', async () => {
  await assert.rejects(embedder.embed('text' as unknown as string[]), (err) =>
    isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
  await assert.rejects(embedder.embed([42 as unknown as string]), (err) =>
    isJameyError(err, 'JAMEY_ERR_VALIDATION'),
  );
  await assert.rejects(embedder.embed(['a'], AbortSignal.abort()), (err) =>
    isJameyError(err, 'JAMEY_ERR_ABORTED'),
  );
  assert.throws(
    () => new BuiltinEmbedder({ hashDims: 0 }),
    (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'),
  );
});

test('the embedding cache counts hits and misses, embeds only misses and evicts the least recent', async () => {
  const calls: string[][] = [];
  const provider: EmbeddingProvider = {
    id: 'count-v1',
    dimensions: 2,
    async embed(texts) {
      calls.push(texts);
      return texts.map((t) => Float32Array.of(t.length, 1));
    },
  };
  const cache = new EmbeddingCache(2);
  const cached = withEmbeddingCache(provider, cache);
  assert.equal(cached.id, 'count-v1');
  const first = await cached.embed(['a', 'bb', 'a']);
  assert.deepEqual(calls, [['a', 'bb']]);
  assert.deepEqual(first[0], first[2]);
  await cached.embed(['bb', 'a']);
  assert.equal(calls.length, 1);
  assert.deepEqual(cache.stats, { hits: 2, misses: 3, size: 2, capacity: 2 });
  await cached.embed(['ccc']); // evicts "bb", the least recently used
  await cached.embed(['a', 'bb']);
  assert.deepEqual(calls.at(-1), ['bb']);
  // Same text, another provider: a separate entry.
  assert.equal(cache.get('other-v1', 'a'), undefined);
  assert.throws(
    () => new EmbeddingCache(0),
    (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'),
  );
});

const STOP = new Set(
  'a an the and or but if of to in on at for by with from is are was were be been am i me my we our us you your he his she her it its they their them this that these those what which who when where how do does did have has had not no so than then there too very just only also can could would should will about after before up down over into out every each some any most more other one'.split(
    ' ',
  ),
);

function lexicalTerms(text: string): string[] {
  return tokenize(text)
    .filter((w) => !STOP.has(w))
    .map((w) => w.replace(/(ing|ed|es|s|ly)$/, '') || w);
}

/** Okapi BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework", 2009), k1 = 1.2, b = 0.75. */
function bm25Ranker(docs: Array<{ id: string; text: string }>) {
  const terms = docs.map((d) => lexicalTerms(d.text));
  const avgLen = terms.reduce((s, t) => s + t.length, 0) / docs.length;
  const df = new Map<string, number>();
  for (const t of terms) for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1);
  return (query: string, k: number): string[] => {
    const q = new Set(lexicalTerms(query));
    const scored = docs.map((d, i) => {
      const t = terms[i]!;
      let score = 0;
      for (const w of q) {
        const f = t.filter((x) => x === w).length;
        if (f === 0) continue;
        const n = df.get(w) ?? 0;
        const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
        score += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * t.length) / avgLen));
      }
      return { id: d.id, score, i };
    });
    // Ties (mostly zero scores) keep fixture order, so a miss is not rescued by luck.
    scored.sort((a, b) => b.score - a.score || a.i - b.i);
    return scored
      .filter((s) => s.score > 0)
      .slice(0, k)
      .map((s) => s.id);
  };
}

test('vector-only recall on the paraphrase fixture reaches recall@5 >= 0.8', async (t) => {
  const memories = loadRecallMemories();
  const start = performance.now();
  const vectors = await embedder.embed(memories.map((m) => m.text));
  const embedMs = performance.now() - start;
  const rank = async (query: string, k: number) => {
    const [q] = await embedder.embed([query]);
    return memories
      .map((m, i) => ({ id: m.id, score: cosine(q!, vectors[i]!) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map((s) => s.id);
  };
  const report = await evaluateRecall(rank);
  const lexical = await evaluateRecall(bm25Ranker(memories));
  t.diagnostic(`${memories.length} memories embedded in ${embedMs.toFixed(1)} ms`);
  t.diagnostic(
    `builtin embedder: recall@5 ${report.recallAt5.toFixed(3)}, MRR ${report.mrr.toFixed(3)} over ${report.perQuery.length} queries`,
  );
  t.diagnostic(`BM25 baseline:    recall@5 ${lexical.recallAt5.toFixed(3)}, MRR ${lexical.mrr.toFixed(3)}`);
  for (const q of report.perQuery) {
    if (q.rank === undefined || q.rank > 5)
      t.diagnostic(`miss ${q.id} (rank ${q.rank ?? '>10'}): ${q.query}`);
  }
  assert.ok(report.recallAt5 >= 0.8, `recall@5 ${report.recallAt5}`);
  assert.ok(
    lexical.recallAt5 < report.recallAt5,
    'the fixture is paraphrastic: word overlap alone does worse',
  );
});
