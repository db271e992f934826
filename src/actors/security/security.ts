/**
 * The security layer: what the HTTP server asks on every request, synchronously, before it does any
 * work. One `SecurityLayer` owns the limiter buckets, the abuse state, the key cache and the audit
 * buffer; the security actor (`securityActorSpec`) owns its lifecycle (timers start with the actor
 * and the buffers are flushed when it stops) and handles key management and audit reads.
 *
 * `admit` runs, in order:
 * 1. the rate limit of the client address (public routes: the default limit; other routes: a higher
 *    pre-authentication ceiling, so one address cannot flood the key checks);
 * 2. the ban check (an address banned for repeated abuse);
 * 3. load shedding (not for public routes: health, readiness and metrics must answer under load);
 * 4. authentication (`Authorization: Bearer jmy_<id>_<secret>`; 401 with `WWW-Authenticate: Bearer`,
 *    RFC 6750 section 3);
 * 5. the key's own rate limit;
 * 6. the route's scope (403 with `error="insufficient_scope"`, RFC 6750 section 3.1).
 * Every refusal is counted in `jamey_security_refusals_total{reason}` and written to the audit log.
 */
import type { Database as Db } from 'better-sqlite3';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ActorContext, ActorRef, ActorSpec, Behavior } from '../../runtime/actor.js';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { type ErrorCode, JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import { OptionChecker } from '../../runtime/options.js';
import type { Pruner, Store, WriteHandler } from '../store/store.js';
import {
  type AuditEntry,
  AuditLog,
  type AuditOptions,
  type AuditQuery,
  type AuditRecord,
  auditPruner,
  auditPrunerAt,
  auditWriters,
  resolveAuditOptions,
} from './audit.js';
import { type Ban, DdosGuard, type DdosOptions, type LoadSources, type StrikeReason } from './ddos.js';
import {
  type ApiKeyInfo,
  bearerToken,
  type CreatedKey,
  type CreateKeyInput,
  hasScope,
  KeyManager,
  type KeyOptions,
  keyWriters,
  type Scope,
} from './keys.js';
import {
  checkRateLimit,
  type RateLimit,
  type RateLimitDecision,
  RateLimiter,
  type RateLimiterOptions,
  rateLimitHeaders,
} from './rate-limiter.js';

export const REFUSAL_REASONS = [
  'rate_limited',
  'banned',
  'unauthenticated',
  'forbidden',
  'shed',
  'connection_cap',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface SecurityOptions {
  /** Per-key buckets (and per-address buckets of public routes). */
  rateLimit: Partial<RateLimiterOptions>;
  /** Per-address ceiling checked before authentication on non-public routes. @default { rps: 100, burst: 200 } */
  preAuthIpLimit: RateLimit;
  /** Connection cap, strikes and bans, load shedding. */
  ddos: Partial<DdosOptions>;
  /** Key cache, last-use writes, rotation grace. */
  keys: Partial<KeyOptions>;
  /** Audit buffer and retention. */
  audit: Partial<AuditOptions>;
  /** The realm in `WWW-Authenticate`. @default 'jamey' */
  realm: string;
}

export const DEFAULT_PRE_AUTH_IP_LIMIT: Readonly<RateLimit> = Object.freeze({ rps: 100, burst: 200 });

export interface SecurityDeps {
  store: Store;
  /** @default systemClock */
  clock?: Clock;
  /** Where the security metrics go (the runtime's registry). @default a private registry */
  registry?: Registry;
  log?: Logger;
  /** Fill ratio (0..1) of the fullest actor mailbox; see `maxMailboxFill`. */
  mailboxFill?: () => number;
  /** Share (0..1) of the machine's memory in use (the resource monitor's); see `maxMemoryUsed`. */
  memoryUsed?: () => number;
  /** Event-loop delay in ms. @default sampled from `perf_hooks.monitorEventLoopDelay` */
  eventLoopLagMs?: () => number;
  options?: Partial<SecurityOptions>;
}

/** Who is making a request. */
export interface Principal {
  /** The API key id; null on public routes. */
  keyId: string | null;
  /** What caches and quotas are scoped by: the key id, or `ip:<address>` when unauthenticated. */
  tenant: string;
  scopes: readonly Scope[];
}

export interface AdmitRequest {
  /** The client address (the HTTP layer decides whether to trust proxy headers). */
  ip: string;
  method: string;
  /** The route pattern (bounded set), not the raw URL. */
  route: string;
  /** The `Authorization` header. */
  authorization?: string | null | undefined;
  /** The scope the route needs; null for a public route (healthz, readyz, metrics). */
  scope: Scope | null;
}

export type Admission =
  | { ok: true; principal: Principal; headers: Record<string, string> }
  | { ok: false; reason: RefusalReason; error: JameyError; headers: Record<string, string> };

/** Headers for every response. */
export interface SecurityHeaderOptions {
  /** `Cache-Control: no-store` (API responses must not be cached by intermediaries). @default true */
  noStore?: boolean;
}

/**
 * Response headers for every answer: the set the OWASP "REST Security Cheat Sheet" lists for an API
 * (its other entries, Content-Type and HSTS, come from the route and the TLS terminator): no MIME
 * sniffing, no framing (CSP `frame-ancestors` and, for older browsers, X-Frame-Options), a CSP that
 * allows nothing (an API serves no active content), and no caching by intermediaries. Headers meant
 * for documents (Referrer-Policy, CORP) are left out: every header costs every client on every
 * response.
 */
export function securityHeaders(options: SecurityHeaderOptions = {}): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  };
  if (options.noStore !== false) headers['Cache-Control'] = 'no-store';
  return headers;
}

