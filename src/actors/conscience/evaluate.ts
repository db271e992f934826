/**
 * Evaluation of one message against a set of principles.
 *
 * Scoring:
 * - each detector hit has a score in 0–1 (detectors/harm.ts, pii.ts, secrets.ts document theirs);
 * - overlapping hits of one detector are merged, keeping the highest score;
 * - a principle's score is `weight × max(hit score)` over its detectors (0 with no hits);
 * - a principle triggers `flag` when its score ≥ FLAG_THRESHOLD (0.5), and `block` when its action is
 *   `block` and its score ≥ BLOCK_THRESHOLD (0.7): a block principle that is only moderately sure
 *   flags instead, so doubtful cases reach a person rather than being refused;
 * - the verdict is the strongest triggered action (`allow` when none); the overall score is the
 *   highest principle score.
 *
 * Context: `role: 'assistant'` (the message is model output) makes privacy stricter: every PII or
 * secret hit scoring ≥ 0.4 has its remaining doubt halved (s → 1 − (1 − s)/2), so a bare number that
 * looks like a phone number (0.5; weighted 0.45, allowed) flags when the assistant produces it (0.75;
 * weighted 0.675). Low-scoring hits (documentation domains, fictional number ranges) stay low. For the phrase
 * detectors, instruction-shaped output ("Step 1", "you will need") counts as intent. Other context
 * fields are ignored.
 *
 * Evaluation is synchronous, deterministic and allocation-light: regexes are compiled at module load,
 * and only the detectors named by enabled principles run.
 */

import type { DetectorId, Hit, Role } from './detectors/index.js';
import { isSensitiveDetector, runDetectors } from './detectors/index.js';
import type { Action, PrincipleRule } from './principles.js';
import { DEFAULT_PRINCIPLES, validateRules } from './principles.js';

export const FLAG_THRESHOLD = 0.5;
export const BLOCK_THRESHOLD = 0.7;
/** Fraction of the remaining doubt kept for privacy hits in assistant output. */
export const ASSISTANT_PRIVACY_DOUBT = 0.5;

export type Verdict = 'allow' | 'flag' | 'block';

export interface EvaluationContext {
  /** Who wrote the text. @default 'user' */
  readonly role?: Role;
  readonly [key: string]: unknown;
}

export interface Reason {
  readonly principle: string;
  /** The detector, or `judge` when the LLM judge alone raised the principle. */
  readonly detector: DetectorId | 'judge';
  /** Half-open UTF-16 range in the original text. */
  readonly span: [number, number];
  /** `text.slice(span[0], span[1])`; for sensitive detectors this is the personal data itself. */
  readonly excerpt: string;
  readonly why: string;
  /** The hit's score (after context adjustment), before the principle's weight. */
  readonly score: number;
  /** The excerpt quotes personal data or a credential (see `redactEvaluation`). */
  readonly sensitive: boolean;
}

export interface PrincipleScore {
  readonly name: string;
  readonly score: number;
  /** What this principle triggered, if anything. */
  readonly outcome: Verdict;
}

export interface Evaluation {
  readonly verdict: Verdict;
  readonly score: number;
  readonly principles: PrincipleScore[];
  readonly reasons: Reason[];
}

/**
 * Rule sets already validated, by identity: validation runs once per set, not per message. Rule sets
 * are therefore treated as immutable; a changed set must be a new array.
 */
const validated = new WeakSet<readonly unknown[]>();

function checkRules(rules: readonly PrincipleRule[]): void {
  if (validated.has(rules)) return;
  const problems = validateRules(rules);
  if (problems.length > 0) {
    throw new RangeError(`invalid principles: ${problems.map((p) => `${p.path} ${p.problem}`).join('; ')}`);
  }
  validated.add(rules);
}

const PRIVACY_IDS = new Set<string>([
  'pii-email',
  'pii-phone',
  'pii-card',
  'pii-national-id',
  'pii-iban',
  'secrets',
]);

