/**
 * Fusing the two recall rankings and weighting by what a memory system should favour.
 *
 * - Reciprocal rank fusion (Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion outperforms
 *   Condorcet and individual rank learning methods", SIGIR 2009): score(d) = Σ_r 1 / (k + rank_r(d)),
 *   k = 60, over the full-text (BM25) and vector (cosine) rankings. Robust to the two scores being on
 *   unrelated scales.
 *   Weighted (vector 1, text 0.25): on the paraphrase fixture in test/fixtures/recall, equal weights
 *   give recall@5 0.71 (BM25 ranks lexical look-alikes first), 0.25 gives 0.84 and still lets an
 *   exact token (a code, a name) that only BM25 sees reach the top.
 * - Then a gentle prior for salience and recency: final = rrf × (1 + wS·salience) × (1 + wR·recency),
 *   recency = 2^(−Δt / halfLife) with Δt the time since the memory was last accessed (the forgetting
 *   curve's exponential form; Ebbinghaus 1885, as used by generative-agent memory streams, Park et al.
 *   2023). With wS = wR = 0.25 the priors reorder near-ties but cannot lift a memory that neither
 *   ranking found relevant over one that both did.
 */

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
  text: 0.25,
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
 * An FTS5 query matching any of the words of `text` (OR), each quoted so that FTS5 syntax in user
 * text is inert. Empty when the text has no words.
 */
export function ftsQuery(text: string, maxTerms = 32): string {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)].slice(0, maxTerms);
  return unique.map((w) => `"${w.replaceAll('"', '""')}"`).join(' OR ');
}
