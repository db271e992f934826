/** What the memory system needs from an embedder, local or remote. */
export interface EmbeddingProvider {
  /** Stable id naming the model and its version; stored next to each vector so a change is detected. */
  readonly id: string;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order. A text with nothing to embed gives a zero vector. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Cosine similarity of two vectors (dot product when both are L2-normalised, as embedders return). */
export function cosine(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  for (let i = 0; i < n; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** Scales `v` in place to unit length; a zero vector stays zero. */
export function l2Normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}