function adjust(hit: Hit, role: Role | undefined): number {
  if (role === 'assistant' && PRIVACY_IDS.has(hit.detector) && hit.score >= 0.4) {
    return 1 - (1 - hit.score) * ASSISTANT_PRIVACY_DOUBT;
  }
  return hit.score;
}

interface Scored {
  readonly hit: Hit;
  readonly score: number;
}

/** Per detector, overlapping hits merged into the highest-scoring one. */
function merge(hits: readonly Hit[], role: Role | undefined): Map<DetectorId, Scored[]> {
  const by = new Map<DetectorId, Scored[]>();
  const sorted = hits
    .map((hit) => ({ hit, score: adjust(hit, role) }))
    .sort((a, b) => b.score - a.score || a.hit.span[0] - b.hit.span[0] || a.hit.span[1] - b.hit.span[1]);
  for (const s of sorted) {
    const list = by.get(s.hit.detector) ?? [];
    const [a, b] = s.hit.span;
    if (!list.some((o) => a < o.hit.span[1] && o.hit.span[0] < b)) list.push(s);
    by.set(s.hit.detector, list);
  }
  return by;
}

export function outcomeOf(action: Action, score: number): Verdict {
  if (action === 'block' && score >= BLOCK_THRESHOLD) return 'block';
  return score >= FLAG_THRESHOLD ? 'flag' : 'allow';
}

const RANK: Readonly<Record<Verdict, number>> = { allow: 0, flag: 1, block: 2 };

