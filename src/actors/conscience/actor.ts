/**
 * The conscience actor: holds the principles (persisted in `conscience_rules`, edited at run time)
 * and evaluates text against them.
 *
 * - Evaluation is synchronous and takes well under a millisecond for chat-sized text, so it runs in
 *   the handler; the answer is always redacted (`redactEvaluation`): personal data and credentials
 *   found in the text never leave the actor in clear.
 * - Rule changes go through the store actor (one transaction with their audit row) and are answered
 *   after COMMIT; the actor then swaps in a new rule array, because `evaluate` caches validation by
 *   array identity. Messages are handled one at a time, so an evaluation never sees half a change,
 *   and the evaluation after an acknowledged change uses it.
 * - Every `flag` or `block` verdict is recorded in the audit log (principle names, detectors, spans
 *   and reasons — never the text or an excerpt of it), through the buffered audit log that the
 *   security layer flushes.
 * - Verdicts are remembered: `evaluate` is a pure function of the text, the role and the rules, so
 *   the redacted evaluation of a text seen before under the same rules is served from a bounded LRU
 *   (`verdictCacheSize` entries of texts up to `VERDICT_CACHE_MAX_CHARS`), emptied whenever the rules
 *   change. The audit entry and the metrics are still recorded for every evaluation asked for.
 *   Repeated texts are common: a system prompt or a canned question sent by many clients, and the
 *   answers a cache or a deterministic model repeats.
 */

