/**
 * When two memories are "the same". Embedding similarity alone is not enough for facts: "the meeting
 * is on Monday at 10" and "... on Tuesday at 10" are 0.99 apart in cosine, and merging them would
 * lose the detail that matters. So a near duplicate needs both:
 * 1. cosine similarity ≥ the threshold (same meaning), and
 * 2. lexical compatibility: every content word that one text has and the other lacks is matched by
 *    a spelling variant on the other side (edit distance ≤ 2 for words of 4+ letters: colour/color,
 *    favourite/favorite, peanut/peanuts), and the numbers are the same.
 * This is deliberately conservative: rewordings with new words ("buy" → "pick up") stay separate
 * memories rather than risk merging a change of detail.
 */

const STOP = new Set(
  (
    'a an the is are was were be been being am do does did of to in on at by for with from as and or but ' +
    'not no it its this that these those there here i me my we our you your he him his she her they them their ' +
    's t has have had will would can could should shall may might must'
  ).split(' '),
);

function contentWords(text: string): string[] {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[’']/g, "'")
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((w) => !STOP.has(w));
}

/** Optimal string alignment distance (restricted Damerau–Levenshtein), early exit past `max`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, (prev2[j - 2] as number) + 1);
      cur[j] = v;
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    for (let j = 0; j <= b.length; j++) prev2[j] = prev[j] as number;
    prev = cur;
  }
  return prev[b.length] as number;
}

function explained(word: string, others: readonly string[]): boolean {
  if (/\d/.test(word)) return false;
  if (word.length < 4) return false;
  return others.some((o) => o.length >= 4 && !/\d/.test(o) && editDistance(word, o) <= 2);
}

/** True when the two texts differ only in stop words, order and spelling variants. */
export function lexicallyCompatible(a: string, b: string): boolean {
  const wa = contentWords(a);
  const wb = contentWords(b);
  const sa = new Set(wa);
  const sb = new Set(wb);
  const onlyA = [...sa].filter((w) => !sb.has(w));
  const onlyB = [...sb].filter((w) => !sa.has(w));
  return onlyA.every((w) => explained(w, onlyB)) && onlyB.every((w) => explained(w, onlyA));
}