/** The fill ratio of the fullest mailbox of an actor system (`runtime.system`). */
export function maxMailboxFill(system: {
  hosts(): Iterable<{ mailbox: { size: number; capacity: number } }>;
}): () => number {
  return () => {
    let max = 0;
    for (const h of system.hosts()) {
      const cap = h.mailbox.capacity;
      if (cap > 0) {
        const f = h.mailbox.size / cap;
        if (f > max) max = f;
      }
    }
    return max;
  };
}

/** The store writers of the security domain; register as `writers: { security: securityWriters }`. */
export function securityWriters(db: Db): Record<string, WriteHandler> {
  return { ...keyWriters(db), ...auditWriters(db) };
}

/** The store pruner of the security domain (old audit rows). */
export function securityPruner(options: Partial<AuditOptions> = {}, clock: Clock = systemClock): Pruner {
  return auditPruner(resolveAuditOptions(options).retentionMs, clock);
}

/**
 * The same pruner for a store whose writer runs on its own thread (no clock crosses a thread): it
 * prunes against the time it is given, which the store takes from the security clock
 * (`time: 'clock'` in its `thread.pruners`).
 */
export function securityPrunerAt(options: Partial<AuditOptions> = {}): Pruner {
  return auditPrunerAt(resolveAuditOptions(options).retentionMs);
}

const REASON_ERRORS: Record<RefusalReason, ErrorCode> = {
  rate_limited: 'JAMEY_ERR_RATE_LIMITED',
  banned: 'JAMEY_ERR_BANNED',
  unauthenticated: 'JAMEY_ERR_UNAUTHENTICATED',
  forbidden: 'JAMEY_ERR_FORBIDDEN',
  shed: 'JAMEY_ERR_OVERLOADED',
  connection_cap: 'JAMEY_ERR_RATE_LIMITED',
};

export class SecurityLayer {
  readonly limiter: RateLimiter;
  readonly ddos: DdosGuard;
  readonly keys: KeyManager;
  readonly audit: AuditLog;
  readonly registry: Registry;
  readonly preAuthIpLimit: Readonly<RateLimit>;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly realm: string;
  private readonly refusals: Record<RefusalReason, Counter.Internal>;
  private readonly auditFailures: Counter;
  private touchTimer: unknown;
  private running = false;

