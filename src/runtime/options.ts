/**
 * Runtime options: typed, with documented defaults, validated once and frozen.
 * Every validation message names the option, the expected value and what was given, e.g.
 * `option "mailbox.capacity" must be an integer from 1 to 10000000, got -5`.
 * (After piscina `src/index.ts` and undici `lib/dispatcher/client.js`.)
 */
import { availableParallelism } from 'node:os';
import { JameyError } from './errors.js';

export const OVERFLOW_POLICIES = ['reject', 'drop-oldest', 'drop-newest'] as const;
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

export const SUPERVISION_STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
export type SupervisionStrategy = (typeof SUPERVISION_STRATEGIES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MailboxOptions {
  /** Messages held at most, over all priority lanes. @default 1000 */
  capacity: number;
  /** What a full mailbox does with a new message. @default 'reject' */
  overflow: OverflowPolicy;
}

export interface RetryOptions {
  /** First backoff delay in ms. @default 50 */
  initialDelayMs: number;
  /** Largest backoff delay in ms. @default 500 */
  maxDelayMs: number;
  /** Growth of the delay per attempt. @default 2 */
  factor: number;
  /** Retries after the first attempt. @default 3 */
  maxRetries: number;
}

export interface SupervisionOptions {
  /** @default 'one_for_one' */
  strategy: SupervisionStrategy;
  /** Restarts allowed within `withinMs`; one more escalates. @default 5 */
  maxRestarts: number;
  /** The restart-intensity window in ms. @default 10000 */
  withinMs: number;
  /** Delay before the first restart in a window, doubled per further restart. @default 50 */
  backoffInitialMs: number;
  /** Largest delay between restarts. @default 2000 */
  backoffMaxMs: number;
}

export interface PoolOptions {
  /** Worker threads. @default os.availableParallelism() */
  maxThreads: number;
  /** Tasks waiting for a thread at most; more get JAMEY_ERR_POOL_SATURATED. @default 1024 */
  maxQueue: number;
  /** Default per-task deadline in ms. @default 30000 */
  taskDeadlineMs: number;
  /** Idle time before a thread above the minimum exits, in ms. @default 30000 */
  idleTimeoutMs: number;
}

export interface HttpOptions {
  /** Time to receive a request's headers; slower clients (slowloris) are cut. @default 10000 */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. @default 30000 */
  requestTimeoutMs: number;
  /** Idle time of a kept-alive connection. @default 5000 */
  keepAliveTimeoutMs: number;
  /** Largest request header block, in bytes. @default 16384 */
  maxHeaderBytes: number;
  /** Largest request body, in bytes. @default 1048576 */
  maxBodyBytes: number;
  /** Time to drain in-flight requests on shutdown. @default 10000 */
  drainTimeoutMs: number;
}

export interface RuntimeOptions {
  /** HTTP host (env JAMEY_HOST). @default '127.0.0.1' */
  host: string;
  /** HTTP port, 0 for any free port (env JAMEY_PORT). @default 8080 */
  port: number;
  /** Folder for the SQLite file and the admin key (env JAMEY_DATA_DIR). @default './data' */
  dataDir: string;
  /** Log level of the JSON logs on stderr (env JAMEY_LOG_LEVEL). @default 'info' */
  logLevel: LogLevel;
  /** Default mailbox of every actor (an actor may declare its own). */
  mailbox: MailboxOptions;
  /** Send-with-retry on a full mailbox (the seed's ChannelConfig). */
  sendRetry: RetryOptions;
  /** Default deadline of `ask` in ms. @default 30000 */
  askDeadlineMs: number;
  /** Root supervisor. */
  supervision: SupervisionOptions;
  /** Piscina worker pool. */
  pool: PoolOptions;
  /** How long `close()` waits for mailboxes to drain before it destroys what is left, in ms. @default 10000 */
  shutdownTimeoutMs: number;
  /** The HTTP front end's limits. */
  http: HttpOptions;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type RuntimeOptionsInput = DeepPartial<RuntimeOptions>;

export function defaultOptions(): RuntimeOptions {
  return {
    host: '127.0.0.1',
    port: 8080,
    dataDir: './data',
    logLevel: 'info',
    mailbox: { capacity: 1000, overflow: 'reject' },
    sendRetry: { initialDelayMs: 50, maxDelayMs: 500, factor: 2, maxRetries: 3 },
    askDeadlineMs: 30_000,
    supervision: {
      strategy: 'one_for_one',
      maxRestarts: 5,
      withinMs: 10_000,
      backoffInitialMs: 50,
      backoffMaxMs: 2_000,
    },
    pool: {
      maxThreads: Math.max(1, availableParallelism()),
      maxQueue: 1024,
      taskDeadlineMs: 30_000,
      idleTimeoutMs: 30_000,
    },
    shutdownTimeoutMs: 10_000,
    http: {
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxHeaderBytes: 16_384,
      maxBodyBytes: 1_048_576,
      drainTimeoutMs: 10_000,
    },
  };
}

/** Collects every problem before throwing, so one run of a bad config lists them all. */
export class OptionChecker {
  readonly problems: string[] = [];

  private describe(value: unknown): string {
    if (typeof value === 'string') return JSON.stringify(value);
    if (value === undefined || value === null || typeof value !== 'object') return String(value);
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }

  fail(name: string, expected: string, value: unknown): void {
    this.problems.push(`option "${name}" must be ${expected}, got ${this.describe(value)}`);
  }

  integer(name: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(name, `an integer from ${min} to ${max}`, value);
      return min;
    }
    return value;
  }

  number(name: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
      this.fail(name, `a number from ${min} to ${max}`, value);
      return min;
    }
    return value;
  }

  string(name: string, value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(name, 'a non-empty string', value);
      return '';
    }
    return value;
  }

  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
      return allowed[0] as T;
    }
    return value as T;
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const message =
      this.problems.length === 1
        ? this.problems[0]
        : `${this.problems.length} invalid options: ${this.problems.join('; ')}`;
    throw new JameyError('JAMEY_ERR_INVALID_OPTION', message, { details: [...this.problems] });
  }
}

