/**
 * Conscience rules in SQLite (`conscience_rules`, migration 4): the writes the conscience actor sends
 * through the store (each acknowledged after COMMIT, with its audit row in the same transaction) and
 * the reads it makes on the store's read-only connection.
 *
 * Seeding: the built-in principles are inserted the first time their name is seen; `conscience_seeded`
 * remembers every name ever seeded, so a deleted built-in stays deleted across restarts, while a
 * built-in that a later version adds is still seeded once.
 */
import type { Database as Db } from 'better-sqlite3';
import { JameyError } from '../../runtime/errors.js';
import { AUDIT_INSERT_SQL, type AuditRow } from '../security/audit.js';
import type { WriteHandler } from '../store/store.js';
import type { DetectorId } from './detectors/index.js';
import type { Action, PrincipleRule } from './principles.js';

const COLUMNS = 'name, description, weight, detectors, action, enabled, builtin, created_at, updated_at';

export const RULE_QUERIES = {
  all: `SELECT ${COLUMNS} FROM conscience_rules ORDER BY position`,
  byName: `SELECT ${COLUMNS} FROM conscience_rules WHERE name = ?`,
} as const;

export interface RuleRow {
  name: string;
  description: string;
  weight: number;
  detectors: string;
  action: Action;
  enabled: number;
  builtin: number;
  created_at: number;
  updated_at: number;
}

/** A rule as stored and as the API returns it. */
export interface StoredRule {
  readonly name: string;
  readonly description: string;
  readonly weight: number;
  readonly detectors: readonly DetectorId[];
  readonly action: Action;
  readonly enabled: boolean;
  /** Seeded from the built-in principles (it may since have been edited). */
  readonly builtin: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The fields an update may change. */
export interface RulePatch {
  description?: string;
  weight?: number;
  detectors?: DetectorId[];
  action?: Action;
  enabled?: boolean;
}

export function ruleFromRow(r: RuleRow): StoredRule {
  return {
    name: r.name,
    description: r.description,
    weight: r.weight,
    detectors: JSON.parse(r.detectors) as DetectorId[],
    action: r.action,
    enabled: r.enabled !== 0,
    builtin: r.builtin !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface SeedArgs {
  readonly rules: readonly Readonly<PrincipleRule>[];
}

export interface CreateRuleArgs {
  readonly rule: PrincipleRule;
  readonly audit: AuditRow;
}

export interface UpdateRuleArgs {
  readonly name: string;
  readonly patch: RulePatch;
  readonly audit: AuditRow;
}

export interface DeleteRuleArgs {
  readonly name: string;
  readonly audit: AuditRow;
}

function notFound(name: string): JameyError {
  return new JameyError('JAMEY_ERR_NOT_FOUND', `no conscience rule named "${name}"`, {
    details: [{ path: '/name', problem: 'unknown rule; GET /v1/conscience/rules lists them' }],
  });
}

/** Write operations of the conscience, registered with the store as `conscience.*`. */
export function conscienceWriters(db: Db): Record<string, WriteHandler> {
  const get = db.prepare(RULE_QUERIES.byName);
  const insert = db.prepare(`
    INSERT INTO conscience_rules (name, description, weight, detectors, action, enabled, builtin, created_at, updated_at, position)
    VALUES (@name, @description, @weight, @detectors, @action, @enabled, @builtin, @now, @now,
      (SELECT coalesce(max(position), 0) + 1 FROM conscience_rules))
    ON CONFLICT (name) DO NOTHING`);
  const update = db.prepare(`
    UPDATE conscience_rules SET description = @description, weight = @weight, detectors = @detectors,
      action = @action, enabled = @enabled, updated_at = @now WHERE name = @name`);
  const remove = db.prepare('DELETE FROM conscience_rules WHERE name = ?');
  const wasSeeded = db.prepare('SELECT 1 FROM conscience_seeded WHERE name = ?');
  const markSeeded = db.prepare('INSERT INTO conscience_seeded (name, seeded_at) VALUES (?, ?)');
  const audit = db.prepare(AUDIT_INSERT_SQL);
  const row = (rule: PrincipleRule, builtin: boolean, now: number) => ({
    name: rule.name,
    description: rule.description,
    weight: rule.weight,
    detectors: JSON.stringify(rule.detectors),
    action: rule.action,
    enabled: rule.enabled === false ? 0 : 1,
    builtin: builtin ? 1 : 0,
    now,
  });
  const read = (name: string): StoredRule | undefined => {
    const r = get.get(name) as RuleRow | undefined;
    return r === undefined ? undefined : ruleFromRow(r);
  };
  return {
    /** Inserts the built-ins never seeded before; returns their names. */
    seed(args, now) {
      const seeded: string[] = [];
      for (const rule of (args as SeedArgs).rules) {
        if (wasSeeded.get(rule.name) !== undefined) continue;
        markSeeded.run(rule.name, now);
        if (insert.run(row(rule, true, now)).changes > 0) seeded.push(rule.name);
      }
      return seeded;
    },
    createRule(args, now) {
      const a = args as CreateRuleArgs;
      if (insert.run(row(a.rule, false, now)).changes === 0) {
        throw new JameyError(
          'JAMEY_ERR_CONFLICT',
          `a conscience rule named "${a.rule.name}" already exists`,
          {
            details: [{ path: '/name', problem: 'is already taken' }],
          },
        );
      }
      audit.run(a.audit);
      return read(a.rule.name);
    },
    updateRule(args, now) {
      const a = args as UpdateRuleArgs;
      const old = read(a.name);
      if (old === undefined) throw notFound(a.name);
      const p = a.patch;
      update.run({
        name: a.name,
        description: p.description ?? old.description,
        weight: p.weight ?? old.weight,
        detectors: JSON.stringify(p.detectors ?? old.detectors),
        action: p.action ?? old.action,
        enabled: (p.enabled ?? old.enabled) ? 1 : 0,
        now,
      });
      audit.run(a.audit);
      return read(a.name);
    },
    deleteRule(args) {
      const a = args as DeleteRuleArgs;
      if (remove.run(a.name).changes === 0) throw notFound(a.name);
      audit.run(a.audit);
      return { deleted: a.name };
    },
  };
}
