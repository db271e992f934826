/**
 * Token-bucket rate limiter, one bucket per key (an API key id, or a client address), held in an
 * LRU so memory stays bounded however many clients come and go: a bucket evicted for being idle
 * comes back full, which is what an idle bucket would have refilled to anyway.
 *
 * A bucket holds at most `burst` tokens and gains `rps` tokens per second; a request takes one.
 * Refill is computed lazily from the time since the bucket was last touched, so there are no timers.
 *
 * The answer carries the fields of the IETF draft "RateLimit Fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers-06: `RateLimit-Limit` is the quota,
 * `RateLimit-Remaining` what is left of it, `RateLimit-Reset` the delay in seconds until it is whole
 * again) and, on a refusal, `Retry-After` in delay-seconds (RFC 9110, section 10.2.3), i.e. the time
 * until one token is back.
 */
import { LRUMap } from 'mnemonist';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { OptionChecker } from '../../runtime/options.js';

/** A bucket's shape: the `rate_limit` column of `api_keys` holds this as JSON. */
export interface RateLimit {
  /** Tokens gained per second (the sustained request rate). */
  rps: number;
  /** Bucket size (the largest burst). */
  burst: number;
}

export interface RateLimiterOptions {
  /** The limit of a key that has none of its own. @default { rps: 10, burst: 50 } */
  defaultLimit: RateLimit;
  /** Buckets kept at most; the least recently used is forgotten first. @default 100000 */
  capacity: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ rps: 10, burst: 50 });

export const DEFAULT_RATE_LIMITER_OPTIONS: Readonly<RateLimiterOptions> = Object.freeze({
  defaultLimit: DEFAULT_RATE_LIMIT,
  capacity: 100_000,
});

export interface RateLimitDecision {
  allowed: boolean;
  /** The quota (the bucket size). */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again (rounded up). */
  resetSeconds: number;
  /** Seconds until a request would be allowed (rounded up, at least 1); 0 when allowed. */
  retryAfterSeconds: number;
  /** Milliseconds until a request would be allowed, unrounded; 0 when allowed. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  /** Clock time of the last refill. */
  at: number;
  rps: number;
  burst: number;
}

/** Checks a limit; used for options and for the `rate_limit` of a key. */
export function checkRateLimit(c: OptionChecker, name: string, value: unknown): RateLimit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    c.fail(name, 'an object { rps, burst }', value);
    return { ...DEFAULT_RATE_LIMIT };
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key !== 'rps' && key !== 'burst') c.problems.push(`unknown option "${name}.${key}"`);
  }
  return {
    rps: c.number(`${name}.rps`, v.rps, 0.001, 1_000_000),
    burst: c.integer(`${name}.burst`, v.burst, 1, 10_000_000),
  };
}

export function resolveRateLimiterOptions(
  input: Partial<RateLimiterOptions> = {},
  prefix = 'rateLimit',
): RateLimiterOptions {
  const c = new OptionChecker();
  const out = {
    defaultLimit: checkRateLimit(
      c,
      `${prefix}.defaultLimit`,
      input.defaultLimit ?? DEFAULT_RATE_LIMITER_OPTIONS.defaultLimit,
    ),
    capacity: c.integer(
      `${prefix}.capacity`,
      input.capacity ?? DEFAULT_RATE_LIMITER_OPTIONS.capacity,
      1,
      100_000_000,
    ),
  };
  c.throwIfAny();
  return out;
}

export class RateLimiter {
  readonly options: Readonly<RateLimiterOptions>;
  private readonly clock: Clock;
  private readonly buckets: LRUMap<string, Bucket>;

  constructor(options: Partial<RateLimiterOptions> = {}, clock: Clock = systemClock) {
    this.options = Object.freeze(resolveRateLimiterOptions(options));
    this.clock = clock;
    this.buckets = new LRUMap<string, Bucket>(this.options.capacity);
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket if it has them. `limit` overrides the default (a key's
   * own limit); a bucket whose limit changed keeps its tokens, capped at the new burst.
   */
  take(key: string, limit: RateLimit = this.options.defaultLimit, cost = 1): RateLimitDecision {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: limit.burst, at: now, rps: limit.rps, burst: limit.burst };
      this.buckets.set(key, b);
    } else {
      if (now > b.at) {
        b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rps);
        b.at = now;
      }
      if (b.rps !== limit.rps || b.burst !== limit.burst) {
        b.rps = limit.rps;
        b.burst = limit.burst;
        if (b.tokens > b.burst) b.tokens = b.burst;
      }
    }
    // A hair of tolerance so that float refill (0.1 s × 10 rps = 0.9999…) does not refuse a request
    // that is exactly due.
    const allowed = b.tokens + 1e-9 >= cost;
    if (allowed) b.tokens = Math.max(0, b.tokens - cost);
    return this.decision(b, allowed, cost);
  }

  /** The bucket's state without taking a token (a full bucket for an unknown key). */
  peek(key: string, limit: RateLimit = this.options.defaultLimit): RateLimitDecision {
    const b = this.buckets.peek(key);
    if (b === undefined) {
      return {
        allowed: true,
        limit: limit.burst,
        remaining: limit.burst,
        resetSeconds: 0,
        retryAfterSeconds: 0,
        retryAfterMs: 0,
      };
    }
    const now = this.clock.now();
    const tokens = Math.min(b.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * b.rps);
    return this.decision({ ...b, tokens, at: now }, tokens + 1e-9 >= 1, 1);
  }

  /** Forgets a key's bucket (its next request starts full). */
  reset(key: string): void {
    // LRUMap has no delete: overwrite with a full bucket instead.
    const b = this.buckets.peek(key);
    if (b !== undefined) b.tokens = b.burst;
  }

  private decision(b: Bucket, allowed: boolean, cost: number): RateLimitDecision {
    const missing = b.burst - b.tokens;
    const resetSeconds = missing <= 1e-9 ? 0 : Math.ceil(missing / b.rps - 1e-9);
    const retryAfterMs = allowed ? 0 : Math.max(0, ((cost - b.tokens) / b.rps) * 1000);
    const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000 - 1e-9));
    return {
      allowed,
      limit: b.burst,
      remaining: Math.max(0, Math.floor(b.tokens + 1e-9)),
      resetSeconds,
      retryAfterSeconds,
      retryAfterMs,
    };
  }
}

/**
 * The response fields for a decision (draft-ietf-httpapi-ratelimit-headers-06; `Retry-After` from
 * RFC 9110 on refusals).
 */
export function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(d.resetSeconds),
  };
  if (!d.allowed) headers['Retry-After'] = String(d.retryAfterSeconds);
  return headers;
}