  constructor(deps: SecurityDeps) {
    const o = deps.options ?? {};
    const c = new OptionChecker();
    const known = ['rateLimit', 'preAuthIpLimit', 'ddos', 'keys', 'audit', 'realm'];
    for (const key of Object.keys(o))
      if (!known.includes(key)) c.problems.push(`unknown option "security.${key}"`);
    this.preAuthIpLimit = Object.freeze(
      checkRateLimit(c, 'security.preAuthIpLimit', o.preAuthIpLimit ?? DEFAULT_PRE_AUTH_IP_LIMIT),
    );
    this.realm = c.string('security.realm', o.realm ?? 'jamey');
    if (/["\\]/.test(this.realm)) c.fail('security.realm', 'a string without quotes or backslashes', o.realm);
    c.throwIfAny();

    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.registry = deps.registry ?? new Registry();
    this.limiter = new RateLimiter(o.rateLimit, this.clock);
    const sources: LoadSources = {};
    if (deps.eventLoopLagMs !== undefined) sources.eventLoopLagMs = deps.eventLoopLagMs;
    if (deps.mailboxFill !== undefined) sources.mailboxFill = deps.mailboxFill;
    if (deps.memoryUsed !== undefined) sources.memoryUsed = deps.memoryUsed;
    this.ddos = new DdosGuard(o.ddos, this.clock, sources);
    const registers = [this.registry];
    const refusals = new Counter({
      name: 'jamey_security_refusals_total',
      help: 'Requests and connections refused by the security layer, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    this.refusals = {} as Record<RefusalReason, Counter.Internal>;
    for (const r of REFUSAL_REASONS) {
      // Every reason is exported from the start (at 0), so rate() sees the first refusal.
      refusals.inc({ reason: r }, 0);
      this.refusals[r] = refusals.labels({ reason: r });
    }
    this.auditFailures = new Counter({
      name: 'jamey_security_audit_failures_total',
      help: 'Audit entries that could not be written (store failure or buffer full).',
      registers,
    });
    const ddos = this.ddos;
    new Gauge({
      name: 'jamey_security_bans_active',
      help: 'Client addresses banned now.',
      registers,
      collect() {
        this.set(ddos.activeBans());
      },
    });
    new Gauge({
      name: 'jamey_security_shedding',
      help: '1 while the layer sheds load (event-loop delay or mailbox fill past its threshold).',
      registers,
      collect() {
        this.set(ddos.shouldShed() ? 1 : 0);
      },
    });
    this.audit = new AuditLog({
      store: deps.store,
      clock: this.clock,
      ...(deps.log === undefined ? {} : { log: deps.log }),
      ...(o.audit === undefined ? {} : { options: o.audit }),
      onFailure: (n) => this.auditFailures.inc(n),
    });
    this.keys = new KeyManager({
      store: deps.store,
      clock: this.clock,
      ...(deps.log === undefined ? {} : { log: deps.log }),
      ...(o.keys === undefined ? {} : { options: o.keys }),
    });
    this.ddos.onBan((ban: Ban) => {
      this.log?.warn('client address banned', { ip: ban.ip, level: ban.level, ms: ban.durationMs });
      this.audit.record({
        actor: `ip:${ban.ip}`,
        action: 'ip.ban',
        target: ban.ip,
        outcome: 'banned',
        details: { level: ban.level, durationMs: ban.durationMs, until: ban.until },
      });
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Starts the load sampler, the audit flush and the last-use writes (called by the actor). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.ddos.start();
    this.audit.start();
    const every = Math.max(1000, Math.min(this.keys.options.touchIntervalMs, 60_000));
    const tick = (): void => {
      this.touchTimer = this.clock.setTimeout(() => {
        if (!this.running) return;
        void this.keys.flushTouches();
        tick();
      }, every);
    };
    tick();
  }

  /** Stops the timers and writes what is buffered (audit entries, last-use times). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.touchTimer !== undefined) this.clock.clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    this.ddos.stop();
    await Promise.all([this.audit.stop(), this.keys.flushTouches()]);
  }

  /** Writes buffered audit entries and last-use times now. */
  async flush(): Promise<void> {
    await Promise.all([this.audit.flush(), this.keys.flushTouches()]);
  }

  // ---- the request path ------------------------------------------------------------------------

  /** Decides whether a request may proceed; synchronous (no I/O for known keys). */
  admit(req: AdmitRequest): Admission {
    const { ip, scope } = req;
    const isPublic = scope === null;
    const ipDecision = isPublic
      ? this.limiter.take(`ip:${ip}`)
      : this.limiter.take(`pre:${ip}`, this.preAuthIpLimit);
    if (!ipDecision.allowed) {
      this.ddos.strike(ip, 'rate_limited');
      return this.refuse(req, null, 'rate_limited', rateLimitHeaders(ipDecision), {
        bucket: isPublic ? 'ip' : 'pre-auth-ip',
      });
    }
    const banMs = this.ddos.banRemainingMs(ip);
    if (banMs > 0) {
      return this.refuse(req, null, 'banned', {
        'Retry-After': String(Math.max(1, Math.ceil(banMs / 1000))),
      });
    }
    if (isPublic) {
      return {
        ok: true,
        principal: { keyId: null, tenant: `ip:${ip}`, scopes: [] },
        headers: rateLimitHeaders(ipDecision),
      };
    }
    if (this.ddos.shouldShed()) {
      return this.refuse(req, null, 'shed', {
        'Retry-After': String(this.ddos.options.shedRetryAfterSeconds),
      });
    }
    const token = bearerToken(req.authorization);
    if (token === undefined) {
      return this.refuse(req, null, 'unauthenticated', {
        'WWW-Authenticate': `Bearer realm="${this.realm}"`,
      });
    }
    const v = this.keys.verify(token);
    if (!v.ok) {
      return this.refuse(
        req,
        null,
        'unauthenticated',
        { 'WWW-Authenticate': `Bearer realm="${this.realm}", error="invalid_token"` },
        { why: v.reason },
      );
    }
    const key = v.key;
    const keyDecision = this.limiter.take(
      `key:${key.id}`,
      key.rateLimit ?? this.limiter.options.defaultLimit,
    );
    const headers = rateLimitHeaders(keyDecision);
    if (!keyDecision.allowed) {
      this.ddos.strike(ip, 'rate_limited');
      return this.refuse(req, key.id, 'rate_limited', headers, { bucket: 'key' });
    }
    if (!hasScope(key.scopes, scope)) {
      headers['WWW-Authenticate'] =
        `Bearer realm="${this.realm}", error="insufficient_scope", scope="${scope}"`;
      return this.refuse(req, key.id, 'forbidden', headers, { required: scope });
    }
    return { ok: true, principal: { keyId: key.id, tenant: key.id, scopes: key.scopes }, headers };
  }

  private refuse(
    req: AdmitRequest,
    keyId: string | null,
    reason: RefusalReason,
    headers: Record<string, string>,
    extra?: Record<string, unknown>,
  ): Admission {
    const error = new JameyError(REASON_ERRORS[reason], refusalMessage(reason));
    this.refusals[reason].inc();
    this.audit.record({
      actor: keyId === null ? `ip:${req.ip}` : `key:${keyId}`,
      action: 'request.refused',
      target: req.route,
      outcome: reason,
      details: { method: req.method, ip: req.ip, status: error.status, ...extra },
    });
    return { ok: false, reason, error, headers };
  }

  // ---- connections and abuse reports from the HTTP layer ---------------------------------------

  /**
   * A new connection: true to accept it. False when the address is banned or over its connection
   * cap (counted and audited); close the socket (or answer 429) and do not call `onConnectionClose`.
   */
  onConnectionOpen(ip: string): boolean {
    if (this.ddos.onConnectionOpen(ip)) return true;
    const banned = this.ddos.isBanned(ip);
    const reason: RefusalReason = banned ? 'banned' : 'connection_cap';
    this.refusals[reason].inc();
    this.audit.record({
      actor: `ip:${ip}`,
      action: 'connection.refused',
      target: ip,
      outcome: reason,
      details: banned
        ? null
        : { open: this.ddos.connectionsOf(ip), cap: this.ddos.options.maxConnectionsPerIp },
    });
    return false;
  }

  onConnectionClose(ip: string): void {
    this.ddos.onConnectionClose(ip);
  }

  /** The error to answer a refused connection with, if the HTTP layer answers rather than closes. */
  connectionRefusal(ip: string): { error: JameyError; headers: Record<string, string> } {
    const banMs = this.ddos.banRemainingMs(ip);
    if (banMs > 0) {
      return {
        error: new JameyError('JAMEY_ERR_BANNED'),
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(banMs / 1000))) },
      };
    }
    return {
      error: new JameyError('JAMEY_ERR_RATE_LIMITED', 'too many connections from this address'),
      headers: { 'Retry-After': '1' },
    };
  }

  /** Reports abuse seen by the HTTP layer (an oversized body, a request too slow to arrive). */
  strike(ip: string, reason: StrikeReason): void {
    this.ddos.strike(ip, reason);
  }

  isBanned(ip: string): boolean {
    return this.ddos.isBanned(ip);
  }

  /** True while the server should refuse new work (503 with `Retry-After: shedRetryAfterSeconds`). */
  shouldShed(): boolean {
    return this.ddos.shouldShed();
  }

  /** Records an admin action (the HTTP layer calls this for admin routes); buffered like refusals. */
  auditAdmin(
    principal: Principal,
    action: string,
    target: string | null,
    outcome: string,
    details?: Record<string, unknown>,
  ): void {
    this.audit.record({
      actor: principal.keyId === null ? principal.tenant : `key:${principal.keyId}`,
      action: action.startsWith('admin.') ? action : `admin.${action}`,
      target,
      outcome,
      details: details ?? null,
    });
  }
}

function refusalMessage(reason: RefusalReason): string | undefined {
  switch (reason) {
    case 'rate_limited':
      return 'Too many requests: rate limit exceeded';
    case 'connection_cap':
      return 'too many connections from this address';
    case 'unauthenticated':
      return 'Missing or invalid API key';
    default:
      return undefined;
  }
}

// ---- the actor -----------------------------------------------------------------------------------

export const SECURITY_ACTOR = 'security';

/** `by`: the principal making a key change (`key:<id>`), for the audit log. @default 'system' */
export type SecurityMessage =
  | { op: 'keys.create'; input: CreateKeyInput; by?: string }
  | { op: 'keys.list'; limit?: number }
  | { op: 'keys.get'; id: string }
  | { op: 'keys.rotate'; id: string; graceMs?: number; by?: string }
  | { op: 'keys.revoke'; id: string; by?: string }
  | { op: 'keys.bootstrap'; dataDir: string }
  | { op: 'audit.list'; query?: AuditQuery }
  | { op: 'audit.record'; entry: AuditEntry }
  | { op: 'flush' };

/**
 * The supervised actor owning `layer`: starts its timers, flushes it on stop, and serves key
 * management and audit messages (one at a time, so key changes are serialised).
 */
export function securityActorSpec(layer: SecurityLayer): ActorSpec<SecurityMessage, unknown> {
  return {
    name: SECURITY_ACTOR,
    dependsOn: ['store'],
    mailbox: { capacity: 1000 },
    start(_ctx: ActorContext): Behavior<SecurityMessage, unknown> {
      layer.start();
      return {
        receive(msg) {
          switch (msg.op) {
            case 'keys.create':
              return layer.keys.create(msg.input, msg.by ?? 'system');
            case 'keys.list':
              return layer.keys.list(msg.limit);
            case 'keys.get':
              return layer.keys.get(msg.id);
            case 'keys.rotate':
              return layer.keys.rotate(
                msg.id,
                msg.graceMs === undefined ? {} : { graceMs: msg.graceMs },
                msg.by ?? 'system',
              );
            case 'keys.revoke':
              return layer.keys.revoke(msg.id, msg.by ?? 'system');
            case 'keys.bootstrap':
              return layer.keys.ensureAdminKey(msg.dataDir);
            case 'audit.list':
              return layer.audit.list(msg.query);
            case 'audit.record':
              return layer.audit.write(msg.entry);
            case 'flush':
              return layer.flush();
            default:
              throw new JameyError(
                'JAMEY_ERR_VALIDATION',
                `unknown security operation "${(msg as { op: string }).op}"`,
              );
          }
        },
        stop() {
          return layer.stop();
        },
      };
    },
  };
}

/** Typed asks to the security actor. */
export class SecurityClient {
  constructor(private readonly ref: ActorRef<SecurityMessage, unknown>) {}

  createKey(input: CreateKeyInput, by?: string): Promise<CreatedKey> {
    return this.ref.ask(
      by === undefined ? { op: 'keys.create', input } : { op: 'keys.create', input, by },
    ) as Promise<CreatedKey>;
  }

  listKeys(limit?: number): Promise<ApiKeyInfo[]> {
    return this.ref.ask(limit === undefined ? { op: 'keys.list' } : { op: 'keys.list', limit }) as Promise<
      ApiKeyInfo[]
    >;
  }

  getKey(id: string): Promise<ApiKeyInfo> {
    return this.ref.ask({ op: 'keys.get', id }) as Promise<ApiKeyInfo>;
  }

  rotateKey(
    id: string,
    options: { graceMs?: number; by?: string } = {},
  ): Promise<CreatedKey & { old: ApiKeyInfo }> {
    const msg: SecurityMessage = { op: 'keys.rotate', id };
    if (options.graceMs !== undefined) msg.graceMs = options.graceMs;
    if (options.by !== undefined) msg.by = options.by;
    return this.ref.ask(msg) as Promise<CreatedKey & { old: ApiKeyInfo }>;
  }

  revokeKey(id: string, by?: string): Promise<ApiKeyInfo> {
    return this.ref.ask(
      by === undefined ? { op: 'keys.revoke', id } : { op: 'keys.revoke', id, by },
    ) as Promise<ApiKeyInfo>;
  }

  /** First start only: the admin key to print once, else undefined. */
  ensureAdminKey(dataDir: string): Promise<{ id: string; token: string; file: string } | undefined> {
    return this.ref.ask({ op: 'keys.bootstrap', dataDir }) as Promise<
      { id: string; token: string; file: string } | undefined
    >;
  }

  auditLog(query?: AuditQuery): Promise<AuditRecord[]> {
    return this.ref.ask(query === undefined ? { op: 'audit.list' } : { op: 'audit.list', query }) as Promise<
      AuditRecord[]
    >;
  }

  /** Writes an audit entry now (resolves once committed, or counted as lost). */
  recordAudit(entry: AuditEntry): Promise<void> {
    return this.ref.ask({ op: 'audit.record', entry }) as Promise<void>;
  }

  flush(): Promise<void> {
    return this.ref.ask({ op: 'flush' }) as Promise<void>;
  }
}

export type { RateLimitDecision };
