/**
 * Content level: predicts the embedding of an entity's next message as the exponentially weighted
 * moving average of its previous (unit) embeddings, the optimal forecast of a random-walk level
 * observed in white noise (J. F. Muth, "Optimal properties of exponentially weighted forecasts",
 * JASA 1960; the steady-state Kalman filter of that model). The prediction error of a message is
 * the cosine distance
 *
 *   error = 1 - cos(prediction, embedding)   in [0, 2] (0: as predicted, 1: unrelated),
 *
 * which ignores vector length, as embedding similarity does. State is one Float64Array of the
 * embedding's dimension and a count: bounded whatever the number of messages.
 */

export interface ContentModelOptions {
  /** Weight of the newest embedding in the moving average, 0 < alpha ≤ 1. @default 0.3 */
  alpha?: number;
}

export interface ContentModelJson {
  alpha: number;
  count: number;
  mean: number[];
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** 1 - cos(a, b); 1 when either vector is zero. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dimension mismatch: ${a.length} vs ${b.length}`);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return 1;
  return Math.min(2, Math.max(0, 1 - dot / (na * nb)));
}

export class ContentModel {
  readonly alpha: number;
  private mean: Float64Array | undefined;
  private n = 0;

  constructor(options: ContentModelOptions = {}) {
    const alpha = options.alpha ?? 0.3;
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
    this.alpha = alpha;
  }

  /** Embeddings observed so far. */
  get count(): number {
    return this.n;
  }

  get dimension(): number | undefined {
    return this.mean?.length;
  }

  /** The predicted next embedding, L2-normalised; undefined before the first observation. */
  predict(): Float32Array | undefined {
    const m = this.mean;
    if (m === undefined) return undefined;
    const out = new Float32Array(m.length);
    const nm = norm(m);
    if (nm === 0) return out;
    for (let i = 0; i < m.length; i++) out[i] = m[i]! / nm;
    return out;
  }

  /** Prediction error of `embedding` (cosine distance), or undefined before any observation. */
  error(embedding: ArrayLike<number>): number | undefined {
    if (this.mean === undefined) return undefined;
    return cosineDistance(this.mean, embedding);
  }

  /** Scores `embedding` against the prediction, then learns it. */
  observe(embedding: ArrayLike<number>): number | undefined {
    const err = this.error(embedding);
    const n = norm(embedding);
    if (!Number.isFinite(n)) throw new RangeError('embedding has a non-finite component');
    if (this.mean === undefined) {
      this.mean = new Float64Array(embedding.length);
      for (let i = 0; i < embedding.length; i++) this.mean[i] = n === 0 ? 0 : embedding[i]! / n;
    } else {
      const m = this.mean;
      const a = this.alpha;
      // Unit vectors in, so that a long embedding does not outweigh the history.
      for (let i = 0; i < m.length; i++) m[i] = (1 - a) * m[i]! + (n === 0 ? 0 : (a * embedding[i]!) / n);
    }
    this.n++;
    return err;
  }

  toJSON(): ContentModelJson {
    return { alpha: this.alpha, count: this.n, mean: this.mean === undefined ? [] : [...this.mean] };
  }

  serialize(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromJSON(json: ContentModelJson): ContentModel {
    const m = new ContentModel({ alpha: json.alpha });
    if (!Number.isInteger(json.count) || json.count < 0 || !Array.isArray(json.mean)) {
      throw new TypeError('invalid content model state');
    }
    if (json.count > 0) {
      if (json.mean.length === 0 || !json.mean.every(Number.isFinite)) {
        throw new TypeError('invalid content model state');
      }
      m.mean = Float64Array.from(json.mean);
    }
    m.n = json.count;
    return m;
  }

  static deserialize(bytes: Uint8Array): ContentModel {
    return ContentModel.fromJSON(JSON.parse(new TextDecoder().decode(bytes)) as ContentModelJson);
  }
}