export function checkMailboxOptions(c: OptionChecker, prefix: string, m: MailboxOptions): MailboxOptions {
  return {
    capacity: c.integer(`${prefix}.capacity`, m.capacity, 1, 10_000_000),
    overflow: c.oneOf(`${prefix}.overflow`, m.overflow, OVERFLOW_POLICIES),
  };
}

export function checkRetryOptions(c: OptionChecker, prefix: string, r: RetryOptions): RetryOptions {
  const out = {
    initialDelayMs: c.number(`${prefix}.initialDelayMs`, r.initialDelayMs, 0, 3_600_000),
    maxDelayMs: c.number(`${prefix}.maxDelayMs`, r.maxDelayMs, 0, 3_600_000),
    factor: c.number(`${prefix}.factor`, r.factor, 1, 100),
    maxRetries: c.integer(`${prefix}.maxRetries`, r.maxRetries, 0, 1000),
  };
  if (out.maxDelayMs < out.initialDelayMs) {
    c.fail(`${prefix}.maxDelayMs`, `at least ${prefix}.initialDelayMs (${out.initialDelayMs})`, r.maxDelayMs);
  }
  return out;
}

export function checkSupervisionOptions(
  c: OptionChecker,
  prefix: string,
  s: SupervisionOptions,
): SupervisionOptions {
  return {
    strategy: c.oneOf(`${prefix}.strategy`, s.strategy, SUPERVISION_STRATEGIES),
    maxRestarts: c.integer(`${prefix}.maxRestarts`, s.maxRestarts, 0, 1_000_000),
    withinMs: c.number(`${prefix}.withinMs`, s.withinMs, 1, 86_400_000),
    backoffInitialMs: c.number(`${prefix}.backoffInitialMs`, s.backoffInitialMs, 0, 3_600_000),
    backoffMaxMs: c.number(`${prefix}.backoffMaxMs`, s.backoffMaxMs, 0, 3_600_000),
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `patch` over `base`, one level of nesting per object-valued key; unknown keys are reported. */
function merge(
  c: OptionChecker,
  prefix: string,
  base: Record<string, unknown>,
  patch: unknown,
): Record<string, unknown> {
  if (patch === undefined) return base;
  if (!isPlainObject(patch)) {
    c.fail(prefix || 'options', 'an object', patch);
    return base;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(base, key)) {
      c.problems.push(`unknown option "${name}"`);
      continue;
    }
    if (value === undefined) continue;
    const current = base[key];
    out[key] = isPlainObject(current) ? merge(c, name, current, value) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Applies `input` over the defaults, validates every field and returns a deeply frozen result.
 * Throws JAMEY_ERR_INVALID_OPTION listing every problem.
 */
export function resolveOptions(input: RuntimeOptionsInput = {}): Readonly<RuntimeOptions> {
  const c = new OptionChecker();
  const merged = merge(
    c,
    '',
    defaultOptions() as unknown as Record<string, unknown>,
    input,
  ) as unknown as RuntimeOptions;
  const pool = merged.pool;
  const resolved: RuntimeOptions = {
    host: c.string('host', merged.host),
    port: c.integer('port', merged.port, 0, 65_535),
    dataDir: c.string('dataDir', merged.dataDir),
    logLevel: c.oneOf('logLevel', merged.logLevel, LOG_LEVELS),
    mailbox: checkMailboxOptions(c, 'mailbox', merged.mailbox),
    sendRetry: checkRetryOptions(c, 'sendRetry', merged.sendRetry),
    askDeadlineMs: c.number('askDeadlineMs', merged.askDeadlineMs, 1, Number.POSITIVE_INFINITY),
    supervision: checkSupervisionOptions(c, 'supervision', merged.supervision),
    pool: {
      maxThreads: c.integer('pool.maxThreads', pool.maxThreads, 1, 1024),
      maxQueue: c.integer('pool.maxQueue', pool.maxQueue, 0, 10_000_000),
      taskDeadlineMs: c.number('pool.taskDeadlineMs', pool.taskDeadlineMs, 1, Number.POSITIVE_INFINITY),
      idleTimeoutMs: c.number('pool.idleTimeoutMs', pool.idleTimeoutMs, 0, Number.POSITIVE_INFINITY),
    },
    shutdownTimeoutMs: c.number('shutdownTimeoutMs', merged.shutdownTimeoutMs, 0, 3_600_000),
    http: {
      headersTimeoutMs: c.integer('http.headersTimeoutMs', merged.http.headersTimeoutMs, 100, 3_600_000),
      requestTimeoutMs: c.integer('http.requestTimeoutMs', merged.http.requestTimeoutMs, 100, 3_600_000),
      keepAliveTimeoutMs: c.integer('http.keepAliveTimeoutMs', merged.http.keepAliveTimeoutMs, 0, 3_600_000),
      maxHeaderBytes: c.integer('http.maxHeaderBytes', merged.http.maxHeaderBytes, 1024, 1_048_576),
      maxBodyBytes: c.integer('http.maxBodyBytes', merged.http.maxBodyBytes, 1024, 1_073_741_824),
      drainTimeoutMs: c.integer('http.drainTimeoutMs', merged.http.drainTimeoutMs, 0, 3_600_000),
    },
  };
  if (resolved.http.requestTimeoutMs < resolved.http.headersTimeoutMs) {
    c.fail(
      'http.requestTimeoutMs',
      `at least http.headersTimeoutMs (${resolved.http.headersTimeoutMs})`,
      merged.http.requestTimeoutMs,
    );
  }
  c.throwIfAny();
  return deepFreeze(resolved);
}

/** Environment variables read by `optionsFromEnv`, with the option each sets. */
export const ENV_OPTIONS = {
  JAMEY_HOST: 'host',
  JAMEY_PORT: 'port',
  JAMEY_DATA_DIR: 'dataDir',
  JAMEY_LOG_LEVEL: 'logLevel',
} as const;

/**
 * Reads the `JAMEY_*` variables into an options input. A numeric variable that is not a number is
 * passed through as the string, so validation reports it with the variable's option name.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeOptionsInput {
  const out: Record<string, unknown> = {};
  for (const [variable, option] of Object.entries(ENV_OPTIONS)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    if (option === 'port') {
      const n = Number(raw);
      out[option] = /^\d+$/.test(raw.trim()) ? n : raw;
    } else {
      out[option] = raw;
    }
  }
  return out as RuntimeOptionsInput;
}
