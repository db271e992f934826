/**
 * Abuse protection that needs no per-request I/O:
 *
 * - A cap on concurrent connections per client address.
 * - Strikes: an address that keeps exceeding its limits (refused for rate, over the connection cap,
 *   oversized bodies, slow requests) collects strikes; strikes leak away at a steady rate, so only
 *   persistent abuse reaches the threshold. Reaching it bans the address for a while, longer for each
 *   repeat offence (1 min, 5 min, 30 min by default, then the last duration again); the offence level
 *   itself is forgotten one step per `offenceMemoryMs` without a new ban.
 * - Load shedding: the event-loop delay (p99 over each sampling interval, from
 *   `perf_hooks.monitorEventLoopDelay`) and the fullest actor mailbox are sampled on a timer, not per
 *   request; while either is past its threshold `shouldShed()` is true and the HTTP layer answers 503
 *   with `Retry-After` (RFC 9110, section 15.6.4).
 *
 * State per address lives in an LRU (bounded memory); bans in a map bounded by the same capacity.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { LRUMap } from 'mnemonist';
import type { Clock, TimerHandle } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { OptionChecker } from '../../runtime/options.js';

export const STRIKE_REASONS = [
  'rate_limited',
  'connection_cap',
  'payload_too_large',
  'slow_request',
] as const;
export type StrikeReason = (typeof STRIKE_REASONS)[number];

export interface DdosOptions {
  /** Concurrent connections one address may hold. @default 64 */
  maxConnectionsPerIp: number;
  /** Strikes that ban an address. @default 20 */
  strikesToBan: number;
  /** Strikes each reason adds. @default { rate_limited: 1, connection_cap: 1, payload_too_large: 5, slow_request: 5 } */
  strikeWeights: Record<StrikeReason, number>;
  /** Time for one strike to leak away, in ms. @default 10000 */
  strikeDecayMs: number;
  /** Ban durations in ms by offence: the first ban, the second, …; later bans repeat the last. @default [60000, 300000, 1800000] */
  banDurationsMs: readonly number[];
  /** Time without a new ban after which the offence level drops by one, in ms. @default 3600000 (1 h) */
  offenceMemoryMs: number;
  /** Addresses tracked at most (strikes and bans); the least recently seen is forgotten first. @default 100000 */
  maxTrackedIps: number;
  /** Interval between load samples, in ms. @default 500 */
  sampleIntervalMs: number;
  /** Event-loop delay (p99 over a sampling interval) past which requests are shed, in ms. @default 200 */
  maxEventLoopLagMs: number;
  /** Mailbox fill ratio (size / capacity, 0..1) of the fullest actor past which requests are shed. @default 0.9 */
  maxMailboxFill: number;
  /**
   * Share of the machine's memory in use (0..1, from the resource monitor) past which requests are
   * shed: new work would push the host into swapping or the OOM killer. @default 0.97
   */
  maxMemoryUsed: number;
  /** `Retry-After` sent with a shed request, in seconds. @default 2 */
  shedRetryAfterSeconds: number;
}

export const DEFAULT_DDOS_OPTIONS: Readonly<DdosOptions> = Object.freeze({
  maxConnectionsPerIp: 64,
  strikesToBan: 20,
  strikeWeights: Object.freeze({ rate_limited: 1, connection_cap: 1, payload_too_large: 5, slow_request: 5 }),
  strikeDecayMs: 10_000,
  banDurationsMs: Object.freeze([60_000, 300_000, 1_800_000]),
  offenceMemoryMs: 3_600_000,
  maxTrackedIps: 100_000,
  sampleIntervalMs: 500,
  maxEventLoopLagMs: 200,
  maxMailboxFill: 0.9,
  maxMemoryUsed: 0.97,
  shedRetryAfterSeconds: 2,
});

