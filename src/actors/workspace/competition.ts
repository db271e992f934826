/**
 * The competition for the global workspace: pure, no actor and no I/O; time comes in as arguments.
 *
 * Theory: Baars' Global Workspace Theory (B. J. Baars, "A Cognitive Theory of Consciousness", 1988):
 * many unconscious specialists post contents; they compete for a limited-capacity workspace; the
 * winner is broadcast to every specialist. Ignition (S. Dehaene & L. Naccache, "Towards a cognitive
 * neuroscience of consciousness", Cognition 79, 2001): access is all-or-none — a content whose
 * activation crosses a threshold is broadcast, one below it fades without a trace. Engineering
 * reference: LIDA's cognitive cycle (S. Franklin et al., "A LIDA cognitive model tutorial",
 * Biologically Inspired Cognitive Architectures 16, 2016): coalitions carry an activation that
 * decays, the attention codelets' salience feeds it, one competition per cycle, the winning
 * coalition is broadcast and the rest stay to compete again.
 *
 * Activation of a candidate at time t:
 *
 *   u = w_s·s + w_r·r + w_p·p + w_c·c                (weights sum to 1, every input in 0..1)
 *   a₀ = σ(gain · (u − midpoint))                    (logistic squash: the ignition non-linearity)
 *   a(t) = a₀ · 2^(−(t − postedAt) / halfLifeMs)     (exponential decay since posting)
 *
 * - s, surprise: the predictive actor's combined surprise, a z-score (standard deviations above the
 *   expected surprisal); s = clamp(z / surpriseScale, 0, 1), so content as predictable as usual adds
 *   nothing and `surpriseScale` standard deviations is fully surprising.
 * - r, relevance to the current focus (the last broadcast): the given value when the poster knows
 *   it; else the cosine of the two embeddings when both have one (negative cosine counts as 0); else
 *   the Jaccard overlap of their word tokens. Nothing in focus: 0.
 * - p, priority: given by the poster, 0..1; 0 when absent.
 * - c, conscience: `allow` 0, `flag` 1 (a concern deserves attention), or a score 0..1. `block` is
 *   a veto: the candidate is removed without competing, because a broadcast is stored as memory and
 *   taught to the predictors, and blocked content must spread to neither.
 *
 * Capacity: at most `capacity` candidates are held; on overflow the weakest at that moment is
 * dropped (possibly the newcomer) and counted. Candidates whose activation decays below
 * `minActivation` are discarded as faded.
 *
 * Refractory period (inhibition of return; M. I. Posner & Y. Cohen, "Components of visual
 * orienting", 1984): for `refractoryMs` after a broadcast, a candidate with the same content (case
 * and white space folded) cannot win, so one content cannot hold the workspace cycle after cycle
 * while it is re-posted; it still competes afterwards if it has not faded.
 */

export type ConscienceSignal = 'allow' | 'flag' | 'block' | number;

export interface Salience {
  /** Combined surprise as a z-score. */
  surprise?: number;
  /** Relevance to the current focus, 0..1; computed from the focus when absent. */
  relevance?: number;
  /** 0..1. */
  priority?: number;
  conscience?: ConscienceSignal;
}

export interface Candidate {
  readonly id: string;
  /** The specialist that posted it (an actor name). */
  readonly source: string;
  readonly content: string;
  readonly entity?: string;
  readonly salience: Salience;
  /** Milliseconds on the workspace clock. */
  readonly postedAt: number;
  /** For relevance by cosine; optional. */
  readonly embedding?: ArrayLike<number>;
}

export interface SalienceWeights {
  surprise: number;
  relevance: number;
  priority: number;
  conscience: number;
}

export interface CompetitionOptions {
  /** Weights of the salience inputs (normalised to sum to 1). @default {surprise 0.35, relevance 0.2, priority 0.3, conscience 0.15} */
  weights: SalienceWeights;
  /** Steepness of the logistic squash. @default 8 */
  gain: number;
  /** Weighted sum at which the squash gives 0.5. @default 0.25 */
  midpoint: number;
  /** z-score taken as fully surprising. @default 3 */
  surpriseScale: number;
  /** Time for an activation to halve. @default 5000 */
  halfLifeMs: number;
  /** Activation the winner must reach to be broadcast. @default 0.5 */
  threshold: number;
  /** Candidates held at most. @default 7 */
  capacity: number;
  /** After a broadcast, the same content cannot win for this long. @default 2000 */
  refractoryMs: number;
  /** Below this activation a candidate has faded and is removed. @default 0.01 */
  minActivation: number;
}

export const DEFAULT_COMPETITION_OPTIONS: Readonly<CompetitionOptions> = Object.freeze({
  weights: Object.freeze({ surprise: 0.35, relevance: 0.2, priority: 0.3, conscience: 0.15 }),
  gain: 8,
  midpoint: 0.25,
  surpriseScale: 3,
  halfLifeMs: 5000,
  threshold: 0.5,
  capacity: 7,
  refractoryMs: 2000,
  minActivation: 0.01,
});

/** What is in focus: the content of the last broadcast. */
export interface Focus {
  readonly content: string;
  readonly embedding?: ArrayLike<number>;
}

export type RemovalReason = 'capacity' | 'faded' | 'blocked';

export interface Scored {
  readonly id: string;
  readonly source: string;
  readonly activation: number;
}

export interface CycleOutcome {
  /** The strongest eligible candidate, broadcast when `ignited`. */
  readonly winner: { candidate: Candidate; activation: number } | null;
  readonly ignited: boolean;
  /** Candidates that took part (before the winner left). */
  readonly competitors: number;
  /** Activation of every competitor, strongest first. */
  readonly activations: readonly Scored[];
  /** Candidates removed in this cycle because they faded. */
  readonly faded: number;
}

