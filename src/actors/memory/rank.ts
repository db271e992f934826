/**
 * Fusing the two recall rankings and weighting by what a memory system should favour.
 *
 * - Reciprocal rank fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms
 *   Condorcet and individual rank learning methods", SIGIR 2009): score(d) = Σ_r 1 / (k + rank_r(d)),
 *   k = 60, over the full-text (BM25) and vector (cosine) rankings. Robust to the two scores being on
 *   unrelated scales.
 *   Weighted (vector 1, text 0.1), measured on the paraphrase fixture in test/fixtures/recall
 *   (queries share almost no words with their targets, so BM25 mostly finds look-alikes): equal
 *   weights give recall@5 0.71 / MRR 0.50, text 0.25 gives 0.82 / 0.53, text 0.1 gives 0.82 / 0.58
 *   (vector alone: 0.84 / 0.68). The text ranking stays in for what embeddings miss — an exact code,
 *   a name, a booking reference (test/memory-recall-quality.test.ts checks that those still win).
 * - Then a gentle prior for salience and recency: final = rrf × (1 + wS·salience) × (1 + wR·recency),
 *   recency = 2^(−Δt / halfLife) with Δt the time since the memory was last accessed (the forgetting
 *   curve's exponential form; Ebbinghaus 1885, as used by generative-agent memory streams, Park et al.
 *   2023). With wS = wR = 0.25 the priors reorder near-ties but cannot lift a memory that neither
 *   ranking found relevant over one that both did.
 */

import { ENGLISH_STOP_WORDS } from './embedding/builtin.js';

export const RRF_K = 60;

export interface RankWeights {
  /** Weight of the vector ranking in the fusion. */
  vector: number;
  /** Weight of the full-text (BM25) ranking in the fusion. */
  text: number;
  salience: number;
  recency: number;
  /** Half-life of the recency prior in ms. */
  halfLifeMs: number;
}

export const DEFAULT_RANK_WEIGHTS: RankWeights = Object.freeze({
  vector: 1,
  text: 0.1,
  salience: 0.25,
  recency: 0.25,
  halfLifeMs: 7 * 86_400_000,
});

/**
 * Fuses rankings (each a list of ids, best first) into one score per id; `weights` scale each
 * ranking's contribution (weighted RRF, as hybrid search engines expose it).
 */
export function reciprocalRankFusion<T>(
  rankings: ReadonlyArray<readonly T[]>,
  weights: readonly number[] = [],
  k = RRF_K,
): Map<T, number> {
  const scores = new Map<T, number>();
  rankings.forEach((ranking, r) => {
    const w = weights[r] ?? 1;
    for (let i = 0; i < ranking.length; i++) {
      const id = ranking[i] as T;
      scores.set(id, (scores.get(id) ?? 0) + w / (k + i + 1));
    }
  });
  return scores;
}

export function recency(lastAccessedAt: number, now: number, halfLifeMs: number): number {
  const age = Math.max(0, now - lastAccessedAt);
  return 2 ** (-age / halfLifeMs);
}

export function weightedScore(
  rrf: number,
  salience: number,
  lastAccessedAt: number,
  now: number,
  w: RankWeights = DEFAULT_RANK_WEIGHTS,
): number {
  return rrf * (1 + w.salience * salience) * (1 + w.recency * recency(lastAccessedAt, now, w.halfLifeMs));
}

/**
 * An FTS5 query matching any of the content words of `text` (OR), each quoted so that FTS5 syntax in
 * user text is inert. Empty when the text has no words.
 *
 * Words that most documents contain add almost nothing to BM25 (their IDF is near zero) but make the
 * query walk their long posting lists, which at 100 000 memories costs tens of milliseconds. So stop
 * words are left out, and so are words among the `commonWordRank` most frequent English words (the
 * frequency rank from the word-vector asset, a stand-in for document frequency); a query made only
 * of such words keeps its two rarest. At most `maxTerms` (8) words are kept, rarest first.
 */
export function ftsQuery(
  text: string,
  options: {
    maxTerms?: number;
    frequencyRank?: (word: string) => number | undefined;
    commonWordRank?: number;
  } = {},
): string {
  const maxTerms = options.maxTerms ?? 8;
  const rankOf = options.frequencyRank;
  const common = options.commonWordRank ?? 1000;
  const rank = (w: string): number => rankOf?.(w) ?? Number.POSITIVE_INFINITY;
  const words = [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
  // Rarest first: unknown words (names, codes) and rare words carry the most information.
  const byRarity = (a: string, b: string): number => rank(b) - rank(a);
  const content = words.filter((w) => !ENGLISH_STOP_WORDS.has(w) && rank(w) >= common).sort(byRarity);
  const chosen = content.length > 0 ? content.slice(0, maxTerms) : words.sort(byRarity).slice(0, 2);
  return chosen.map((w) => `"${w.replaceAll('"', '""')}"`).join(' OR ');
}