export function resolveDdosOptions(input: Partial<DdosOptions> = {}, prefix = 'ddos'): DdosOptions {
  const c = new OptionChecker();
  const d = DEFAULT_DDOS_OPTIONS;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(d, key)) c.problems.push(`unknown option "${prefix}.${key}"`);
  }
  const weightsIn = (input.strikeWeights ?? {}) as Partial<Record<StrikeReason, number>>;
  const weights = {} as Record<StrikeReason, number>;
  for (const r of STRIKE_REASONS) {
    weights[r] = c.number(`${prefix}.strikeWeights.${r}`, weightsIn[r] ?? d.strikeWeights[r], 0, 1_000_000);
  }
  for (const key of Object.keys(weightsIn)) {
    if (!(STRIKE_REASONS as readonly string[]).includes(key))
      c.problems.push(`unknown option "${prefix}.strikeWeights.${key}"`);
  }
  const bansIn = input.banDurationsMs ?? d.banDurationsMs;
  let bans: number[] = [];
  if (!Array.isArray(bansIn) || bansIn.length === 0) {
    c.fail(`${prefix}.banDurationsMs`, 'a non-empty array of durations in ms', bansIn);
  } else {
    bans = bansIn.map((v, i) => c.number(`${prefix}.banDurationsMs[${i}]`, v, 1, 30 * 86_400_000));
  }
  const out: DdosOptions = {
    maxConnectionsPerIp: c.integer(
      `${prefix}.maxConnectionsPerIp`,
      input.maxConnectionsPerIp ?? d.maxConnectionsPerIp,
      1,
      1_000_000,
    ),
    strikesToBan: c.number(`${prefix}.strikesToBan`, input.strikesToBan ?? d.strikesToBan, 1, 1_000_000),
    strikeWeights: weights,
    strikeDecayMs: c.number(`${prefix}.strikeDecayMs`, input.strikeDecayMs ?? d.strikeDecayMs, 1, 86_400_000),
    banDurationsMs: bans,
    offenceMemoryMs: c.number(
      `${prefix}.offenceMemoryMs`,
      input.offenceMemoryMs ?? d.offenceMemoryMs,
      1,
      365 * 86_400_000,
    ),
    maxTrackedIps: c.integer(
      `${prefix}.maxTrackedIps`,
      input.maxTrackedIps ?? d.maxTrackedIps,
      1,
      100_000_000,
    ),
    sampleIntervalMs: c.number(
      `${prefix}.sampleIntervalMs`,
      input.sampleIntervalMs ?? d.sampleIntervalMs,
      10,
      3_600_000,
    ),
    maxEventLoopLagMs: c.number(
      `${prefix}.maxEventLoopLagMs`,
      input.maxEventLoopLagMs ?? d.maxEventLoopLagMs,
      1,
      3_600_000,
    ),
    maxMailboxFill: c.number(`${prefix}.maxMailboxFill`, input.maxMailboxFill ?? d.maxMailboxFill, 0.01, 1),
    maxMemoryUsed: c.number(`${prefix}.maxMemoryUsed`, input.maxMemoryUsed ?? d.maxMemoryUsed, 0.01, 1),
    shedRetryAfterSeconds: c.integer(
      `${prefix}.shedRetryAfterSeconds`,
      input.shedRetryAfterSeconds ?? d.shedRetryAfterSeconds,
      1,
      3600,
    ),
  };
  c.throwIfAny();
  return out;
}

/** Where the load figures come from; both are optional so tests can inject them. */
export interface LoadSources {
  /** Current event-loop delay in ms. @default p99 of `monitorEventLoopDelay` over the last interval */
  eventLoopLagMs?: () => number;
  /** Fill ratio (0..1) of the fullest actor mailbox. @default none (0) */
  mailboxFill?: () => number;
  /** Share (0..1) of the machine's memory in use, from the resource monitor. @default none (0) */
  memoryUsed?: () => number;
}

export interface Ban {
  ip: string;
  /** Clock time the ban ends. */
  until: number;
  /** 1 for a first offence, 2 for the second, … */
  level: number;
  durationMs: number;
}

export interface LoadSample {
  eventLoopLagMs: number;
  mailboxFill: number;
  memoryUsed: number;
  shedding: boolean;
}

interface IpState {
  /** Strikes as of `at`. */
  strikes: number;
  at: number;
  /** Offence level as of `levelAt` (bans so far, net of forgetting). */
  level: number;
  levelAt: number;
}

export class DdosGuard {
  readonly options: Readonly<DdosOptions>;
  private readonly clock: Clock;
  private readonly sources: LoadSources;
  private readonly ips: LRUMap<string, IpState>;
  private readonly bans = new Map<string, number>();
  private readonly connections = new Map<string, number>();
  private readonly banListeners: Array<(ban: Ban) => void> = [];
  private histogram: IntervalHistogram | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private last: LoadSample = { eventLoopLagMs: 0, mailboxFill: 0, memoryUsed: 0, shedding: false };

  constructor(options: Partial<DdosOptions> = {}, clock: Clock = systemClock, sources: LoadSources = {}) {
    this.options = Object.freeze(resolveDdosOptions(options));
    this.clock = clock;
    this.sources = sources;
    this.ips = new LRUMap<string, IpState>(this.options.maxTrackedIps);
  }

  /** Calls `listener` on every new ban (for the audit log). */
  onBan(listener: (ban: Ban) => void): void {
    this.banListeners.push(listener);
  }

  // ---- connections -----------------------------------------------------------------------------

  /**
   * A new connection from `ip`: true when it may proceed (and is counted), false when the address is
   * banned or at its cap (a cap refusal is a strike). Call `onConnectionClose` only for accepted ones.
   */
  onConnectionOpen(ip: string): boolean {
    if (this.isBanned(ip)) return false;
    const n = this.connections.get(ip) ?? 0;
    if (n >= this.options.maxConnectionsPerIp) {
      this.strike(ip, 'connection_cap');
      return false;
    }
    this.connections.set(ip, n + 1);
    return true;
  }