const TOKEN = /[\p{L}\p{N}]+/gu;

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

export function tokens(text: string): Set<string> {
  return new Set(text.toLowerCase().match(TOKEN) ?? []);
}

/** |A ∩ B| / |A ∪ B| over word tokens; 0 when both are empty. */
export function tokenOverlap(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.size === 0 || tb.size === 0) return 0;
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  return common / (ta.size + tb.size - common);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Relevance of a candidate to the focus, 0..1 (see the module comment). */
export function relevance(candidate: Candidate, focus: Focus | null): number {
  if (candidate.salience.relevance !== undefined) return clamp01(candidate.salience.relevance);
  if (focus === null) return 0;
  if (candidate.embedding !== undefined && focus.embedding !== undefined)
    return clamp01(cosine(candidate.embedding, focus.embedding));
  return tokenOverlap(candidate.content, focus.content);
}

function conscienceInput(c: ConscienceSignal | undefined): number {
  if (c === undefined || c === 'allow') return 0;
  if (c === 'flag' || c === 'block') return 1;
  return Number.isFinite(c) ? clamp01(c) : 0;
}

/** The activation at posting time, before decay. */
export function baseActivation(
  candidate: Candidate,
  focus: Focus | null,
  options: CompetitionOptions = DEFAULT_COMPETITION_OPTIONS,
): number {
  const w = options.weights;
  const total = w.surprise + w.relevance + w.priority + w.conscience;
  const s = candidate.salience;
  const surprise = s.surprise !== undefined && Number.isFinite(s.surprise) ? s.surprise : 0;
  const u =
    (w.surprise * clamp01(surprise / options.surpriseScale) +
      w.relevance * relevance(candidate, focus) +
      w.priority * clamp01(s.priority ?? 0) +
      w.conscience * conscienceInput(s.conscience)) /
    (total > 0 ? total : 1);
  return 1 / (1 + Math.exp(-options.gain * (u - options.midpoint)));
}

/** The activation at `now`: the base activation decayed since posting. */
export function activation(
  candidate: Candidate,
  focus: Focus | null,
  now: number,
  options: CompetitionOptions = DEFAULT_COMPETITION_OPTIONS,
): number {
  const age = Math.max(0, now - candidate.postedAt);
  return baseActivation(candidate, focus, options) * 2 ** (-age / options.halfLifeMs);
}

/** Folds case and white space, so re-posting the same words meets the refractory period. */
export function contentKey(content: string): string {
  return content.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * The workspace's competing candidates and the refractory memory of recent winners. Not thread- or
 * actor-aware: the workspace actor owns one and calls it from its message handler.
 */
export class Competition {
  readonly options: Readonly<CompetitionOptions>;
  private readonly pool: Candidate[] = [];
  /** content key → until when it may not win. */
  private readonly refractory = new Map<string, number>();
  focus: Focus | null = null;

  constructor(options: Partial<CompetitionOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_COMPETITION_OPTIONS, ...options });
  }

  get size(): number {
    return this.pool.length;
  }

  candidates(): readonly Candidate[] {
    return this.pool;
  }

  /**
   * Adds a candidate; returns the candidates removed for it: the blocked newcomer itself, or the
   * weakest at `now` when the pool was full (possibly the newcomer).
   */
  post(candidate: Candidate, now: number): { removed: Candidate | null; reason: RemovalReason | null } {
    if (candidate.salience.conscience === 'block') return { removed: candidate, reason: 'blocked' };
    this.pool.push(candidate);
    if (this.pool.length <= this.options.capacity) return { removed: null, reason: null };
    let weakest = 0;
    let low = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.pool.length; i++) {
      const a = activation(this.pool[i] as Candidate, this.focus, now, this.options);
      // Ties go to the older candidate: it has had its chance.
      if (a < low) {
        low = a;
        weakest = i;
      }
    }
    const [removed] = this.pool.splice(weakest, 1);
    return { removed: removed ?? null, reason: 'capacity' };
  }

  /** One competition: scores every candidate, removes the faded, picks and (if ignited) takes the winner. */
  cycle(now: number): CycleOutcome {
    for (const [key, until] of this.refractory) if (until <= now) this.refractory.delete(key);
    const o = this.options;
    const scored: Array<{ candidate: Candidate; activation: number }> = [];
    let faded = 0;
    for (let i = 0; i < this.pool.length; ) {
      const c = this.pool[i] as Candidate;
      const a = activation(c, this.focus, now, o);
      if (a < o.minActivation) {
        this.pool.splice(i, 1);
        faded++;
        continue;
      }
      scored.push({ candidate: c, activation: a });
      i++;
    }
    scored.sort((x, y) => y.activation - x.activation || x.candidate.postedAt - y.candidate.postedAt);
    const winner = scored.find((s) => !this.refractory.has(contentKey(s.candidate.content))) ?? null;
    const ignited = winner !== null && winner.activation >= o.threshold;
    if (ignited) {
      const i = this.pool.indexOf(winner.candidate);
      if (i >= 0) this.pool.splice(i, 1);
      this.refractory.set(contentKey(winner.candidate.content), now + o.refractoryMs);
      this.focus =
        winner.candidate.embedding === undefined
          ? { content: winner.candidate.content }
          : { content: winner.candidate.content, embedding: winner.candidate.embedding };
    }
    return {
      winner,
      ignited,
      competitors: scored.length,
      activations: scored.map((s) => ({
        id: s.candidate.id,
        source: s.candidate.source,
        activation: s.activation,
      })),
      faded,
    };
  }
}