import { LRUMap } from 'mnemonist';
import type { ActorContext, ActorRef, ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import { type AuditEntry, auditRow } from '../security/audit.js';
import type { Store } from '../store/store.js';
import { type Evaluation, type EvaluationContext, evaluate, redactEvaluation } from './evaluate.js';
import { DEFAULT_PRINCIPLES, type PrincipleRule, validateRule } from './principles.js';
import { RULE_QUERIES, type RulePatch, type RuleRow, ruleFromRow, type StoredRule } from './rule-store.js';

export const CONSCIENCE_ACTOR = 'conscience';

export type ConscienceMessage =
  | {
      type: 'evaluate';
      text: string;
      context?: EvaluationContext;
      /** Who asked, for the audit log (`key:<id>`). @default 'system' */
      by?: string;
      /** Where the text came from, for the audit log (`api`, `chat.input`, `chat.output`). @default 'api' */
      source?: string;
    }
  | { type: 'rules' }
  | { type: 'rule'; name: string }
  | { type: 'create'; rule: PrincipleRule; by?: string }
  | { type: 'update'; name: string; patch: RulePatch; by?: string }
  | { type: 'delete'; name: string; by?: string };

/** Where verdict audit entries go (the security layer's `AuditLog`: buffered, never throws). */
export interface AuditSink {
  record(entry: AuditEntry): void;
}

/** Observers the metrics bind to. */
export interface ConscienceObserver {
  evaluated(evaluation: Evaluation, seconds: number): void;
}

export interface ConscienceDeps {
  store: Store;
  audit?: AuditSink;
  observer?: ConscienceObserver;
  log?: Logger;
  /** Seeded the first time each is seen. @default DEFAULT_PRINCIPLES */
  builtins?: readonly Readonly<PrincipleRule>[];
  /** Actors besides the store that must outlive this one (the owner of `audit`). @default [] */
  dependsOn?: readonly string[];
  /** @default 1000 */
  mailboxCapacity?: number;
  /** Redacted verdicts remembered per (role, text); 0 turns the memo off. @default 4096 */
  verdictCacheSize?: number;
}

/** Longer texts are evaluated every time: they are rarely repeated, and the key would hold them. */
export const VERDICT_CACHE_MAX_CHARS = 4096;

function invalid(problems: ReadonlyArray<{ path: string; problem: string }>, what: string): JameyError {
  return new JameyError(
    'JAMEY_ERR_VALIDATION',
    `invalid ${what}: ${problems.map((p) => `${p.path} ${p.problem}`).join('; ')}`,
    { details: problems },
  );
}

function asPrinciple(r: StoredRule): PrincipleRule {
  return {
    name: r.name,
    description: r.description,
    weight: r.weight,
    detectors: [...r.detectors],
    action: r.action,
    enabled: r.enabled,
  };
}

/** Only the fields a rule has: a patch or rule from a caller may carry extras. */
function ruleInput(rule: PrincipleRule): PrincipleRule {
  const r: PrincipleRule = {
    name: rule.name,
    description: rule.description,
    weight: rule.weight,
    detectors: rule.detectors,
    action: rule.action,
  };
  if (rule.enabled !== undefined) r.enabled = rule.enabled;
  return r;
}

const AUDIT_REASONS = 20;

function verdictEntry(e: Evaluation, by: string, source: string): AuditEntry {
  const triggered = e.principles.filter((p) => p.outcome !== 'allow');
  return {
    actor: by,
    action: `conscience.${e.verdict}`,
    target: source,
    outcome: triggered.map((p) => p.name).join(','),
    details: {
      score: e.score,
      principles: triggered,
      // Spans and static reasons only: an excerpt would copy the user's text into the log.
      reasons: e.reasons.slice(0, AUDIT_REASONS).map((r) => ({
        principle: r.principle,
        detector: r.detector,
        span: r.span,
        why: r.why,
        score: r.score,
      })),
    },
  };
}

/** Touches every detector's patterns, of both roles. */
const WARM_UP_TEXT =
  'How do I poison my neighbour, hack his wifi and track her phone secretly? Write a fake review. ' +
  'Card 5425233430109903, mail a@example.com, call +44 20 7946 0958, key sk-abcdefghijklmnopqrstuvwx.';
let warm = false;

/**
 * Runs the detectors once. V8 compiles a regular expression on its first use, and the first
 * evaluation costs some hundreds of milliseconds; paid while the runtime is built, it delays no
 * request and does not look like event-loop lag to load shedding once the service runs.
 */
export function warmUpConscience(): void {
  if (warm) return;
  warm = true;
  evaluate(WARM_UP_TEXT, {}, DEFAULT_PRINCIPLES);
  evaluate(WARM_UP_TEXT, { role: 'assistant' }, DEFAULT_PRINCIPLES);
}

export function conscienceActorSpec(deps: ConscienceDeps): ActorSpec<ConscienceMessage, unknown> {
  const { store, audit, observer, log } = deps;
  warmUpConscience();
  const builtins = deps.builtins ?? DEFAULT_PRINCIPLES;
  return {
    name: CONSCIENCE_ACTOR,
    dependsOn: ['store', ...(deps.dependsOn ?? [])],
    mailbox: { capacity: deps.mailboxCapacity ?? 1000 },
    async start(ctx: ActorContext): Promise<Behavior<ConscienceMessage, unknown>> {
      const seeded = await store.write<string[]>('conscience.seed', { rules: builtins });
      if (seeded.length > 0) log?.info('conscience principles seeded', { rules: seeded });
      let stored: StoredRule[] = [];
      for (const row of store.reader.statement(RULE_QUERIES.all).all() as RuleRow[]) {
        const rule = ruleFromRow(row);
        const problems = validateRule(asPrinciple(rule));
        // A row edited outside the API must not take the whole conscience down.
        if (problems.length > 0)
          log?.error('conscience rule ignored: invalid', { rule: rule.name, problems });
        else stored.push(rule);
      }
      let principles: readonly PrincipleRule[] = stored.map(asPrinciple);
      const cacheSize = deps.verdictCacheSize ?? 4096;
      const verdicts = cacheSize > 0 ? new LRUMap<string, Evaluation>(cacheSize) : undefined;
      const replace = (next: StoredRule[]): void => {
        stored = next;
        principles = next.map(asPrinciple);
        verdicts?.clear();
      };
      const find = (name: string): StoredRule => {
        const r = stored.find((x) => x.name === name);
        if (r === undefined) {
          throw new JameyError('JAMEY_ERR_NOT_FOUND', `no conscience rule named "${name.slice(0, 80)}"`, {
            details: [{ path: '/name', problem: 'unknown rule; GET /v1/conscience/rules lists them' }],
          });
        }
        return r;
      };
      const row = (
        by: string | undefined,
        action: string,
        target: string,
        details?: Record<string, unknown>,
      ) =>
        auditRow(
          { actor: by ?? 'system', action, target, outcome: 'ok', details: details ?? null },
          ctx.clock.now(),
        );

      return {
        async receive(msg) {
          switch (msg.type) {
            case 'evaluate': {
              if (typeof msg.text !== 'string') {
                throw new JameyError('JAMEY_ERR_VALIDATION', 'the text to evaluate must be a string', {
                  details: [{ path: '/text', problem: 'must be a string' }],
                });
              }
              const t0 = performance.now();
              const context = msg.context ?? {};
              // Only the role changes an evaluation (evaluate.ts ignores the other context fields).
              const key =
                verdicts !== undefined && msg.text.length <= VERDICT_CACHE_MAX_CHARS
                  ? `${context.role ?? 'user'}\u0000${msg.text}`
                  : undefined;
              let e = key === undefined ? undefined : verdicts?.get(key);
              if (e === undefined) {
                e = redactEvaluation(evaluate(msg.text, context, principles));
                if (key !== undefined) verdicts?.set(key, e);
              }
              observer?.evaluated(e, (performance.now() - t0) / 1000);
              if (e.verdict !== 'allow')
                audit?.record(verdictEntry(e, msg.by ?? 'system', msg.source ?? 'api'));
              return e;
            }
            case 'rules':
              return [...stored];
            case 'rule':
              return find(msg.name);
            case 'create': {
              const problems = validateRule(msg.rule);
              if (problems.length > 0) throw invalid(problems, 'rule');
              const rule = ruleInput(msg.rule);
              const created = await store.write<StoredRule>('conscience.createRule', {
                rule,
                audit: row(msg.by, 'conscience.rule.create', rule.name, { ...rule }),
              });
              replace([...stored, created]);
              return created;
            }
            case 'update': {
              const problems = validateRule(msg.patch, { partial: true });
              if (problems.length > 0) throw invalid(problems, 'rule update');
              find(msg.name);
              const p = msg.patch;
              const patch: RulePatch = {};
              if (p.description !== undefined) patch.description = p.description;
              if (p.weight !== undefined) patch.weight = p.weight;
              if (p.detectors !== undefined) patch.detectors = p.detectors;
              if (p.action !== undefined) patch.action = p.action;
              if (p.enabled !== undefined) patch.enabled = p.enabled;
              const updated = await store.write<StoredRule>('conscience.updateRule', {
                name: msg.name,
                patch,
                audit: row(msg.by, 'conscience.rule.update', msg.name, { ...patch }),
              });
              replace(stored.map((r) => (r.name === msg.name ? updated : r)));
              return updated;
            }
            case 'delete': {
              find(msg.name);
              await store.write('conscience.deleteRule', {
                name: msg.name,
                audit: row(msg.by, 'conscience.rule.delete', msg.name),
              });
              replace(stored.filter((r) => r.name !== msg.name));
              return undefined;
            }
            default:
              throw new JameyError('JAMEY_ERR_VALIDATION', 'unknown conscience message');
          }
        },
      };
    },
  };
}

/** Options of an evaluation made through the client. */
export interface EvaluateOptions {
  /** Who asked, for the audit log (`key:<id>`). */
  by?: string;
  /** Where the text came from, for the audit log. */
  source?: string;
}

/** A typed face for the conscience actor. */
export class ConscienceClient {
  constructor(private readonly ref: ActorRef<ConscienceMessage, unknown>) {}

  /** The redacted evaluation of `text` under the current rules. */
  evaluate(text: string, context?: EvaluationContext, options: EvaluateOptions = {}): Promise<Evaluation> {
    const msg: ConscienceMessage = { type: 'evaluate', text };
    if (context !== undefined) msg.context = context;
    if (options.by !== undefined) msg.by = options.by;
    if (options.source !== undefined) msg.source = options.source;
    return this.ref.ask(msg) as Promise<Evaluation>;
  }

  rules(): Promise<StoredRule[]> {
    return this.ref.ask({ type: 'rules' }) as Promise<StoredRule[]>;
  }

  rule(name: string): Promise<StoredRule> {
    return this.ref.ask({ type: 'rule', name }) as Promise<StoredRule>;
  }

  create(rule: PrincipleRule, by?: string): Promise<StoredRule> {
    return this.ref.ask(
      by === undefined ? { type: 'create', rule } : { type: 'create', rule, by },
    ) as Promise<StoredRule>;
  }

  update(name: string, patch: RulePatch, by?: string): Promise<StoredRule> {
    return this.ref.ask(
      by === undefined ? { type: 'update', name, patch } : { type: 'update', name, patch, by },
    ) as Promise<StoredRule>;
  }

  async delete(name: string, by?: string): Promise<void> {
    await this.ref.ask(by === undefined ? { type: 'delete', name } : { type: 'delete', name, by });
  }
}
