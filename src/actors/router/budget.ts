/**
 * Spending budgets per API key, per UTC day and month, in US dollars from token usage and the
 * model's prices. A request is refused (JAMEY_ERR_BUDGET_EXCEEDED, 402) when the key has already
 * spent its budget for the period; the request that crosses the limit is served (its cost is known
 * only after it ends), the next is refused. Spend is kept in memory, persisted per key, day and model
 * (`llm_usage`, integer micro-dollars) and loaded back at start, so a restart forgets nothing.
 */
import type { Database as Db } from 'better-sqlite3';
import { JameyError } from '../../runtime/errors.js';
import type { WriteHandler } from '../store/store.js';

export interface BudgetLimit {
  /** US dollars per UTC day; undefined = no limit. */
  readonly dailyUsd?: number;
  /** US dollars per UTC month; undefined = no limit. */
  readonly monthlyUsd?: number;
}

export interface BudgetOptions extends BudgetLimit {
  /** Per-key limits (by key id) that replace the defaults above. */
  readonly keys?: Readonly<Record<string, BudgetLimit>>;
}

export const USAGE_QUERIES = {
  monthSpend:
    'SELECT key_id, day, sum(cost_micros) AS micros FROM llm_usage WHERE day >= ? GROUP BY key_id, day',
  keyUsage:
    'SELECT day, model, requests, prompt_tokens, completion_tokens, cost_micros FROM llm_usage WHERE key_id = ? AND day >= ? ORDER BY day, model',
} as const;

export interface UsageRecord {
  readonly keyId: string;
  readonly day: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
}

export function usageWriters(db: Db): Record<string, WriteHandler> {
  const upsert = db.prepare(`
    INSERT INTO llm_usage (key_id, day, model, requests, prompt_tokens, completion_tokens, cost_micros)
    VALUES (@keyId, @day, @model, 1, @promptTokens, @completionTokens, @costMicros)
    ON CONFLICT (key_id, day, model) DO UPDATE SET
      requests = requests + 1,
      prompt_tokens = prompt_tokens + @promptTokens,
      completion_tokens = completion_tokens + @completionTokens,
      cost_micros = cost_micros + @costMicros`);
  return {
    usage: (args) => upsert.run(args as UsageRecord).changes,
  };
}

/** "YYYY-MM-DD" of a wall-clock time, in UTC. */
/** The last day formatted and the UTC milliseconds it spans: a request asks several times. */
let dayCache = { from: 0, to: -1, day: '' };

export function utcDay(ms: number): string {
  if (ms >= dayCache.from && ms < dayCache.to) return dayCache.day;
  const day = new Date(ms).toISOString().slice(0, 10);
  const from = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
  // Date.UTC reads years 0–99 as 1900–1999, and years past 9999 format longer: such days are not cached.
  if (ms >= from && ms < from + 86_400_000) dayCache = { from, to: from + 86_400_000, day };
  return day;
}

interface Spend {
  day: string;
  dayMicros: number;
  month: string;
  monthMicros: number;
}

export class BudgetBook {
  readonly #options: BudgetOptions;
  readonly #spend = new Map<string, Spend>();

  constructor(options: BudgetOptions = {}) {
    this.#options = options;
  }

  /** Restores this month's spend from the usage table (`USAGE_QUERIES.monthSpend` rows). */
  load(rows: Iterable<{ key_id: string; day: string; micros: number }>, now: number): void {
    const today = utcDay(now);
    const month = today.slice(0, 7);
    for (const r of rows) {
      if (r.day.slice(0, 7) !== month) continue;
      const s = this.#entry(r.key_id, today);
      s.monthMicros += r.micros;
      if (r.day === today) s.dayMicros += r.micros;
    }
  }

  #entry(keyId: string, today: string): Spend {
    let s = this.#spend.get(keyId);
    if (s === undefined) {
      s = { day: today, dayMicros: 0, month: today.slice(0, 7), monthMicros: 0 };
      this.#spend.set(keyId, s);
    } else if (s.day !== today) {
      s.day = today;
      s.dayMicros = 0;
      if (s.month !== today.slice(0, 7)) {
        s.month = today.slice(0, 7);
        s.monthMicros = 0;
      }
    }
    return s;
  }

  limitOf(keyId: string): BudgetLimit {
    return this.#options.keys?.[keyId] ?? this.#options;
  }

  /** Throws JAMEY_ERR_BUDGET_EXCEEDED when the key has spent a budget for the current period. */
  check(keyId: string, now: number): void {
    const limit = this.limitOf(keyId);
    if (limit.dailyUsd === undefined && limit.monthlyUsd === undefined) return;
    const today = utcDay(now);
    const s = this.#entry(keyId, today);
    const over = (period: 'day' | 'month', limitUsd: number, micros: number): never => {
      const d = new Date(now);
      const resets =
        period === 'day'
          ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
          : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      throw new JameyError(
        'JAMEY_ERR_BUDGET_EXCEEDED',
        `this key has spent its ${period === 'day' ? 'daily' : 'monthly'} budget of ${limitUsd} USD`,
        { details: { period, limitUsd, spentUsd: micros / 1e6, resetsAt: new Date(resets).toISOString() } },
      );
    };
    if (limit.dailyUsd !== undefined && s.dayMicros >= limit.dailyUsd * 1e6)
      over('day', limit.dailyUsd, s.dayMicros);
    if (limit.monthlyUsd !== undefined && s.monthMicros >= limit.monthlyUsd * 1e6) {
      over('month', limit.monthlyUsd, s.monthMicros);
    }
  }

  add(keyId: string, now: number, micros: number): void {
    const s = this.#entry(keyId, utcDay(now));
    s.dayMicros += micros;
    s.monthMicros += micros;
  }

  spent(keyId: string, now: number): { dayUsd: number; monthUsd: number } {
    const s = this.#entry(keyId, utcDay(now));
    return { dayUsd: s.dayMicros / 1e6, monthUsd: s.monthMicros / 1e6 };
  }
}
