/**
 * Principles: named rules that map detector hits to an action. A principle's score for a message is
 * `weight × max(score of its detectors' hits)`; see evaluate.ts for how scores become a verdict.
 */

import type { DetectorId } from './detectors/index.js';
import { DETECTOR_IDS, isDetectorId } from './detectors/index.js';

export const ACTIONS = ['flag', 'block'] as const;
export type Action = (typeof ACTIONS)[number];

export interface PrincipleRule {
  /** Unique, kebab-case. */
  name: string;
  description: string;
  /** 0–1: how much a certain detection under this principle counts. */
  weight: number;
  /** Ids from DETECTOR_IDS. */
  detectors: DetectorId[];
  /** What a confident detection leads to. */
  action: Action;
  /** @default true */
  enabled?: boolean;
}

export const RULE_NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_RULE_NAME = 64;
export const MAX_RULE_DESCRIPTION = 500;

export const DEFAULT_PRINCIPLES: readonly Readonly<PrincipleRule>[] = Object.freeze([
  Object.freeze({
    name: 'do-no-harm',
    description:
      'Do not help hurt people or animals: violence, weapons, self-harm, attacks on others\u2019 systems.',
    weight: 1,
    detectors: Object.freeze(['violence', 'weapons', 'self-harm', 'hacking']) as DetectorId[],
    action: 'block' as const,
  }),
  Object.freeze({
    name: 'honesty',
    description: 'Do not help deceive people: fake reviews or documents, impersonation, phishing, fraud.',
    weight: 0.9,
    detectors: Object.freeze(['deception']) as DetectorId[],
    action: 'flag' as const,
  }),
  Object.freeze({
    name: 'privacy',
    description: 'Personal data and credentials should not pass unnoticed.',
    weight: 0.9,
    detectors: Object.freeze([
      'pii-email',
      'pii-phone',
      'pii-card',
      'pii-national-id',
      'pii-iban',
      'secrets',
    ]) as DetectorId[],
    action: 'flag' as const,
  }),
  Object.freeze({
    name: 'consent',
    description:
      'Do not help share intimate images without consent or track, record or stalk people secretly.',
    weight: 1,
    detectors: Object.freeze(['consent']) as DetectorId[],
    action: 'block' as const,
  }),
]);

export interface RuleProblem {
  /** JSON Pointer to the offending field (`/` for the rule itself). */
  path: string;
  problem: string;
}

const FIELDS = new Set(['name', 'description', 'weight', 'detectors', 'action', 'enabled']);

/**
 * Every problem with a candidate rule, not just the first. With `partial` (an update), missing fields
 * are allowed and the name may not be given, but present fields must still be valid and at least one
 * must be present.
 */
export function validateRule(value: unknown, options: { partial?: boolean } = {}): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const add = (path: string, problem: string): void => {
    problems.push({ path, problem });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    add('/', 'must be an object');
    return problems;
  }
  const r = value as Record<string, unknown>;
  const partial = options.partial ?? false;
  for (const key of Object.keys(r)) if (!FIELDS.has(key)) add(`/${key}`, 'is not an accepted field');
  // An update addresses a rule by name; renaming would orphan stored references to it.
  if (partial && r['name'] !== undefined) add('/name', 'cannot be changed by an update');
  const present = (k: string): boolean => r[k] !== undefined;
  if (partial && ![...FIELDS].some(present)) add('/', 'must change at least one field');
  if (!partial) {
    for (const k of ['name', 'description', 'weight', 'detectors', 'action'])
      if (!present(k)) add(`/${k}`, 'is required');
  }
  if (present('name') && !partial) {
    const n = r['name'];
    if (typeof n !== 'string') add('/name', 'must be a string');
    else if (n.length === 0 || n.length > MAX_RULE_NAME)
      add('/name', `must be 1–${MAX_RULE_NAME} characters`);
    else if (!RULE_NAME_PATTERN.test(n)) add('/name', 'must be kebab-case (a-z, 0-9, single hyphens)');
  }
  if (present('description')) {
    const d = r['description'];
    if (typeof d !== 'string') add('/description', 'must be a string');
    else if (d.length > MAX_RULE_DESCRIPTION)
      add('/description', `must be at most ${MAX_RULE_DESCRIPTION} characters`);
  }
  if (present('weight')) {
    const w = r['weight'];
    if (typeof w !== 'number' || !Number.isFinite(w)) add('/weight', 'must be a finite number');
    else if (w < 0 || w > 1) add('/weight', `must be between 0 and 1 (got ${w})`);
  }
  if (present('detectors')) {
    const ds = r['detectors'];
    if (!Array.isArray(ds)) add('/detectors', 'must be an array of detector ids');
    else {
      if (ds.length === 0) add('/detectors', 'must name at least one detector');
      const seen = new Set<unknown>();
      ds.forEach((d, i) => {
        if (!isDetectorId(d)) {
          add(
            `/detectors/${i}`,
            `unknown detector id ${JSON.stringify(d)} (known: ${DETECTOR_IDS.join(', ')})`,
          );
        } else if (seen.has(d)) add(`/detectors/${i}`, `duplicate detector id "${d}"`);
        seen.add(d);
      });
    }
  }
  if (present('action')) {
    const a = r['action'];
    if (typeof a !== 'string' || !(ACTIONS as readonly string[]).includes(a)) {
      add('/action', `must be one of "flag", "block" (got ${JSON.stringify(a)})`);
    }
  }
  if (present('enabled') && typeof r['enabled'] !== 'boolean') add('/enabled', 'must be a boolean');
  return problems;
}

/** Problems across a rule set: each rule's own, plus duplicate names. */
export function validateRules(rules: readonly unknown[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    for (const p of validateRule(rule))
      problems.push({ path: `/${i}${p.path === '/' ? '' : p.path}`, problem: p.problem });
    const name = (rule as { name?: unknown } | null)?.name;
    if (typeof name === 'string') {
      if (names.has(name))
        problems.push({ path: `/${i}/name`, problem: `duplicate principle name "${name}"` });
      names.add(name);
    }
  });
  return problems;
}