  onConnectionClose(ip: string): void {
    const n = this.connections.get(ip);
    if (n === undefined) return;
    if (n <= 1) this.connections.delete(ip);
    else this.connections.set(ip, n - 1);
  }

  /** Open connections from `ip`. */
  connectionsOf(ip: string): number {
    return this.connections.get(ip) ?? 0;
  }

  // ---- strikes and bans ------------------------------------------------------------------------

  /** Records abuse by `ip`; returns the ban when this strike triggered one. Banned addresses collect no strikes. */
  strike(ip: string, reason: StrikeReason): Ban | undefined {
    if (this.isBanned(ip)) return undefined;
    const now = this.clock.now();
    let s = this.ips.get(ip);
    if (s === undefined) {
      s = { strikes: 0, at: now, level: 0, levelAt: now };
      this.ips.set(ip, s);
    }
    s.strikes = Math.max(0, s.strikes - Math.max(0, now - s.at) / this.options.strikeDecayMs);
    s.at = now;
    s.strikes += this.options.strikeWeights[reason];
    if (s.strikes + 1e-9 < this.options.strikesToBan) return undefined;
    return this.ban(ip, s, now);
  }

  /** Current strikes of `ip` (after decay). */
  strikesOf(ip: string): number {
    const s = this.ips.peek(ip);
    if (s === undefined) return 0;
    return Math.max(0, s.strikes - Math.max(0, this.clock.now() - s.at) / this.options.strikeDecayMs);
  }

  private ban(ip: string, s: IpState, now: number): Ban {
    const forgotten = Math.floor(Math.max(0, now - s.levelAt) / this.options.offenceMemoryMs);
    const level = Math.max(0, s.level - forgotten) + 1;
    s.level = level;
    s.levelAt = now;
    s.strikes = 0;
    const durations = this.options.banDurationsMs;
    const durationMs = durations[Math.min(level, durations.length) - 1] as number;
    const until = now + durationMs;
    this.bans.delete(ip);
    if (this.bans.size >= this.options.maxTrackedIps) {
      const oldest = this.bans.keys().next();
      if (oldest.done !== true) this.bans.delete(oldest.value);
    }
    this.bans.set(ip, until);
    const ban: Ban = { ip, until, level, durationMs };
    for (const listener of this.banListeners) {
      try {
        listener(ban);
      } catch {
        // A listener's failure must not undo the ban.
      }
    }
    return ban;
  }

  isBanned(ip: string): boolean {
    return this.banRemainingMs(ip) > 0;
  }

  /** Milliseconds left of `ip`'s ban, 0 when not banned. */
  banRemainingMs(ip: string): number {
    if (this.bans.size === 0) return 0;
    const until = this.bans.get(ip);
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left <= 0) {
      this.bans.delete(ip);
      return 0;
    }
    return left;
  }

  /** Lifts a ban (an operator's decision); the offence level stays. */
  unban(ip: string): boolean {
    return this.bans.delete(ip);
  }

  /** Bans in force now (expired ones are dropped as they are counted). */
  activeBans(): number {
    const now = this.clock.now();
    for (const [ip, until] of this.bans) if (until <= now) this.bans.delete(ip);
    return this.bans.size;
  }

  // ---- load shedding ---------------------------------------------------------------------------

  /** Starts sampling load on the clock (and the event-loop delay monitor unless a source was injected). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.sources.eventLoopLagMs === undefined) {
      this.histogram = monitorEventLoopDelay({ resolution: 10 });
      this.histogram.enable();
    }
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.sample();
      this.schedule();
    }, this.options.sampleIntervalMs);
  }

  /** Takes one load sample now and decides whether to shed until the next one. */
  sample(): LoadSample {
    let lag = 0;
    if (this.sources.eventLoopLagMs !== undefined) {
      lag = this.sources.eventLoopLagMs();
    } else if (this.histogram !== undefined) {
      // The histogram records the whole timer interval; what is past the resolution is the delay.
      const p99 = this.histogram.percentile(99);
      lag = Number.isFinite(p99) ? Math.max(0, p99 / 1e6 - 10) : 0;
      this.histogram.reset();
    }
    const fill = this.sources.mailboxFill?.() ?? 0;
    const memory = this.sources.memoryUsed?.() ?? 0;
    this.last = {
      eventLoopLagMs: lag,
      mailboxFill: fill,
      memoryUsed: memory,
      shedding:
        lag > this.options.maxEventLoopLagMs ||
        fill >= this.options.maxMailboxFill ||
        memory >= this.options.maxMemoryUsed,
    };
    return this.last;
  }

  /** The last sample. */
  get load(): Readonly<LoadSample> {
    return this.last;
  }

  /** True while the last sample was over a threshold: refuse new work with 503 and `Retry-After`. */
  shouldShed(): boolean {
    return this.last.shedding;
  }
}