export function strongest(verdicts: Iterable<Verdict>): Verdict {
  let v: Verdict = 'allow';
  for (const x of verdicts) if (RANK[x] > RANK[v]) v = x;
  return v;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Evaluates `text` (see the module comment for scoring, thresholds and context). */
export function evaluate(
  text: string,
  context: EvaluationContext = {},
  rules: readonly PrincipleRule[] = DEFAULT_PRINCIPLES,
): Evaluation {
  checkRules(rules);
  const enabled = rules.filter((r) => r.enabled !== false);
  const wanted = new Set<DetectorId>(enabled.flatMap((r) => r.detectors));
  const hits = wanted.size > 0 ? runDetectors(text, context.role ? { role: context.role } : {}, wanted) : [];
  const merged = merge(hits, context.role);
  const principles: PrincipleScore[] = [];
  const reasons: Reason[] = [];
  for (const rule of enabled) {
    let best = 0;
    for (const d of rule.detectors) for (const s of merged.get(d) ?? []) best = Math.max(best, s.score);
    const score = round(rule.weight * best);
    const outcome = outcomeOf(rule.action, score);
    principles.push({ name: rule.name, score, outcome });
    if (outcome === 'allow') continue;
    for (const d of rule.detectors) {
      for (const s of merged.get(d) ?? []) {
        if (rule.weight * s.score < FLAG_THRESHOLD) continue;
        const [a, b] = s.hit.span;
        reasons.push({
          principle: rule.name,
          detector: d,
          span: [a, b],
          excerpt: text.slice(a, b),
          why: s.hit.why,
          score: round(s.score),
          sensitive: isSensitiveDetector(d),
        });
      }
    }
  }
  reasons.sort(
    (x, y) => x.span[0] - y.span[0] || x.span[1] - y.span[1] || (x.principle < y.principle ? -1 : 1),
  );
  const verdict = strongest(principles.map((p) => p.outcome));
  const score = principles.reduce((m, p) => Math.max(m, p.score), 0);
  return { verdict, score, principles, reasons };
}

/** An optional second opinion for one principle: a score in 0–1 for `text` under `principle`. */
export type Judge = (text: string, principle: Readonly<PrincipleRule>) => Promise<number>;

export interface JudgeOptions {
  rules?: readonly PrincipleRule[];
  /** Off when absent: the result is then the rule-based evaluation. */
  judge?: Judge;
  /**
   * Principles whose rule-based score lies in `[low, high)` are uncertain and go to the judge.
   * @default [0.2, BLOCK_THRESHOLD]
   */
  band?: readonly [number, number];
  /** A judge answer later than this is ignored. @default 5000 */
  timeoutMs?: number;
}

export interface JudgeRecord {
  readonly principle: string;
  readonly ruleScore: number;
  readonly judgeScore?: number;
  readonly error?: string;
}

export interface JudgedEvaluation extends Evaluation {
  readonly judged: JudgeRecord[];
}

async function ask(judge: Judge, text: string, rule: PrincipleRule, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`judge timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const v = await Promise.race([judge(text, rule), timeout]);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new RangeError(`judge returned ${String(v)}, not a score in 0–1`);
    }
    return v;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `evaluate`, then for each uncertain principle (score within `band`) the judge's score is averaged
 * in: `(ruleScore + weight × judgeScore) / 2`. Confident principles are left alone, so the judge can
 * neither clear a certain block nor raise a principle nothing hinted at. A failing, late or
 * out-of-range judge leaves the rule-based score and is recorded in `judged`.
 */
export async function evaluateWithJudge(
  text: string,
  context: EvaluationContext = {},
  options: JudgeOptions = {},
): Promise<JudgedEvaluation> {
  const rules = options.rules ?? DEFAULT_PRINCIPLES;
  const base = evaluate(text, context, rules);
  const judge = options.judge;
  if (judge === undefined) return { ...base, judged: [] };
  const [low, high] = options.band ?? [0.2, BLOCK_THRESHOLD];
  const timeoutMs = options.timeoutMs ?? 5000;
  const enabled = rules.filter((r) => r.enabled !== false);
  const uncertain = enabled.filter((r) => {
    const s = base.principles.find((p) => p.name === r.name)?.score ?? 0;
    return s >= low && s < high;
  });
  const answers = await Promise.allSettled(uncertain.map((r) => ask(judge, text, r, timeoutMs)));
  const judged: JudgeRecord[] = [];
  const principles = base.principles.map((p) => ({ ...p }));
  const reasons = [...base.reasons];
  uncertain.forEach((rule, i) => {
    const answer = answers[i]!;
    const p = principles.find((x) => x.name === rule.name)!;
    if (answer.status === 'rejected') {
      judged.push({
        principle: rule.name,
        ruleScore: p.score,
        error: String((answer.reason as Error)?.message ?? answer.reason),
      });
      return;
    }
    const ruleScore = p.score;
    const score = round((ruleScore + rule.weight * answer.value) / 2);
    const outcome = outcomeOf(rule.action, score);
    judged.push({ principle: rule.name, ruleScore, judgeScore: answer.value });
    const wasTriggered = p.outcome !== 'allow';
    p.score = score;
    p.outcome = outcome;
    if (outcome !== 'allow' && !wasTriggered) {
      reasons.push({
        principle: rule.name,
        detector: 'judge',
        span: [0, text.length],
        excerpt: text,
        why: `LLM judge scored ${answer.value} for ${rule.name}`,
        score: answer.value,
        sensitive: false,
      });
    }
    if (outcome === 'allow' && wasTriggered) {
      for (let k = reasons.length - 1; k >= 0; k--)
        if (reasons[k]!.principle === rule.name) reasons.splice(k, 1);
    }
  });
  const verdict = strongest(principles.map((p) => p.outcome));
  const score = principles.reduce((m, p) => Math.max(m, p.score), 0);
  return { verdict, score, principles, reasons, judged };
}

function mask(s: string): string {
  const keep = s.length >= 12 ? 4 : 0;
  return s.slice(0, s.length - keep).replace(/[A-Za-z0-9]/g, '*') + s.slice(s.length - keep);
}

/** A copy with the excerpts of sensitive reasons masked (all but the last four characters of long values). */
export function redactEvaluation<E extends Evaluation>(e: E): E {
  return { ...e, reasons: e.reasons.map((r) => (r.sensitive ? { ...r, excerpt: mask(r.excerpt) } : r)) };
}
